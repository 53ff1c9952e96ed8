/*
 * worker.c - one thread, woken or ticking (see worker.h).
 *
 * Concurrency: `lock` protects `woken` and `stopping`; run() is called
 * without it. worker_stop() sets `stopping`, wakes the thread and joins it:
 * a run in progress finishes first, and none starts after.
 */
#include <stdbool.h>

#include <glib.h>

#include "auth/base/worker.h"

struct worker {
	GThread *thread;
	GMutex lock;
	GCond wake;
	bool woken;		/* protected by lock */
	bool stopping;		/* protected by lock */
	double period;
	void (*run)(void *arg);
	void *arg;
};

/* With the lock held: until woken, stopping, or the next tick. */
static void wait_turn(struct worker *w)
{
	gint64 tick = g_get_monotonic_time() +
		      (gint64)(w->period * G_USEC_PER_SEC);

	while (!w->woken && !w->stopping) {
		if (w->period <= 0)
			g_cond_wait(&w->wake, &w->lock);
		else if (!g_cond_wait_until(&w->wake, &w->lock, tick))
			break;
	}
}

static gpointer loop(gpointer data)
{
	struct worker *w = data;

	g_mutex_lock(&w->lock);
	for (;;) {
		wait_turn(w);
		if (w->stopping)
			break;
		w->woken = false;
		g_mutex_unlock(&w->lock);
		w->run(w->arg);
		g_mutex_lock(&w->lock);
	}
	g_mutex_unlock(&w->lock);
	return NULL;
}

/* NULL when the thread cannot be made. */
struct worker *worker_start(const char *name, void (*run)(void *arg),
			    void *arg, double period)
{
	struct worker *w = g_new0(struct worker, 1);

	g_mutex_init(&w->lock);
	g_cond_init(&w->wake);
	w->run = run;
	w->arg = arg;
	w->period = period;
	w->thread = g_thread_try_new(name, loop, w, NULL);
	if (!w->thread) {
		g_cond_clear(&w->wake);
		g_mutex_clear(&w->lock);
		g_free(w);
		return NULL;
	}
	return w;
}

void worker_wake(struct worker *w)
{
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->woken = true;
	g_cond_signal(&w->wake);
	g_mutex_unlock(&w->lock);
}

/* Accepts NULL. */
void worker_stop(struct worker *w)
{
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->stopping = true;
	g_cond_signal(&w->wake);
	g_mutex_unlock(&w->lock);
	g_thread_join(w->thread);
	g_cond_clear(&w->wake);
	g_mutex_clear(&w->lock);
	g_free(w);
}
