/*
 * render.h - private to the index: items, their bytes, snapshots.
 *
 * render_item() renders a cJSON profile and extracts what the tree derives
 * from it into one heap block (struct idx_item, its arrays, its strings and
 * its rendered bytes), freed with a single free(). The id must already have
 * passed idx_id_valid(); the item starts with one reference.
 *
 * render_compact() streams the one-line form of rendered JSON (whitespace
 * outside strings dropped): it copies the compact bytes whose positions lie
 * in [from, to) to out (when out is not NULL) and returns how many there
 * were. With from = 0, to = SIZE_MAX and out = NULL it measures.
 * render_item_bytes() is the heap size of an item's block.
 *
 * snapshot_alloc() makes an unsorted snapshot of n items (one reference) for
 * the caller to fill with referenced items; snapshot_sort() orders them by
 * id and computes the NDJSON line ends.
 */
#ifndef SPRINKLRFS_RENDER_H
#define SPRINKLRFS_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "index.h"

/* Allocated in one block with its arrays; see snapshot.c. */
struct idx_snapshot {
	int refs;
	size_t n;
	struct idx_item **items;
	uint64_t *ends;		/* ends[i]: NDJSON offset just past line i */
};

int render_item(const cJSON *profile, const char *env,
		struct idx_item **out);
size_t render_compact(const char *data, size_t size, size_t from, size_t to,
		      char *out);
size_t render_item_bytes(const struct idx_item *item);

struct idx_snapshot *snapshot_alloc(size_t n);
void snapshot_sort(struct idx_snapshot *snap);

#endif
