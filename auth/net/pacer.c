/*
 * pacer.c - sliding windows and server feedback per API key.
 *
 * Concurrency: the registry of pacers is a hash table under `registry_lock`;
 * pacers are never freed before pacer_cleanup() at exit, so pointers stay
 * valid. Each pacer's windows, block and statistics are under its own
 * `lock`, which is never held while sleeping: a waiting thread computes when
 * a slot frees up, sleeps without the lock (at most WAIT_STEP at a time) and
 * looks again, so no thread can take another's slot for long.
 *
 * Margins: the server counts calls when they arrive, we count them when they
 * leave, so our windows are a little longer than the server's (WINDOW_*).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "auth/base/clock.h"
#include "auth/net/pacer.h"

#define WINDOW_SECOND 1.15
#define WINDOW_HOUR 3630.0
#define WAIT_STEP 0.05
#define BACKOFF_FIRST 1.0
#define BACKOFF_CAP 60.0
#define BLOCK_CAP 3600.0

/* A FIFO of call times within one window. */
struct window {
	double *stamps;
	unsigned int cap;	/* the limit; 0: unlimited */
	unsigned int head, count;
	double span;
};

struct pacer {
	char *key;
	pthread_mutex_t lock;
	struct window second;	/* protected by lock */
	struct window hour;	/* protected by lock */
	double blocked_until;	/* protected by lock */
	double backoff;		/* protected by lock */
	unsigned long waits;	/* protected by lock */
	double waited;		/* protected by lock */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
/* key -> struct pacer; protected by registry_lock */
static GHashTable *registry;

static void window_init(struct window *w, unsigned int cap, double span)
{
	memset(w, 0, sizeof(*w));
	w->cap = cap;
	w->span = span;
	if (cap > 0)
		w->stamps = g_new0(double, cap);
}

static void window_expire(struct window *w, double now)
{
	while (w->count && w->stamps[w->head] <= now - w->span) {
		w->head = (w->head + 1) % w->cap;
		w->count--;
	}
}

/* When the next call may go: now, or when the oldest call leaves. */
static double window_free_at(const struct window *w, double now)
{
	if (w->cap == 0 || w->count < w->cap)
		return now;
	return w->stamps[w->head] + w->span;
}

static void window_record(struct window *w, double now)
{
	if (w->cap == 0)
		return;
	w->stamps[(w->head + w->count) % w->cap] = now;
	w->count++;
}

static struct pacer *pacer_new(const char *key, unsigned int per_second,
			       unsigned int per_hour)
{
	struct pacer *p = g_new0(struct pacer, 1);

	p->key = g_strdup(key);
	window_init(&p->second, per_second, WINDOW_SECOND);
	window_init(&p->hour, per_hour, WINDOW_HOUR);
	pthread_mutex_init(&p->lock, NULL);
	p->backoff = BACKOFF_FIRST;
	return p;
}

static void pacer_free(gpointer data)
{
	struct pacer *p = data;

	g_free(p->second.stamps);
	g_free(p->hour.stamps);
	g_free(p->key);
	pthread_mutex_destroy(&p->lock);
	g_free(p);
}

struct pacer *pacer_get(const char *key, unsigned int per_second,
			unsigned int per_hour)
{
	struct pacer *p;

	pthread_mutex_lock(&registry_lock);
	if (!registry)
		registry = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						 pacer_free);
	p = g_hash_table_lookup(registry, key);
	if (!p) {
		p = pacer_new(key, per_second, per_hour);
		g_hash_table_insert(registry, p->key, p);
	}
	pthread_mutex_unlock(&registry_lock);
	return p;
}

static double max3(double a, double b, double c)
{
	double m = a > b ? a : b;

	return m > c ? m : c;
}

/*
 * Takes a slot for one call: 0, or -EAGAIN when none frees up before the
 * deadline (monotonic seconds).
 */
int pacer_acquire(struct pacer *p, double deadline)
{
	bool counted = false;
	double now, at, start = clock_now();

	pthread_mutex_lock(&p->lock);
	for (;;) {
		now = clock_now();
		window_expire(&p->second, now);
		window_expire(&p->hour, now);
		at = max3(p->blocked_until, window_free_at(&p->second, now),
			  window_free_at(&p->hour, now));
		if (at <= now)
			break;
		if (at > deadline) {
			p->waited += now - start;
			pthread_mutex_unlock(&p->lock);
			return -EAGAIN;
		}
		if (!counted) {
			p->waits++;
			counted = true;
		}
		pthread_mutex_unlock(&p->lock);
		clock_sleep(at - now < WAIT_STEP ? at - now : WAIT_STEP);
		pthread_mutex_lock(&p->lock);
	}
	window_record(&p->second, now);
	window_record(&p->hour, now);
	p->waited += now - start;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Blocks the key until `pause` seconds from now, unless it is blocked longer. */
static void pacer_block(struct pacer *p, double pause)
{
	double until = clock_now() + pause;

	if (until > p->blocked_until)
		p->blocked_until = until;
}

/* A throttling answer: block the key, for Retry-After or a growing backoff. */
void pacer_throttled(struct pacer *p, long retry_after_s)
{
	pthread_mutex_lock(&p->lock);
	if (retry_after_s > 0) {
		pacer_block(p, retry_after_s < BLOCK_CAP ? (double)retry_after_s
							 : BLOCK_CAP);
	} else {
		pacer_block(p, p->backoff);
		p->backoff = p->backoff * 2 < BACKOFF_CAP ? p->backoff * 2
							  : BACKOFF_CAP;
	}
	pthread_mutex_unlock(&p->lock);
}

/* A normal answer; X-RateLimit-Remaining 0 blocks until its Reset. */
void pacer_succeeded(struct pacer *p, long remaining, long reset_unix)
{
	double until;

	pthread_mutex_lock(&p->lock);
	p->backoff = BACKOFF_FIRST;
	if (remaining == 0 && reset_unix > 0) {
		until = (double)(reset_unix - clock_wall_ms() / 1000);
		if (until > BLOCK_CAP)
			until = BLOCK_CAP;
		if (until > 0)
			pacer_block(p, until);
	}
	pthread_mutex_unlock(&p->lock);
}

void pacer_stats(struct pacer *p, struct pacer_stats *st)
{
	pthread_mutex_lock(&p->lock);
	window_expire(&p->hour, clock_now());
	st->calls_this_hour = p->hour.count;
	st->waits = p->waits;
	st->waited_s = p->waited;
	pthread_mutex_unlock(&p->lock);
}

/* At exit, after every thread that used a pacer is gone. */
void pacer_cleanup(void)
{
	pthread_mutex_lock(&registry_lock);
	if (registry)
		g_hash_table_destroy(registry);
	registry = NULL;
	pthread_mutex_unlock(&registry_lock);
}
