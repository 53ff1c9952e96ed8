/*
 * pacer.h - keep one API key below Sprinklr's rate limits (API §3.2).
 *
 * One pacer per key in the process, shared by every thread and environment
 * using that key: sliding windows of calls per second and per "hour" (a
 * window of window_s seconds), kept a little under the limits, plus what the
 * server says (Retry-After, X-RateLimit-Remaining/Reset, throttling
 * answers), which blocks the key for a while.
 *
 * Calls come in two classes. A foreground call is one a reader waits for;
 * it may use the whole of each window and waits at most until a deadline.
 * A background call (full listings) may use only background_share percent
 * of each window, never goes while a foreground call waits, and waits as
 * long as it takes unless it is cancelled.
 */
#ifndef SPRINKLRFS_NET_PACER_H
#define SPRINKLRFS_NET_PACER_H

#include <stdbool.h>
#include <stdint.h>

struct pacer;

struct pacer_limits {
	unsigned int per_second;	/* 0: unlimited */
	unsigned int per_window;	/* rate_per_hour; 0: unlimited */
	double window_s;		/* the "hour" */
	unsigned int background_share;	/* percent of each window, 1..100 */
};

/* How one call waits for its slot. */
struct pacer_wait {
	bool background;
	bool (*cancelled)(void *arg);	/* polled while waiting; may be NULL */
	void *arg;
};

struct pacer_stats {
	unsigned long calls_this_hour;	/* in the window, both classes */
	unsigned long background_calls;	/* of those, background */
	unsigned long reserve;		/* calls per window background leaves */
	unsigned long waits;
	double waited_s;
	int64_t background_until;	/* epoch s a background call waits for; 0 */
};

struct pacer *pacer_get(const char *key, const struct pacer_limits *lim);
unsigned long pacer_background_cap(unsigned int limit, unsigned int share);
int pacer_acquire(struct pacer *p, const struct pacer_wait *wait,
		  double deadline);
void pacer_throttled(struct pacer *p, long retry_after_s);
void pacer_succeeded(struct pacer *p, long remaining, long reset_unix);
void pacer_stats(struct pacer *p, struct pacer_stats *st);
void pacer_cleanup(void);

#endif
