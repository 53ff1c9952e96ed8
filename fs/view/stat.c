/*
 * stat.c - building struct stat (see stat.h).
 */
#include <string.h>

#include "auth/base/hash.h"
#include "fs/view/stat.h"

/* An inode number for kind/name in env: stable, and never one of the
 * small numbers the kernel or libfuse keep for themselves. */
uint64_t stat_ino(const char *env, const char *kind, const char *name)
{
	uint64_t h = HASH_INIT;

	h = hash_bytes(h, env, strlen(env) + 1);
	h = hash_bytes(h, kind, strlen(kind) + 1);
	h = hash_bytes(h, name, strlen(name));
	return h < 16 ? h + 16 : h;
}

void stat_base(const struct view *v, struct stat *st, mode_t type,
	       uint64_t ino, int64_t mtime_ms)
{
	mode_t perm = type == S_IFDIR ? 0555 : type == S_IFLNK ? 0777 : 0444;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (type != S_IFLNK)
		perm &= ~v->cfg.umask;
	st->st_mode = type | perm;
	st->st_nlink = 1;
	st->st_uid = v->cfg.uid;
	st->st_gid = v->cfg.gid;
	st->st_blksize = 4096;
	st->st_mtim.tv_sec = mtime_ms / 1000;
	st->st_mtim.tv_nsec = (mtime_ms % 1000) * 1000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

void stat_size(struct stat *st, uint64_t size)
{
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

void stat_dir(const struct view *v, struct stat *st, uint64_t ino,
	      int64_t mtime_ms, size_t subdirs)
{
	stat_base(v, st, S_IFDIR, ino, mtime_ms);
	st->st_nlink = (nlink_t)(2 + subdirs);
}
