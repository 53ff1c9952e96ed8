/*
 * retry.h - the one retry policy: capped exponential backoff, optionally
 * with jitter, a number of further attempts and a deadline. The caller
 * makes an attempt, and after a failure asks retry_pause() how long to
 * wait before the next one (and logs it if it likes), then sleeps it.
 */
#ifndef SPRINKLRFS_RETRY_H
#define SPRINKLRFS_RETRY_H

#include <stdbool.h>

struct retry {
	double pause;		/* the next pause, before jitter (seconds) */
	double factor;		/* it grows by this much each time */
	double cap;		/* up to this; 0: no cap */
	unsigned int left;	/* further attempts allowed */
	double deadline;	/* clock_now() seconds; 0: none */
	bool jitter;		/* pauses vary from 0.5 to 1.5 times */
};

double retry_pause(struct retry *r);

#endif
