/*
 * clock.c - monotonic seconds, wall milliseconds, sleeping and waiting.
 */
#include <errno.h>
#include <time.h>

#include <glib.h>

#include "auth/base/clock.h"

/* Monotonic seconds: for durations and deadlines, never shown. */
double clock_now(void)
{
	return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

/* Epoch milliseconds: the times the store keeps, which other mounts read. */
int64_t clock_wall_ms(void)
{
	return g_get_real_time() / 1000;
}

void clock_sleep(double seconds)
{
	if (seconds > 0)
		g_usleep((gulong)(seconds * G_USEC_PER_SEC));
}

/* A condition variable whose timed waits use the monotonic clock. */
int clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int res;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	res = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return -res;
}

/*
 * Waits on a condition made by clock_cond_init() until it is signalled or
 * the deadline (clock_now() seconds) passes: -ETIMEDOUT then.
 */
int clock_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex,
		    double deadline)
{
	/* g_get_monotonic_time() is CLOCK_MONOTONIC on Linux */
	struct timespec until = {
		.tv_sec = (time_t)deadline,
		.tv_nsec = (long)((deadline - (double)(time_t)deadline) * 1e9),
	};

	return -pthread_cond_timedwait(cond, mutex, &until);
}
