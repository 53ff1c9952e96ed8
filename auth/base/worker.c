/*
 * worker.c - one thread, woken or ticking (see worker.h).
 *
 * Concurrency: a wake is a post on the semaphore `wake` (sem_post is
 * async-signal-safe, a mutex is not); the thread drains the posts that
 * piled up before each run. `stopping` is set before the last post and read
 * by the thread after each wait. run() is the thread's alone.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdbool.h>
#include <time.h>

#include <glib.h>

#include "auth/base/clock.h"
#include "auth/base/worker.h"

struct worker {
	GThread *thread;
	sem_t wake;
	int stopping;		/* atomic */
	double period;
	void (*run)(void *arg);
	void *arg;
};

/* Until woken, or the next tick when there is a period. */
static void wait_turn(struct worker *w)
{
	double at = clock_now() + w->period;
	struct timespec tick;

	if (w->period <= 0) {
		while (sem_wait(&w->wake) < 0 && errno == EINTR)
			;
		return;
	}
	/* clock_now() is CLOCK_MONOTONIC */
	tick.tv_sec = (time_t)at;
	tick.tv_nsec = (long)((at - (double)tick.tv_sec) * 1e9);
	while (sem_clockwait(&w->wake, CLOCK_MONOTONIC, &tick) < 0 &&
	       errno == EINTR)
		;
}

static gpointer loop(gpointer data)
{
	struct worker *w = data;

	for (;;) {
		wait_turn(w);
		if (g_atomic_int_get(&w->stopping))
			break;
		while (sem_trywait(&w->wake) == 0)
			;
		w->run(w->arg);
	}
	return NULL;
}

/* NULL when the thread cannot be made. */
struct worker *worker_start(const char *name, void (*run)(void *arg),
			    void *arg, double period)
{
	struct worker *w = g_new0(struct worker, 1);

	sem_init(&w->wake, 0, 0);
	w->run = run;
	w->arg = arg;
	w->period = period;
	w->thread = g_thread_try_new(name, loop, w, NULL);
	if (!w->thread) {
		sem_destroy(&w->wake);
		g_free(w);
		return NULL;
	}
	return w;
}

/* Accepts NULL. */
void worker_wake(struct worker *w)
{
	if (w)
		sem_post(&w->wake);
}

/* Accepts NULL; a run in progress finishes first, and none starts after. */
void worker_stop(struct worker *w)
{
	if (!w)
		return;
	g_atomic_int_set(&w->stopping, 1);
	sem_post(&w->wake);
	g_thread_join(w->thread);
	sem_destroy(&w->wake);
	g_free(w);
}
