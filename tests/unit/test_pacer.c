/*
 * test_pacer.c - the two classes of calls: background calls stay within
 * their share of each window, foreground calls keep the reserve and go
 * first, and a background wait ends when it is cancelled.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "check.h"
#include "auth/base/clock.h"
#include "auth/net/pacer.h"

#define LONG_WINDOW 3600.0

static const struct pacer_wait background = { .background = true };

static struct pacer *pacer_for(const char *key, unsigned int per_window,
			       unsigned int share)
{
	struct pacer_limits lim = { .per_second = 0, .per_window = per_window,
				    .window_s = LONG_WINDOW,
				    .background_share = share };

	return pacer_get(key, &lim);
}

/* Now, or not before a deadline that has already passed. */
static int try_now(struct pacer *p, const struct pacer_wait *wait)
{
	return pacer_acquire(p, wait, clock_now());
}

static void test_caps(void)
{
	check(pacer_background_cap(0, 80) == 0);
	check(pacer_background_cap(1000, 80) == 800);
	check(pacer_background_cap(10, 5) == 1);	/* never none */
	check(pacer_background_cap(10, 100) == 10);
}

static void test_share_and_reserve(void)
{
	struct pacer *p = pacer_for("share", 10, 60);
	struct pacer_stats st;
	int i;

	for (i = 0; i < 6; i++)
		check(try_now(p, &background) == 0);
	check(try_now(p, &background) == -EAGAIN);
	/* the reserve is the foreground's */
	for (i = 0; i < 4; i++)
		check(try_now(p, NULL) == 0);
	check(try_now(p, NULL) == -EAGAIN);
	pacer_stats(p, &st);
	check(st.calls_this_hour == 10);
	check(st.background_calls == 6);
	check(st.reserve == 4);
	check(st.background_until == 0);
}

static bool stop_now(void *arg)
{
	(void)arg;
	return true;
}

static void test_cancelled(void)
{
	struct pacer *p = pacer_for("cancel", 2, 50);
	struct pacer_wait stopped = { .background = true, .cancelled = stop_now };

	check(try_now(p, &background) == 0);
	/* the share is spent for an hour: only a cancel ends the wait */
	check(pacer_acquire(p, &stopped, clock_now() + 2 * LONG_WINDOW) ==
	      -ECANCELED);
	check(try_now(p, NULL) == 0);
}

struct race {
	struct pacer *p;
	char order[2];
	int next;
	pthread_mutex_t lock;
};

static void finished(struct race *r, char who)
{
	pthread_mutex_lock(&r->lock);
	r->order[r->next++] = who;
	pthread_mutex_unlock(&r->lock);
}

static void *background_main(void *arg)
{
	struct race *r = arg;

	check(pacer_acquire(r->p, &background, clock_now() + 10) == 0);
	finished(r, 'b');
	return NULL;
}

static bool background_waits(struct pacer *p)
{
	struct pacer_stats st;

	pacer_stats(p, &st);
	return st.background_until != 0;
}

/*
 * A window of one call a second, used: a background call waits for it,
 * then a foreground call arrives. The slot that frees up is the
 * foreground's; the background call has the one after.
 */
static void test_foreground_first(void)
{
	struct pacer_limits lim = { .per_window = 1, .window_s = 1,
				    .background_share = 100 };
	struct race r = { .p = pacer_get("first", &lim) };
	pthread_t bg;

	pthread_mutex_init(&r.lock, NULL);
	check(try_now(r.p, NULL) == 0);
	check(pthread_create(&bg, NULL, background_main, &r) == 0);
	while (!background_waits(r.p))
		clock_sleep(0.01);
	check(pacer_acquire(r.p, NULL, clock_now() + 10) == 0);
	finished(&r, 'f');
	pthread_join(bg, NULL);
	check(r.order[0] == 'f' && r.order[1] == 'b');
	check(!background_waits(r.p));
	pthread_mutex_destroy(&r.lock);
}

int main(void)
{
	test_caps();
	test_share_and_reserve();
	test_cancelled();
	test_foreground_first();
	pacer_cleanup();
	return 0;
}
