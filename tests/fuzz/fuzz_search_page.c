/*
 * fuzz_search_page.c - a whole search page (API §4.3) as sync sees it:
 * page_parse() checks the envelope, every result goes to idx_put() as in a
 * listing, page_cursor() takes the next cursor, and the index is read back
 * through a snapshot and idx_find().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "index.h"
#include "page.h"

#define CURSOR_MAX 1024	/* what a listing keeps (fs/sync.c) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_results(struct idx *idx, const cJSON *results)
{
	const cJSON *profile;
	int64_t modified_ms;
	size_t put = 0;

	cJSON_ArrayForEach(profile, results) {
		if (idx_put(idx, profile, 1, &modified_ms) == 0)
			put++;
	}
	/* duplicate ids on one page replace each other */
	if (idx_count(idx) > put)
		abort();
}

static void read_back(struct idx *idx)
{
	struct idx_snapshot *snap = idx_snapshot(idx);
	const struct idx_item *item;
	struct idx_item *found;
	uint64_t total, off = 0;
	char buf[4096];
	ssize_t n;
	size_t i;

	if (!snap)
		return;
	if (idx_snapshot_count(snap) != idx_count(idx))
		abort();
	for (i = 0; i < idx_snapshot_count(snap); i++) {
		item = idx_snapshot_item(snap, i);
		found = idx_find(idx, item->id);
		if (found != item)
			abort();
		idx_item_unref(found);
	}
	total = idx_snapshot_ndjson_size(snap);
	while (off < total) {
		n = idx_snapshot_ndjson_read(snap, buf, sizeof(buf), (off_t)off);
		if (n <= 0)
			abort();
		off += (uint64_t)n;
	}
	idx_snapshot_unref(snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	char cursor[CURSOR_MAX];
	const cJSON *results;
	struct idx *idx;
	cJSON *root;

	if (!body)
		return 0;
	memcpy(body, data, size);
	if (page_parse(body, size, &root, &results) < 0)
		goto out_free_body;
	idx = idx_new("prod2");
	if (idx) {
		put_results(idx, results);
		read_back(idx);
		idx_free(idx);
	}
	page_cursor(root, cursor, sizeof(cursor));
	if (strnlen(cursor, sizeof(cursor)) == sizeof(cursor))
		abort();
	cJSON_Delete(root);
out_free_body:
	free(body);
	return 0;
}
