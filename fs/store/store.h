/*
 * store.h - the store: the profiles of one environment, kept in SQLite.
 *
 * One database file per environment (WAL mode), shared by every process
 * that mounts the environment. It holds, per profile, the rendered bytes,
 * the times, the sizes, the list memberships and the channel identities
 * (item.h); the sync engine's state as named integers; and the
 * environment's small documents as the API sent them (store_doc_*).
 * Nothing per profile is held in memory: readers get copies of single
 * items (store_find) or iterate rows (store_each), and SQLite's page cache,
 * bounded, is the cache for hot files. store.c opens it, read.c reads,
 * write.c writes; profiles.ndjson is lines.h.
 *
 * store_put renders a profile (item_render) and stores it; store_put_item
 * stores one rendered already, so that a caller may render on another
 * thread than the one that writes.
 *
 * Writes: store_put, store_put_item, store_sweep, store_state_set and
 * store_doc_set run in the current batch when the calling thread has one
 * open (store_begin .. store_commit), otherwise each is its own
 * transaction. A batch is one
 * transaction: a crash loses the batch in flight and nothing else. One
 * batch at a time per thread; other processes wait for SQLite's write lock
 * (busy timeout).
 *
 * All functions are thread-safe.
 */
#ifndef SPRINKLRFS_FS_STORE_STORE_H
#define SPRINKLRFS_FS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "fs/store/item.h"

/* What store_each visits. */
enum store_scope {
	STORE_ALL,		/* every profile */
	STORE_PARTNER_LIST,	/* members of partner list list_id */
	STORE_SPACE_LIST,	/* members of list list_id of workspace space_id */
	STORE_CHANNEL_TYPE,	/* channel ids of channel_type, each once */
};

struct store_filter {
	enum store_scope scope;
	const char *space_id;
	int64_t list_id;
	const char *channel_type;
};

/* One visited row; its strings live until the callback returns. */
struct store_entry {
	uint64_t pos;		/* > 0; the next store_each resumes after it */
	const char *id;		/* the profile */
	const char *channel_id;	/* STORE_CHANNEL_TYPE only: the channel id */
	int64_t modified_ms;
	uint64_t size;
};

struct store;

/* store.c */
int store_open(const char *path, size_t cache_bytes, struct store **out);
void store_close(struct store *st);
const char *store_path(const struct store *st);
uint64_t store_bytes(struct store *st);

/* write.c */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
int store_put(struct store *st, const cJSON *profile, uint64_t pass,
	      int64_t *modified_ms, bool *changed);
int store_put_item(struct store *st, const struct item *item, uint64_t pass,
		   bool *changed);
size_t store_sweep(struct store *st, uint64_t pass,
		   void (*removed)(const char *id, void *arg), void *arg);
int store_state_set(struct store *st, const char *key, int64_t value);
int store_doc_set(struct store *st, const char *key, const char *data,
		  size_t size, int64_t fetched_ms, int64_t mtime_ms);

/* read.c; the finds give NULL with errno ENOENT when there is no such
 * profile, and with another errno when the store failed */
int store_state_get(struct store *st, const char *key, int64_t *value);
int store_doc_get(struct store *st, const char *key, char **data,
		  size_t *size, int64_t *fetched_ms, int64_t *mtime_ms);
size_t store_count(struct store *st);
int64_t store_newest(struct store *st);
struct item *store_find(struct store *st, const char *id);
struct item *store_find_bytes(struct store *st, const char *id);
int store_stat(struct store *st, const char *id, uint64_t *size,
	       int64_t *modified_ms, uint64_t *pos);
int store_id_at(struct store *st, uint64_t pos, char *id);
int store_channel_at(struct store *st, uint64_t pos, const char *type,
		     char *cid, size_t size);
int store_last_id_at(struct store *st, int64_t modified_ms, char *id);
struct item *store_find_channel(struct store *st, const char *type,
				const char *channel_id);
struct item *store_find_member(struct store *st, const char *id,
			       const char *space_id, int64_t list_id);
int store_each(struct store *st, const struct store_filter *filter,
	       uint64_t after,
	       int (*visit)(const struct store_entry *entry, void *arg),
	       void *arg);
int store_channel_types(struct store *st, GPtrArray **types);

#endif
