/*
 * flock.h - the one lock-and-poll of sprinklrfs: an exclusive flock on a
 * file, taken by polling so that a wait can end (flock() itself cannot time
 * out). It makes token refreshes single-flight between processes, and lets
 * one process list an environment's profiles at a time.
 */
#ifndef SPRINKLRFS_FLOCK_H
#define SPRINKLRFS_FLOCK_H

#include <stdbool.h>

int flock_take(const char *path, int timeout_ms, bool (*stop)(void *arg),
	       void *arg, int *fd);
void flock_release(int fd);

#endif
