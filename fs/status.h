/*
 * status.h - .status.json: what an environment's mount is doing, for humans
 * and monitoring. Token expiry, last refresh, API calls by endpoint and status,
 * sync state, last error; never a token. Reading it costs no API call.
 */
#ifndef SPRINKLRFS_STATUS_H
#define SPRINKLRFS_STATUS_H

#include "blob.h"

struct fs_env;

struct blob *status_render(struct fs_env *e);

#endif
