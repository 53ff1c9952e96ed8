/*
 * pacer.h - keep one API key below Sprinklr's rate limits (API §3.2).
 *
 * One pacer per key in the process, shared by every thread and environment
 * using that key: sliding windows of calls per second and per hour, kept a
 * little under the limits, plus what the server says (Retry-After,
 * X-RateLimit-Remaining/Reset, throttling answers), which blocks the key for
 * a while. pacer_acquire() waits for a slot, but never past a deadline
 * (clock_now() seconds).
 */
#ifndef SPRINKLRFS_NET_PACER_H
#define SPRINKLRFS_NET_PACER_H

struct pacer;

struct pacer_stats {
	unsigned long calls_this_hour;
	unsigned long waits;
	double waited_s;
};

struct pacer *pacer_get(const char *key, unsigned int per_second,
			unsigned int per_hour);
int pacer_acquire(struct pacer *p, double deadline);
void pacer_throttled(struct pacer *p, long retry_after_s);
void pacer_succeeded(struct pacer *p, long remaining, long reset_unix);
void pacer_stats(struct pacer *p, struct pacer_stats *st);
void pacer_cleanup(void);

#endif
