/*
 * fuzz_search_page.c - a whole search page (API §4.3) as sync sees it:
 * page_parse() checks the envelope, every result goes to store_put() in one
 * batch as in a listing, page_cursor() takes the next cursor, and the store
 * is read back through store_each(), store_find() and profiles.ndjson.
 *
 * Besides crashes and leaks it checks that duplicate ids on one page replace
 * each other, that iteration, store_find, store_count and profiles.ndjson agree
 * on what is stored, and that profiles.ndjson reads exactly its size.
 *
 * The store is opened once per process, in a private directory under
 * /dev/shm (else /tmp) that exit removes; one a crash left behind is removed
 * by the next run. Each input starts with an empty store and leaves one: its
 * page is put under a pass of its own and swept by the next pass.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "fs/store/lines.h"
#include "fs/store/store.h"
#include "fs/sync/page.h"
#include "harness.h"

static const struct lines_spec ndjson_all = { .format = LINES_NDJSON };


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *store;
static uint64_t next_pass = 1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	store = fuzz_store_open("fuzz_search_page");
	return 0;
}

/* --- one page ------------------------------------------------------------- */

static void put_results(struct store *idx, const cJSON *results, uint64_t pass)
{
	const cJSON *profile;
	int64_t modified_ms;
	bool changed;
	size_t put = 0, count;

	if (store_begin(idx) < 0)
		abort();
	cJSON_ArrayForEach(profile, results) {
		if (store_put(idx, profile, pass, &modified_ms, &changed) == 0)
			put++;
	}
	if (store_commit(idx) < 0)
		abort();
	/* duplicate ids on one page replace each other */
	count = store_count(idx);
	if (count > put || (put > 0 && count == 0))
		abort();
}

struct walk {
	struct store *idx;
	size_t n;
	uint64_t last_pos;
	uint64_t ndjson;	/* the size profiles.ndjson should have */
};

/* Each listed profile is found as listed, in increasing positions. */
static int check_listed(const struct store_entry *e, void *arg)
{
	struct walk *w = arg;
	struct item *found = store_find(w->idx, e->id);

	if (e->pos <= w->last_pos || !found || strcmp(found->id, e->id) != 0 ||
	    found->size != e->size || found->modified_ms != e->modified_ms ||
	    found->size == 0 ||
	    found->data[found->size - 1] != '\n')
		abort();
	w->last_pos = e->pos;
	w->ndjson += found->compact_size + 1;
	w->n++;
	item_unref(found);
	return 0;
}

static void read_back(struct store *idx)
{
	struct store_filter all = { .scope = STORE_ALL };
	struct walk w = { .idx = idx };
	struct store_lines *lines;
	uint64_t total, off = 0, newlines = 0;
	char buf[4096];
	ssize_t n, i;

	if (store_each(idx, &all, 0, check_listed, &w) < 0 ||
	    w.n != store_count(idx))
		abort();
	if (lines_open(idx, &ndjson_all, &lines) < 0)
		abort();
	total = lines_size(lines);
	if (total != w.ndjson)
		abort();
	while (off < total) {
		n = lines_read(lines, buf, sizeof(buf), (off_t)off);
		if (n <= 0 || (uint64_t)n > total - off)
			abort();
		for (i = 0; i < n; i++)
			newlines += buf[i] == '\n';
		off += (uint64_t)n;
	}
	if (lines_read(lines, buf, sizeof(buf), (off_t)total) != 0)
		abort();
	lines_close(lines);
	/* one line a profile: compact JSON holds no raw newline */
	if (newlines != w.n)
		abort();
}

static void index_page(struct store *idx, const cJSON *results)
{
	uint64_t pass = next_pass;
	size_t count;

	next_pass += 2;	/* pass + 1 sweeps, and the next page begins after */
	put_results(idx, results, pass);
	read_back(idx);
	count = store_count(idx);
	if (store_sweep(idx, pass + 1, NULL, NULL) != count ||
	    store_count(idx) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	struct page page;
	char *cursor;

	if (!body)
		return 0;
	memcpy(body, data, size);
	if (page_parse(body, size, &page) < 0)
		goto out_free_body;
	index_page(store, page.results);
	cursor = page_cursor(&page);
	/* a cursor is followed as it came: never empty */
	if (cursor && !cursor[0])
		abort();
	g_free(cursor);
	page_free(&page);
out_free_body:
	free(body);
	return 0;
}
