/*
 * worker.h - the one worker-thread helper: a thread that runs a function
 * when woken, and also every `period` seconds when that is above zero,
 * until it is stopped. Wakes that come while it runs are not lost (it runs
 * once more); several wakes before it runs make one run. worker_wake() is
 * async-signal-safe: a signal handler may call it.
 */
#ifndef SPRINKLRFS_WORKER_H
#define SPRINKLRFS_WORKER_H

struct worker;

struct worker *worker_start(const char *name, void (*run)(void *arg),
			    void *arg, double period);
void worker_wake(struct worker *w);
void worker_stop(struct worker *w);

#endif
