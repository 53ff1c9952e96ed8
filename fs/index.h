/*
 * index.h - the profiles of one environment, ready to be served as files.
 *
 * One item per profile id. An item is immutable and reference counted: it
 * holds the rendered bytes (pretty JSON, final newline), the profile's times,
 * its inode number, and what the tree derives from it (list memberships,
 * channel identities). An update replaces the item, so a reader holding a
 * reference keeps exactly the bytes whose size it was told.
 *
 * A snapshot is the items sorted by id at one moment (reference counted,
 * cached until the index changes): readdir of profiles/, profiles.ndjson and
 * list directories read snapshots.
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

struct idx;
struct idx_snapshot;

bool idx_id_valid(const char *id);
uint64_t idx_inode(const char *env, const char *kind, const char *name);

struct idx *idx_new(const char *env);
void idx_free(struct idx *idx);
int idx_put(struct idx *idx, const cJSON *profile, uint64_t pass,
	    int64_t *modified_ms);
int idx_remove(struct idx *idx, const char *id);
size_t idx_sweep(struct idx *idx, uint64_t pass);
size_t idx_count(struct idx *idx);
int64_t idx_newest(struct idx *idx);
struct idx_item *idx_find(struct idx *idx, const char *id);
struct idx_item *idx_find_channel(struct idx *idx, const char *type,
				  const char *channel_id);
void idx_item_unref(struct idx_item *item);
size_t idx_bytes(struct idx *idx);

struct idx_snapshot *idx_snapshot(struct idx *idx);
void idx_snapshot_unref(struct idx_snapshot *snap);
size_t idx_snapshot_count(const struct idx_snapshot *snap);
const struct idx_item *idx_snapshot_item(const struct idx_snapshot *snap,
					 size_t i);
uint64_t idx_snapshot_ndjson_size(const struct idx_snapshot *snap);
ssize_t idx_snapshot_ndjson_read(const struct idx_snapshot *snap, char *buf,
				 size_t size, off_t off);

bool idx_item_in_partner_list(const struct idx_item *item, int64_t list_id);
bool idx_item_in_space_list(const struct idx_item *item, const char *space_id,
			    int64_t list_id);

int render_json(const cJSON *item, char **data, size_t *size);
bool render_int64(const cJSON *v, int64_t *out);
void render_fix_nul_escapes(char *json, size_t len);

#endif
