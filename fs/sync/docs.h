/*
 * docs.h - the small documents of an environment: me.json, workspaces.json,
 * custom-fields.json, and the profile lists behind lists/. Each is one API
 * call, cached for doc_ttl (they change rarely, so they live longer than
 * the profiles' ttl: an access after ttl costs the incremental search
 * alone); concurrent readers share one fetch. docs_refresh() fetches them
 * again at once (`sprinklrfs sync`) and says so (documents_changed), for
 * the kernel to look them up again. Every answer is also kept in the
 * store, so a remount within doc_ttl costs no call. A document's bytes are
 * immutable (GBytes): a reader keeps the ones it got.
 */
#ifndef SPRINKLRFS_FS_SYNC_DOCS_H
#define SPRINKLRFS_FS_SYNC_DOCS_H

#include <stdint.h>

#include <glib.h>

#include "fs/store/store.h"
#include "fs/sync/hooks.h"
#include "fs/sync/remote.h"

enum doc_kind {
	DOC_ME,
	DOC_WORKSPACES,
	DOC_CUSTOM_FIELDS,
	DOC_PARTNER_LISTS,
	DOC_CLIENT_LISTS,
	DOC_COUNT,
};

/* A workspace id or a list id fits (checked: item_id_valid, int64). */
#define DOC_WORKSPACE_MAX 31

struct doc_list {
	char workspace[DOC_WORKSPACE_MAX + 1];	/* "" for partner lists */
	int64_t id;
	int64_t mtime_ms;
	GBytes *json;		/* list.json */
};

struct docs;

struct docs *docs_new(struct remote *r, struct store *st, double doc_ttl,
		      const struct sync_hooks *hooks);
void docs_free(struct docs *d);
int docs_get(struct docs *d, enum doc_kind kind, GBytes **json,
	     int64_t *mtime_ms);
int docs_lists(struct docs *d, enum doc_kind kind, GArray **lists);
int docs_refresh(struct docs *d);

#endif
