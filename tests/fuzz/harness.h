/*
 * harness.h - the store a fuzz target writes to: one per process, in a
 * private directory under /dev/shm (or /tmp) named TARGET.PID.XXXXXX, closed
 * and removed at exit. Directories that crashed runs left behind (their PID
 * is gone) are removed when the next run opens its own.
 */
#ifndef SPRINKLRFS_FUZZ_HARNESS_H
#define SPRINKLRFS_FUZZ_HARNESS_H

#include "fs/store/lines.h"
#include "fs/store/store.h"

struct store *fuzz_store_open(const char *target);

#endif
