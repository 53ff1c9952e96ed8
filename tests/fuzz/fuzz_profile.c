/*
 * fuzz_profile.c - one profile as the API might send it, through everything
 * that turns it into files: the \u0000 rewrite, cJSON, idx_put (rendering and
 * extraction), a snapshot, profiles.ndjson read in odd-sized pieces, and
 * idx_find.
 *
 * Besides crashes and leaks it checks what a reader relies on: the item found
 * is the one in the snapshot, a profile file and its NDJSON line parse back as
 * JSON, and profiles.ndjson reads exactly as many bytes as it says it has.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "index.h"

#define PIECE 1000	/* not a divisor of any line length in particular */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parses(const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);

	if (!root)
		abort();
	cJSON_Delete(root);
}

static void read_ndjson(const struct idx_snapshot *snap)
{
	uint64_t total = idx_snapshot_ndjson_size(snap), off = 0;
	char *all = malloc(total + 1);
	ssize_t n;

	if (!all)
		return;
	while (off < total) {
		n = idx_snapshot_ndjson_read(snap, all + off, PIECE, (off_t)off);
		if (n <= 0 || (uint64_t)n > total - off)
			abort();
		off += (uint64_t)n;
	}
	if (idx_snapshot_ndjson_read(snap, all, PIECE, (off_t)total) != 0)
		abort();
	if (total && all[total - 1] != '\n')
		abort();
	if (total)
		check_parses(all, total - 1);
	free(all);
}

static void check_item(struct idx *idx, const struct idx_snapshot *snap)
{
	const struct idx_item *listed = idx_snapshot_item(snap, 0);
	struct idx_item *found = idx_find(idx, listed->id);

	if (found != listed)
		abort();
	if (!idx_id_valid(found->id) || found->size == 0 ||
	    found->data[found->size - 1] != '\n')
		abort();
	if (idx_snapshot_ndjson_size(snap) != found->compact_size + 1)
		abort();
	check_parses(found->data, found->size - 1);
	idx_item_unref(found);
}

static void index_profile(const cJSON *profile)
{
	struct idx *idx = idx_new("prod2");
	struct idx_snapshot *snap;
	int64_t modified_ms;

	if (!idx)
		return;
	if (idx_put(idx, profile, 1, &modified_ms) < 0) {
		if (idx_count(idx) != 0)
			abort();
		goto out_free_idx;
	}
	/* the same profile again, as the next sync would bring it */
	if (idx_put(idx, profile, 2, &modified_ms) < 0 || idx_count(idx) != 1)
		abort();
	snap = idx_snapshot(idx);
	if (!snap)
		goto out_free_idx;
	if (idx_snapshot_count(snap) != 1)
		abort();
	read_ndjson(snap);
	check_item(idx, snap);
	idx_snapshot_unref(snap);
	if (idx_sweep(idx, 2) != 0 || idx_sweep(idx, 3) != 1)
		abort();
out_free_idx:
	idx_free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	cJSON *profile;

	if (!body)
		return 0;
	memcpy(body, data, size);
	render_fix_nul_escapes(body, size);
	profile = cJSON_ParseWithLength(body, size);
	if (profile)
		index_profile(profile);
	cJSON_Delete(profile);
	free(body);
	return 0;
}
