/*
 * ops.h - the FUSE operations of sprinklrfs (libfuse's low-level API).
 *
 * mount.c parses the options into a struct fs and hands it to
 * fuse_session_new(); the init operation (after daemonizing) makes the API
 * client and the view with its environments, and starts the invalidation
 * and upkeep workers; destroy undoes that.
 */
#ifndef SPRINKLRFS_FS_FUSE_OPS_H
#define SPRINKLRFS_FS_FUSE_OPS_H

#include <fuse_lowlevel.h>

#include "auth/api/api.h"
#include "fs/fuse/options.h"
#include "fs/view/env.h"

struct fs {
	struct fs_options opts;
	const char *mountpoint;		/* absolute */
	struct fuse_session *se;
	struct api *api;
	struct view *view;
};

const struct fuse_lowlevel_ops *ops_table(void);
/* Stop the threads that call into libfuse; once the loop has ended, before
 * the device is closed. */
void ops_quiesce(void);

#endif
