/*
 * lock.h - the cross-process lock that makes token refresh single-flight.
 *
 * One lock file per environment under $XDG_RUNTIME_DIR/sprinklrfs/ (or, without
 * it, a 0700 directory /tmp/sprinklrfs-UID/ that must belong to us), held with
 * flock_take() (base/flock.h) and released with flock_release(). Two mounts
 * and any number of `auth` commands on one environment take turns; the lock
 * dies with its process.
 */
#ifndef SPRINKLRFS_API_LOCK_H
#define SPRINKLRFS_API_LOCK_H

int lock_env(const char *env, int timeout_ms, int *fd);

#endif
