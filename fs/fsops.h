/*
 * fsops.h - the FUSE operations of sprinklrfs.
 *
 * The operations translate paths into answers from the layers below; they hold
 * no state of their own beyond the context given to fsop_context_init().
 */
#ifndef SPRINKLRFS_FSOPS_H
#define SPRINKLRFS_FSOPS_H

#include <sys/types.h>
#include <time.h>

#include <fuse.h>

#define FSOP_ROOT_INO 1

struct fsop_context {
	uid_t uid;
	gid_t gid;
	time_t mount_time;
};

void fsop_context_init(struct fsop_context *ctx);
const struct fuse_operations *fsop_operations(void);

#endif
