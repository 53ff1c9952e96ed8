/*
 * clock.h - the one clock of sprinklrfs.
 *
 * Durations, deadlines and pacing use the monotonic clock in seconds
 * (GLib's g_get_monotonic_time); what is kept in the store or shown to
 * people uses the wall clock in epoch milliseconds. Condition variables
 * that wait with a deadline are made by clock_cond_init() so that they
 * wait on the same monotonic clock.
 */
#ifndef SPRINKLRFS_CLOCK_H
#define SPRINKLRFS_CLOCK_H

#include <pthread.h>
#include <stdint.h>

double clock_now(void);
int64_t clock_wall_ms(void);
void clock_sleep(double seconds);
int clock_cond_init(pthread_cond_t *cond);
int clock_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex,
		    double deadline);

#endif
