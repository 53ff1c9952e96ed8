/*
 * fuzz_profile.c - one profile as the API might send it, through everything
 * that turns it into files: the \u0000 rewrite, cJSON, store_put (rendering,
 * extraction, the SQLite store), store_each, store_find, and profiles.ndjson
 * read through store_lines in odd-sized pieces.
 *
 * Besides crashes and leaks it checks what a reader relies on: the item found
 * is the one iteration lists, a profile file and its NDJSON line parse back
 * as the same JSON, and profiles.ndjson reads exactly as many bytes as it
 * says it has.
 *
 * The store is opened once per process, in a private directory under
 * /dev/shm (else /tmp) that exit removes; one a crash left behind is removed
 * by the next run. Each input starts with an empty store and leaves one: its
 * profile is put under passes of its own and swept by the next pass.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "fs/store/lines.h"
#include "fs/store/render.h"
#include "fs/store/store.h"

static const struct lines_spec ndjson_all = { .format = LINES_NDJSON };

#define PIECE 1000	/* not a divisor of any line length in particular */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *store;
static uint64_t next_pass = 1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	store = fuzz_store_open("fuzz_profile");
	return 0;
}

/* --- checks --------------------------------------------------------------- */

static cJSON *parses(const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);

	if (!root)
		abort();
	return root;
}

/*
 * The same JSON, member by member in order: unlike cJSON_Compare, which looks
 * members up by name, this holds for objects with duplicate keys.
 */
static bool same_json(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xff) != (b->type & 0xff))
		return false;
	if (cJSON_IsNumber(a) && a->valuedouble != b->valuedouble)
		return false;
	if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring) != 0)
		return false;
	if ((a->string == NULL) != (b->string == NULL) ||
	    (a->string && strcmp(a->string, b->string) != 0))
		return false;
	for (a = a->child, b = b->child; a && b; a = a->next, b = b->next)
		if (!same_json(a, b))
			return false;
	return a == b;
}

/* A whole export: every byte its size says, read in pieces, and nothing
 * past it. Closes lines; free() the bytes. */
static char *read_whole(struct store_lines *lines, uint64_t *size)
{
	uint64_t total = lines_size(lines), off = 0;
	char *all = malloc(total + 1);
	ssize_t n;

	if (!all)
		abort();
	while (off < total) {
		n = lines_read(lines, all + off, PIECE, (off_t)off);
		if (n <= 0 || (uint64_t)n > total - off)
			abort();
		off += (uint64_t)n;
	}
	if (lines_read(lines, all, PIECE, (off_t)total) != 0)
		abort();
	lines_close(lines);
	*size = total;
	return all;
}

/* profiles.ndjson: its size, its bytes, one line that is the file's JSON. */
static void read_ndjson(struct store *idx, const struct item *found)
{
	struct store_lines *lines;
	cJSON *line, *file;
	uint64_t total;
	char *all;

	if (lines_open(idx, &ndjson_all, &lines) < 0)
		abort();
	if (lines_size(lines) != found->compact_size + 1)
		abort();
	all = read_whole(lines, &total);
	if (all[total - 1] != '\n' || memchr(all, '\n', total - 1))
		abort();
	line = parses(all, total - 1);
	file = parses(found->data, found->size - 1);
	if (!same_json(line, file))
		abort();
	cJSON_Delete(file);
	cJSON_Delete(line);
	free(all);
}

/* profiles.csv: every byte its size says, in pieces, ending in CRLF. */
static void read_csv(struct store *idx)
{
	static const struct lines_spec csv_all = { .format = LINES_CSV };
	struct store_lines *lines;
	uint64_t total;
	char *all;

	if (lines_open(idx, &csv_all, &lines) < 0)
		abort();
	all = read_whole(lines, &total);
	if (total < 4 || memcmp(all + total - 2, "\r\n", 2) != 0)
		abort();
	free(all);
}

struct listed {
	size_t n;
	char id[ITEM_ID_MAX + 1];
	struct store_entry entry;
};

static int list_one(const struct store_entry *e, void *arg)
{
	struct listed *l = arg;

	if (l->n++ == 0) {
		snprintf(l->id, sizeof(l->id), "%s", e->id);
		l->entry = *e;
		l->entry.id = l->id;
	}
	return 0;
}

/* The one profile as iteration lists it and as store_find gives it. */
static void check_item(struct store *idx, int64_t modified_ms)
{
	struct store_filter all = { .scope = STORE_ALL };
	struct listed listed = { 0 };
	struct item *found;

	if (store_each(idx, &all, 0, list_one, &listed) < 0 || listed.n != 1 ||
	    listed.entry.pos == 0)
		abort();
	found = store_find(idx, listed.id);
	if (!found || strcmp(found->id, listed.id) != 0 ||
	    found->size != listed.entry.size ||
	    found->modified_ms != listed.entry.modified_ms ||
	    found->modified_ms != modified_ms)
		abort();
	if (!item_id_valid(found->id) || found->size == 0 ||
	    found->data[found->size - 1] != '\n')
		abort();
	read_ndjson(idx, found);
	read_csv(idx);
	item_unref(found);
}

static void index_profile(struct store *idx, const cJSON *profile)
{
	uint64_t pass = next_pass;
	int64_t modified_ms, again_ms;
	bool changed;

	/* puts under pass and pass + 1; pass + 2 sweeps, and the next begins */
	next_pass += 2;
	if (store_begin(idx) < 0)
		abort();
	if (store_put(idx, profile, pass, &modified_ms, &changed) < 0) {
		store_rollback(idx);
		if (store_count(idx) != 0)
			abort();
		return;
	}
	if (!changed)	/* the store was empty */
		abort();
	/* the same profile again, as the next sync would bring it */
	if (store_put(idx, profile, pass + 1, &again_ms, &changed) < 0 ||
	    changed || again_ms != modified_ms || store_count(idx) != 1)
		abort();
	if (store_commit(idx) < 0)
		abort();
	check_item(idx, modified_ms);
	if (store_begin(idx) < 0)
		abort();
	if (store_sweep(idx, pass + 1, NULL, NULL) != 0 ||
	    store_sweep(idx, pass + 2, NULL, NULL) != 1)
		abort();
	if (store_commit(idx) < 0 || store_count(idx) != 0)
		abort();
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
		index_profile(store, profile);
	cJSON_Delete(profile);
	free(body);
	return 0;
}
