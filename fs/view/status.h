/*
 * status.h - .status.json: what an environment's mount is doing, for humans
 * and monitoring. Token expiry, last refresh, API calls by endpoint and
 * status, sync state, last error; never a token. Reading it costs no API
 * call. A rendering is reused for up to a second unless the status moved
 * on meanwhile. Its mtime is when its bytes last changed: a rendering
 * that gives the same bytes keeps the time, so a copy of an environment
 * where nothing happened (rsync) leaves it alone. Nothing in it changes by
 * itself as time passes: times are absolute.
 */
#ifndef SPRINKLRFS_FS_VIEW_STATUS_H
#define SPRINKLRFS_FS_VIEW_STATUS_H

#include <stdint.h>

#include <glib.h>

#include "fs/view/env.h"

int status_get(struct view_env *e, GBytes **out, int64_t *mtime_ms);

#endif
