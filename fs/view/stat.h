/*
 * stat.h - attributes as the mount shows them: owner and modes from the
 * view's configuration (0444 files, 0555 directories, 0777 links, less the
 * umask), times from milliseconds, sizes in 512-byte blocks, and inode
 * numbers that stay the same across mounts (a hash of what the node is).
 */
#ifndef SPRINKLRFS_FS_VIEW_STAT_H
#define SPRINKLRFS_FS_VIEW_STAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/view/env.h"

uint64_t stat_ino(const char *env, const char *kind, const char *name);
void stat_base(const struct view *v, struct stat *st, mode_t type,
	       uint64_t ino, int64_t mtime_ms);
void stat_size(struct stat *st, uint64_t size);
void stat_dir(const struct view *v, struct stat *st, uint64_t ino,
	      int64_t mtime_ms, size_t subdirs);

#endif
