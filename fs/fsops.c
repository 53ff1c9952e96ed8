/*
 * fsops.c - FUSE operations.
 *
 * The tree so far is the root directory alone. Attributes are computed from the
 * context: owned by the mounting user, read-only modes.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fsops.h"

static struct fsop_context *fsop_ctx(void)
{
	return fuse_get_context()->private_data;
}

static void *fsop_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 1;
	return fsop_ctx();
}

static void fill_dir_stat(const struct fsop_context *ctx, struct stat *st,
			  ino_t ino)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_uid = ctx->uid;
	st->st_gid = ctx->gid;
	st->st_mtim.tv_sec = ctx->mount_time;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static int fsop_getattr(const char *path, struct stat *st,
			struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill_dir_stat(fsop_ctx(), st, FSOP_ROOT_INO);
	return 0;
}

static int fsop_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
			off_t offset, struct fuse_file_info *fi,
			enum fuse_readdir_flags flags)
{
	struct stat st;

	(void)offset;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill_dir_stat(fsop_ctx(), &st, FSOP_ROOT_INO);
	filler(buf, ".", &st, 0, FUSE_FILL_DIR_PLUS);
	filler(buf, "..", NULL, 0, 0);
	return 0;
}

static const struct fuse_operations operations = {
	.init = fsop_init,
	.getattr = fsop_getattr,
	.readdir = fsop_readdir,
};

void fsop_context_init(struct fsop_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->uid = getuid();
	ctx->gid = getgid();
	ctx->mount_time = time(NULL);
}

const struct fuse_operations *fsop_operations(void)
{
	return &operations;
}
