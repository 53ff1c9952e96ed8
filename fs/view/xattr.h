/*
 * xattr.h - the extended attributes of the mount, served with -o xattr
 * only (without it the kernel never asks: fs/fuse/ops.c).
 *
 * A profile has user.sprinklr.id, .env and .modified. An environment's
 * directory answers user.sprinklr.sync (an incremental sync now),
 * .sync.full (a full listing now), both followed by a refresh of the
 * documents, and .wait (the first full listing's end) by running it and
 * giving the number of profiles, as `sprinklrfs sync` does through
 * fs/fuse/control.h on any mount.
 */
#ifndef SPRINKLRFS_FS_VIEW_XATTR_H
#define SPRINKLRFS_FS_VIEW_XATTR_H

#include <stddef.h>

#include "fs/view/env.h"
#include "fs/view/tree.h"

#define XATTR_SYNC "user.sprinklr.sync"
#define XATTR_SYNC_FULL "user.sprinklr.sync.full"
#define XATTR_WAIT "user.sprinklr.wait"
#define XATTR_ID "user.sprinklr.id"
#define XATTR_ENV "user.sprinklr.env"
#define XATTR_MODIFIED "user.sprinklr.modified"

int xattr_get(const struct view *v, const struct node *n, const char *name,
	      char **value);
size_t xattr_bound(const struct node *n, const char *name);
int xattr_list(const struct node *n, char **names, size_t *size);

#endif
