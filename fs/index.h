/*
 * index.h - the profiles of one environment, kept in an SQLite database.
 *
 * One database file per environment (WAL mode), shared by every process
 * that mounts the environment. It holds, per profile, the rendered bytes
 * (pretty JSON, final newline), the times, the sizes, the list memberships
 * and the channel identities; the sync engine's state as named integers;
 * and the environment's small documents as the API sent them (idx_doc_*). Nothing per profile is held in memory: readers get copies of
 * single items (idx_find) or iterate rows (idx_each), and SQLite's page
 * cache, bounded, is the cache for hot files.
 *
 * An item is an immutable, reference-counted copy of one profile: a reader
 * holding it keeps exactly the bytes whose size it was told, however the
 * store changes meanwhile. profiles.ndjson is read through idx_lines, which
 * holds a read transaction: one consistent view from open to close.
 *
 * Writes: idx_put, idx_sweep and idx_state_set run in the current batch when
 * the calling thread has one open (idx_begin .. idx_commit), otherwise each
 * is its own transaction. A batch is one transaction: a crash loses the
 * batch in flight and nothing else. One batch at a time per process; other
 * processes wait for SQLite's write lock (busy timeout).
 *
 * All functions are thread-safe.
 */
#ifndef SPRINKLRFS_INDEX_H
#define SPRINKLRFS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define IDX_ID_MAX 200

struct idx_space_list {
	char *space_id;		/* workspace id (a string in the API) */
	int64_t list_id;
};

struct idx_channel {
	char *type;		/* TWITTER, EMAIL, ... */
	char *channel_id;
};

struct idx_item {
	char id[IDX_ID_MAX + 1];
	int64_t modified_ms;	/* modifiedTime; 0 when missing */
	int64_t created_ms;
	uint64_t ino;
	char *data;		/* rendered bytes */
	size_t size;
	size_t compact_size;	/* its one-line form, without the newline */
	int64_t *partner_lists;
	size_t n_partner_lists;
	struct idx_space_list *space_lists;
	size_t n_space_lists;
	struct idx_channel *channels;
	size_t n_channels;
	/* private */
	uint64_t seen;
	int refs;
};

/* What idx_each visits. */
enum idx_scope {
	IDX_ALL,		/* every profile */
	IDX_PARTNER_LIST,	/* members of partner list list_id */
	IDX_SPACE_LIST,		/* members of list list_id of workspace space_id */
	IDX_CHANNEL_TYPE,	/* channel ids of channel_type, each once */
};

struct idx_filter {
	enum idx_scope scope;
	const char *space_id;
	int64_t list_id;
	const char *channel_type;
};

/* One visited row; its strings live until the callback returns. */
struct idx_entry {
	uint64_t pos;		/* > 0; the next idx_each resumes after it */
	const char *id;		/* the profile */
	const char *channel_id;	/* IDX_CHANNEL_TYPE only: the channel id */
	int64_t modified_ms;
	uint64_t size;
	uint64_t ino;
};

struct idx;
struct idx_lines;

bool idx_id_valid(const char *id);
uint64_t idx_inode(const char *env, const char *kind, const char *name);

int idx_open(const char *env, const char *path, size_t cache_bytes,
	     struct idx **out);
void idx_close(struct idx *idx);
const char *idx_path(const struct idx *idx);

int idx_begin(struct idx *idx);
int idx_commit(struct idx *idx);
void idx_rollback(struct idx *idx);

int idx_put(struct idx *idx, const cJSON *profile, uint64_t pass,
	    int64_t *modified_ms, bool *changed);
size_t idx_sweep(struct idx *idx, uint64_t pass,
		 void (*removed)(const char *id, void *arg), void *arg);
int idx_state_get(struct idx *idx, const char *key, int64_t *value);
int idx_state_set(struct idx *idx, const char *key, int64_t value);
int idx_doc_get(struct idx *idx, const char *key, char **data, size_t *size,
		int64_t *fetched_ms, int64_t *mtime_ms);
int idx_doc_set(struct idx *idx, const char *key, const char *data,
		size_t size, int64_t fetched_ms, int64_t mtime_ms);

size_t idx_count(struct idx *idx);
int64_t idx_newest(struct idx *idx);
uint64_t idx_store_bytes(struct idx *idx);
/* The finds give NULL with errno ENOENT when there is no such profile, and
 * with another errno when the store failed. */
struct idx_item *idx_find(struct idx *idx, const char *id);
struct idx_item *idx_find_bytes(struct idx *idx, const char *id);
int idx_stat(struct idx *idx, const char *id, uint64_t *size,
	     int64_t *modified_ms, uint64_t *pos);
int idx_id_at(struct idx *idx, uint64_t pos, char *id);
struct idx_item *idx_find_channel(struct idx *idx, const char *type,
				  const char *channel_id);
void idx_item_unref(struct idx_item *item);
int idx_each(struct idx *idx, const struct idx_filter *filter, uint64_t after,
	     int (*visit)(const struct idx_entry *entry, void *arg), void *arg);
int idx_channel_types(struct idx *idx, char ***types, size_t *n);

int idx_lines_open(struct idx *idx, struct idx_lines **out);
uint64_t idx_lines_size(const struct idx_lines *lines);
ssize_t idx_lines_read(struct idx_lines *lines, char *buf, size_t size,
		       off_t off);
void idx_lines_close(struct idx_lines *lines);

bool idx_item_in_partner_list(const struct idx_item *item, int64_t list_id);
bool idx_item_in_space_list(const struct idx_item *item, const char *space_id,
			    int64_t list_id);

int render_json(const cJSON *item, char **data, size_t *size);
bool render_int64(const cJSON *v, int64_t *out);
void render_fix_nul_escapes(char *json, size_t len);

#endif
