/*
 * upkeep.h - the once-a-second worker: the daemon's memory, and SIGHUP.
 *
 * The daemon keeps an inode for every entry the kernel has cached but a
 * profile's and a link's (inodes.h): directories and the lists' files. A
 * tenant's many lists could still make many. Once a second the worker reads
 * the daemon's resident memory. Past three quarters of memory_limit it
 * tells the kernel to forget what it has cached below each environment's
 * channels/ and lists/ (a notification on each directory): the kernel drops
 * what no process holds and sends FORGETs, which free those inodes.
 * Profiles are not touched, and their pages stay. On the next tick freed
 * memory goes back to the system (malloc_trim). It happens again only once
 * memory has grown by an eighth of the limit past where it settled, and the
 * inodes held by about as much, so that memory held elsewhere cannot make
 * it spin. What is forgotten costs a lookup in the store the next time it
 * is used. A process working inside one of those directories keeps its
 * dentry, unhashed, after the first time; the worker then looks the
 * directory up by path (below the mount point) so that the next
 * notification reaches beneath it again.
 *
 * SIGHUP asks for a full sync of every environment: the signal handler sets
 * a flag and wakes the worker, which starts the listings (libfuse's own
 * handler treats SIGHUP as "unmount", so ours is installed after it).
 */
#ifndef SPRINKLRFS_FS_FUSE_UPKEEP_H
#define SPRINKLRFS_FS_FUSE_UPKEEP_H

#include <fuse_lowlevel.h>

#include "fs/view/env.h"

int upkeep_install_sighup(void);
int upkeep_start(struct fuse_session *se, struct view *view,
		 const char *mountpoint, unsigned long memory_limit);
void upkeep_stop(void);

#endif
