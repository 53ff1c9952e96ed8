/*
 * pacer.c - sliding windows and server feedback per API key.
 *
 * Concurrency: the registry of pacers is a hash table under `registry_lock`;
 * pacers are never freed before pacer_cleanup() at exit, so pointers stay
 * valid. Each pacer's windows, block, waiters and statistics are under its
 * own `lock`, which is never held while sleeping or calling back: a waiting
 * thread computes when a slot frees up for its class, sleeps without the
 * lock (at most WAIT_STEP at a time), asks whether it was cancelled and
 * looks again, so no thread can take another's slot for long.
 *
 * Classes: every call counts in the windows of all calls; a background call
 * also counts in the background windows, whose caps are the share. While a
 * foreground call waits (`fg_waiting`), a background call that finds a slot
 * free leaves it: the foreground call, which looks again within WAIT_STEP,
 * takes it. Foreground calls never look at the background windows, so the
 * rest of each window (the reserve) is always theirs.
 *
 * Margins: the server counts calls when they arrive, we count them when they
 * leave, so our windows are a little longer than the server's (WINDOW_*).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "auth/base/clock.h"
#include "auth/net/pacer.h"

#define WINDOW_SECOND 1.15
#define WINDOW_MARGIN_MIN 0.5	/* s the long window outlasts the server's */
#define WINDOW_MARGIN_PART 120	/* ... or 1/120 of it (30 s of an hour) */
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
	struct window second;	/* protected by lock: every call */
	struct window hour;	/* protected by lock: every call */
	struct window bg_second;	/* protected by lock: background calls */
	struct window bg_hour;	/* protected by lock: background calls */
	double blocked_until;	/* protected by lock */
	double backoff;		/* protected by lock */
	unsigned int fg_waiting;	/* protected by lock */
	unsigned int bg_waiting;	/* protected by lock: for quota */
	int64_t bg_until;	/* protected by lock: epoch s; 0: none waits */
	unsigned long waits;	/* protected by lock */
	double waited;		/* protected by lock */
};

/* A call waiting for its slot, and what it counts in the pacer. */
struct waiter {
	bool background;
	bool counted;		/* in waits */
	bool queued;		/* in fg_waiting or bg_waiting */
	double start;
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

/* Background calls a window of `limit` allows: at least one; 0: unlimited. */
unsigned long pacer_background_cap(unsigned int limit, unsigned int share)
{
	unsigned long cap = (unsigned long)limit * share / 100;

	if (limit == 0)
		return 0;
	return cap > 0 ? cap : 1;
}

static struct pacer *pacer_new(const char *key, const struct pacer_limits *lim)
{
	struct pacer *p = g_new0(struct pacer, 1);
	double margin = lim->window_s / WINDOW_MARGIN_PART;
	double span = lim->window_s + (margin > WINDOW_MARGIN_MIN ?
				       margin : WINDOW_MARGIN_MIN);
	unsigned int share = lim->background_share;

	p->key = g_strdup(key);
	window_init(&p->second, lim->per_second, WINDOW_SECOND);
	window_init(&p->hour, lim->per_window, span);
	window_init(&p->bg_second, pacer_background_cap(lim->per_second, share),
		    WINDOW_SECOND);
	window_init(&p->bg_hour, pacer_background_cap(lim->per_window, share),
		    span);
	pthread_mutex_init(&p->lock, NULL);
	p->backoff = BACKOFF_FIRST;
	return p;
}

static void pacer_free(gpointer data)
{
	struct pacer *p = data;

	g_free(p->second.stamps);
	g_free(p->hour.stamps);
	g_free(p->bg_second.stamps);
	g_free(p->bg_hour.stamps);
	g_free(p->key);
	pthread_mutex_destroy(&p->lock);
	g_free(p);
}

/* The key's pacer; the first caller's limits are the key's. */
struct pacer *pacer_get(const char *key, const struct pacer_limits *lim)
{
	struct pacer *p;

