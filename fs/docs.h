/*
 * docs.h - the small documents of an environment: me.json, workspaces.json,
 * custom-fields.json, and the profile lists behind lists/. Each is one API
 * call, cached for ttl; concurrent readers share one fetch. Every answer is
 * also kept in the store, so a remount within ttl costs no call.
 */
#ifndef SPRINKLRFS_DOCS_H
#define SPRINKLRFS_DOCS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob.h"

struct fs_env;

enum doc_kind {
	DOC_ME,
	DOC_WORKSPACES,
	DOC_CUSTOM_FIELDS,
	DOC_PARTNER_LISTS,
	DOC_CLIENT_LISTS,
	DOC_COUNT,
};

struct doc_list {
	char workspace[32];	/* "" for partner lists */
	int64_t id;
	int64_t mtime_ms;
	struct blob *json;	/* list.json */
};

struct doc {
	struct blob *json;	/* file content (me, workspaces, custom fields) */
	int64_t mtime_ms;
	double fetched_at;
	bool valid;
	bool loaded;		/* the store's copy was looked at */
	struct doc_list *lists;
	size_t n_lists;
};

struct docs {
	pthread_mutex_t lock;	/* held across a fetch: single-flight */
	struct doc doc[DOC_COUNT];	/* protected by lock */
};

void docs_init(struct docs *d);
void docs_destroy(struct docs *d);
int docs_get(struct fs_env *e, enum doc_kind kind, struct blob **json,
	     int64_t *mtime_ms);
int docs_lists(struct fs_env *e, enum doc_kind kind, struct doc_list **lists,
	       size_t *n);
void docs_lists_free(struct doc_list *lists, size_t n);

#endif
