/*
 * options.h - sprinklrfs's own mount options (-o env=,ttl=,...), parsed out of
 * the command line before libfuse sees the rest. fstab words (_netdev, auto,
 * noauto, user, users, nofail, defaults) are accepted and ignored, and so is a
 * first positional word before the mount point (mount.fuse3 passes the fstab
 * source there).
 */
#ifndef SPRINKLRFS_FS_FUSE_OPTIONS_H
#define SPRINKLRFS_FS_FUSE_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#include <fuse.h>
#include <glib.h>

#include "auth/base/log.h"
#include "auth/creds/backend.h"

struct fs_options {
	char *envs;		/* env=A:B, NULL: every stored environment */
	double ttl;		/* seconds; kernel caches and sync interval */
	double doc_ttl;		/* seconds; documents' lifetime */
	double full_sync;	/* seconds between full listings */
	int page_size;		/* 1 to 1000, or PAGESIZE_AUTO */
	uid_t uid;
	gid_t gid;
	mode_t umask;
	char *store;		/* "keyring" or "file" */
	unsigned int rate_per_second;
	unsigned int rate_per_hour;	/* per rate_window */
	double rate_window;	/* seconds of the "hour" window */
	unsigned int background_share;	/* percent of each window */
	double read_timeout;	/* seconds a read may wait, retries included */
	unsigned int retries;
	unsigned int stall_timeout;
	unsigned int connect_timeout;
	unsigned long max_body;
	char *cache_dir;	/* absolute; one store per environment */
	int partitions;		/* cursors of a full listing */
	unsigned long memory_limit;	/* MiB */
	int xattr;		/* -o xattr: serve user.sprinklr.* */
	char *log_level;	/* log_level=NAME as given */
	enum log_level level;	/* log_level parsed; info by default */
	enum creds_backend creds_backend;
	/* private to the parser */
	char *positional[2];
	int n_positional;
};

int opt_parse(struct fuse_args *args, struct fs_options *o);
GStrv opt_env_names(const struct fs_options *o);
void opt_free(struct fs_options *o);
void opt_help(void);

#endif