	pthread_mutex_lock(&registry_lock);
	if (!registry)
		registry = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						 pacer_free);
	p = g_hash_table_lookup(registry, key);
	if (!p) {
		p = pacer_new(key, lim);
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

static void expire_all(struct pacer *p, double now)
{
	window_expire(&p->second, now);
	window_expire(&p->hour, now);
	window_expire(&p->bg_second, now);
	window_expire(&p->bg_hour, now);
}

/* With p->lock held: when a call of this class may go. */
static double free_at(struct pacer *p, bool background, double now)
{
	double at;

	expire_all(p, now);
	at = max3(p->blocked_until, window_free_at(&p->second, now),
		  window_free_at(&p->hour, now));
	if (!background)
		return at;
	at = max3(at, window_free_at(&p->bg_second, now),
		  window_free_at(&p->bg_hour, now));
	/* a foreground call that waits goes first */
	if (p->fg_waiting && at < now + WAIT_STEP)
		at = now + WAIT_STEP;
	return at;
}

/*
 * With p->lock held: the waiter sleeps until `at`. A background call that
 * waits longer than the second's window waits for quota: it says until
 * when, moved only by a second or more so that the time holds still.
 */
static void waiter_enter(struct pacer *p, struct waiter *w, double now,
			 double at)
{
	int64_t until;

	if (!w->counted) {
		p->waits++;
		w->counted = true;
	}
	if (!w->background) {
		if (!w->queued)
			p->fg_waiting++;
		w->queued = true;
		return;
	}
	if (at - now <= WINDOW_SECOND)
		return;
	if (!w->queued)
		p->bg_waiting++;
	w->queued = true;
	until = clock_wall_ms() / 1000 + (int64_t)(at - now + 0.999);
	if (llabs(until - p->bg_until) > 1)
		p->bg_until = until;
}

/* With p->lock held: the waiter got its slot, or gave up. */
static void waiter_leave(struct pacer *p, struct waiter *w, double now)
{
	p->waited += now - w->start;
	if (!w->queued)
		return;
	if (!w->background)
		p->fg_waiting--;
	else if (--p->bg_waiting == 0)
		p->bg_until = 0;
}

static bool cancelled(const struct pacer_wait *wait)
{
	return wait && wait->cancelled && wait->cancelled(wait->arg);
}

static void record(struct pacer *p, bool background, double now)
{
	window_record(&p->second, now);
	window_record(&p->hour, now);
	if (!background)
		return;
	window_record(&p->bg_second, now);
	window_record(&p->bg_hour, now);
}

/*
 * Takes a slot for one call: 0; -EAGAIN when none frees up before the
 * deadline (monotonic seconds; HUGE_VAL: none); -ECANCELED when the wait's
 * cancelled() said so.
 */
int pacer_acquire(struct pacer *p, const struct pacer_wait *wait,
		  double deadline)
{
	struct waiter w = { .start = clock_now(),
			    .background = wait && wait->background };
	double now, at;
	int res = 0;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		now = clock_now();
		at = free_at(p, w.background, now);
		if (at <= now)
			break;
		if (at > deadline) {
			res = -EAGAIN;
			break;
		}
		waiter_enter(p, &w, now, at);
		pthread_mutex_unlock(&p->lock);
		if (cancelled(wait))
			res = -ECANCELED;
		else
			clock_sleep(at - now < WAIT_STEP ? at - now : WAIT_STEP);
		pthread_mutex_lock(&p->lock);
		if (res < 0)
			break;
	}
	if (res == 0)
		record(p, w.background, now);
	waiter_leave(p, &w, clock_now());
	pthread_mutex_unlock(&p->lock);
	return res;
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
	expire_all(p, clock_now());
	st->calls_this_hour = p->hour.count;
	st->background_calls = p->bg_hour.count;
	st->reserve = p->hour.cap - p->bg_hour.cap;
	st->waits = p->waits;
	st->waited_s = p->waited;
	st->background_until = p->bg_until;
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
