/*
 * control.h - how `sprinklrfs sync` (fs/cli/sync.c) asks a running mount
 * to sync: an ioctl on the environment's directory, opened read-only. The
 * answer is the number of profiles stored, or an errno (ENOTTY: not an
 * environment's directory).
 *
 * An ioctl rather than an extended attribute: a mount without -o xattr
 * answers the kernel's first getxattr with ENOSYS, and from then on the
 * kernel asks the daemon for none (ls -l asks two per file). ioctl's
 * restricted form (the kernel copies the size the number encodes) needs no
 * unrestricted FUSE ioctl, so any user may run it.
 */
#ifndef SPRINKLRFS_FS_FUSE_CONTROL_H
#define SPRINKLRFS_FS_FUSE_CONTROL_H

#include <stdint.h>
#include <sys/ioctl.h>

#define CONTROL_SYNC _IOR('S', 1, uint64_t)		/* SYNC_NOW */
#define CONTROL_SYNC_FULL _IOR('S', 2, uint64_t)	/* SYNC_FULL */
#define CONTROL_WAIT _IOR('S', 3, uint64_t)		/* SYNC_COMPLETE */

#endif
