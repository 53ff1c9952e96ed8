/*
 * preflight.h - what must hold before sprinklrfs mounts, checked before it
 * daemonizes so that the command itself fails (exit 1) with the reason and
 * the way out, and nothing is mounted: no sprinklrfs mount is already on
 * the mount point, and every environment to serve has stored credentials
 * (those named with env=, else at least one stored environment).
 */
#ifndef SPRINKLRFS_FS_FUSE_PREFLIGHT_H
#define SPRINKLRFS_FS_FUSE_PREFLIGHT_H

#include "fs/fuse/options.h"

int preflight_check(const struct fs_options *o, const char *mountpoint);

#endif
