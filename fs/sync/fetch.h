/*
 * fetch.h - single profiles the store does not have: one GET each, by id
 * or by channel, into the store. Parallel readers of one unknown id cause
 * one call; a 404 is remembered for ttl, so the same unknown id costs no
 * further call meanwhile.
 */
#ifndef SPRINKLRFS_FS_SYNC_FETCH_H
#define SPRINKLRFS_FS_SYNC_FETCH_H

#include "fs/store/store.h"
#include "fs/sync/remote.h"

struct fetch;

struct fetch *fetch_new(struct remote *r, struct store *st, double ttl);
void fetch_free(struct fetch *f);
int fetch_profile(struct fetch *f, const char *id);
int fetch_channel(struct fetch *f, const char *type, const char *channel_id);

#endif
