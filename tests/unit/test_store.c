/*
 * test_index.c - the profile store: ids, inodes, put/changed/sweep, state,
 * lookups, the four iteration scopes, profiles.ndjson views, reopening, a
 * broken file, a file failing under a reader, threads, two handles on
 * one file (two mounts), and the WAL's checkpoints.
 *
 * With an argument N, also measures: N generated profiles put in batches of
 * 100, then reads; prints a table (seconds, store bytes, peak RSS).
 */
#include "check.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <glib.h>
#include <sqlite3.h>

#include "fs/store/lines.h"
#include "fs/store/render.h"
#include "fs/store/store.h"
#include "fs/view/stat.h"
#include "profiles.h"

static const struct lines_spec ndjson_all = { .format = LINES_NDJSON };

static char dir[64];
static int stores;

/* --- helpers -------------------------------------------------------------- */

static void path_of(char *path, size_t size, int n, const char *suffix)
{
	snprintf(path, size, "%s/store%d.db%s", dir, n, suffix);
}

static void remove_store(int n)
{
	static const char *suffixes[] = { "", "-wal", "-shm", ".broken" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		path_of(path, sizeof(path), n, suffixes[i]);
		unlink(path);
	}
}

static struct store *open_at(int n)
{
	struct store *idx = NULL;
	char path[128];

	path_of(path, sizeof(path), n, "");
	check(store_open(path, 4 << 20, &idx) == 0);
	return idx;
}

/* A fresh store; returns its number (for reopening) through *n. */
static struct store *fresh(int *n)
{
	int k = ++stores;

	remove_store(k);
	if (n)
		*n = k;
	return open_at(k);
}

static cJSON *parse(const char *text)
{
	cJSON *root = cJSON_ParseWithLength(text, strlen(text));

	check(root);
	return root;
}

/* Parses as the sync engine does: NUL escapes fixed first. */
static int put_text(struct store *idx, const char *text, uint64_t pass,
		    bool *changed)
{
	char *copy = strdup(text);
	bool ch = true;
	cJSON *root;
	int64_t ms = -1;
	int ret;

	check(copy);
	render_fix_nul_escapes(copy, strlen(copy));
	root = parse(copy);
	ret = store_put(idx, root, pass, &ms, &ch);
	cJSON_Delete(root);
	free(copy);
	check(ret < 0 ? ms == -1 && ch : ms >= 0);
	if (changed)
		*changed = ch;
	return ret;
}

static void put_ok(struct store *idx, const char *text, uint64_t pass)
{
	check(put_text(idx, text, pass, NULL) == 0);
}

struct seen_rows {
	size_t n;
	uint64_t pos[64];
	char id[64][ITEM_ID_MAX + 1];
	char cid[64][64];
	uint64_t size[64];
	size_t stop_after;	/* 0: never */
};

static int collect(const struct store_entry *e, void *arg)
{
	struct seen_rows *s = arg;

	check(e->pos > 0 && e->id);
	check(s->n == 0 || e->pos > s->pos[s->n - 1]);
	check(s->n < 64);
	s->pos[s->n] = e->pos;
	snprintf(s->id[s->n], sizeof(s->id[0]), "%s", e->id);
	snprintf(s->cid[s->n], sizeof(s->cid[0]), "%s",
		 e->channel_id ? e->channel_id : "");
	s->size[s->n] = e->size;
	s->n++;
	return s->stop_after && s->n == s->stop_after;
}

static struct seen_rows each(struct store *idx, struct store_filter f,
			     uint64_t after, size_t stop_after)
{
	struct seen_rows s = { .stop_after = stop_after };

	check(store_each(idx, &f, after, collect, &s) == 0);
	return s;
}

static uint64_t pos_of(struct store *idx, const char *id)
{
	struct seen_rows s = each(idx, (struct store_filter){ .scope = STORE_ALL }, 0, 0);
	size_t i;

	for (i = 0; i < s.n; i++)
		if (strcmp(s.id[i], id) == 0)
			return s.pos[i];
	return 0;
}

/* --- ids and inodes ------------------------------------------------------- */

static void test_id_valid(void)
{
	char id[ITEM_ID_MAX + 2];

	check(item_id_valid("630087a8b8ef87db98bac318"));
	check(item_id_valid("a"));
	check(item_id_valid("A-Z_0-9"));
	check(!item_id_valid(""));
	check(!item_id_valid(NULL));
	check(!item_id_valid("."));
	check(!item_id_valid(".."));
	check(!item_id_valid("a/b"));
	check(!item_id_valid("a b"));
	check(!item_id_valid("a.json"));
	check(!item_id_valid("\xc2\xb5"));
	memset(id, 'a', sizeof(id));
	id[ITEM_ID_MAX] = '\0';
	check(item_id_valid(id));
	id[ITEM_ID_MAX] = 'a';
	id[ITEM_ID_MAX + 1] = '\0';
	check(!item_id_valid(id));
}

static void test_inode(void)
{
	uint64_t a = stat_ino("prod2", "profile", "630087a8b8ef87db98bac318");

	check(a == 0xfa80b24cb5b0ac8fULL);
	check(a != stat_ino("prod", "profile", "630087a8b8ef87db98bac318"));
	check(a != stat_ino("prod2", "list", "630087a8b8ef87db98bac318"));
	check(stat_ino("", "", "") >= 16);
}

/* --- writes --------------------------------------------------------------- */

static void test_put_find(void)
{
	struct store *idx = fresh(NULL);
	struct item *old, *cur;
	uint64_t pos;
	bool changed;

	check(put_text(idx, "{\"id\":\"b\",\"modifiedTime\":5,\"createdTime\":2,"
			"\"x\":1}", 1, &changed) == 0 && changed);
	put_ok(idx, "{\"id\":\"a\",\"modifiedTime\":7}", 1);
	check(store_count(idx) == 2);
	old = store_find(idx, "b");
	check(old && strcmp(old->id, "b") == 0);
	check(old->modified_ms == 5 && old->created_ms == 2);
	check(old->size == strlen(old->data) && old->data[old->size - 1] == '\n');
	check(old->compact_size == strlen("{\"id\":\"b\",\"modifiedTime\":5,"
					   "\"createdTime\":2,\"x\":1}"));
	check(store_find(idx, "c") == NULL && store_find(idx, "../a") == NULL);
	pos = pos_of(idx, "b");

	/* identical: not changed */
	check(put_text(idx, "{\"id\":\"b\",\"modifiedTime\":5,\"createdTime\":2,"
			"\"x\":1}", 2, &changed) == 0 && !changed);
	/* different: changed, same rowid, the old copy is untouched */
	check(put_text(idx, "{\"id\":\"b\",\"modifiedTime\":9,\"x\":2}", 2,
			&changed) == 0 && changed);
	check(pos_of(idx, "b") == pos);
	cur = store_find(idx, "b");
	check(cur && cur->modified_ms == 9 && cur->created_ms == 0);
	check(strstr(old->data, "\"x\":\t1") && strstr(cur->data, "\"x\":\t2"));
	check(store_count(idx) == 2 && store_newest(idx) == 9);
	item_unref(old);
	item_unref(cur);
	item_unref(NULL);
	check(store_bytes(idx) > 0);
	store_close(idx);
	store_close(NULL);
}

static void count_removed(const char *id, void *arg)
{
	size_t *n = arg;

	check(strtol(id + 1, NULL, 10) % 2 == 1);
	(*n)++;
}

static void test_sweep(void)
{
	struct store *idx = fresh(NULL);
	char text[128], id[16];
	size_t removed = 0;
	int i;

	check(store_begin(idx) == 0);
	check(store_begin(idx) == -EBUSY);
	for (i = 0; i < 3000; i++) {
		snprintf(text, sizeof(text), "{\"id\":\"p%d\",\"modifiedTime\":%d}",
			 i, 1000 + i);
		put_ok(idx, text, 1);
	}
	check(store_commit(idx) == 0);
	check(store_commit(idx) == -EINVAL);
	/* pass 2 sees the even ones (identical re-put) */
	check(store_begin(idx) == 0);
	for (i = 0; i < 3000; i += 2) {
		snprintf(text, sizeof(text), "{\"id\":\"p%d\",\"modifiedTime\":%d}",
			 i, 1000 + i);
		put_ok(idx, text, 2);
	}
	check(store_commit(idx) == 0);
	check(store_newest(idx) == 3999);
	check(store_sweep(idx, 2, count_removed, &removed) == 1500);
	check(removed == 1500);
	check(store_count(idx) == 1500 && store_newest(idx) == 3998);
	for (i = 0; i < 3000; i += 7) {
		struct item *item;

		snprintf(id, sizeof(id), "p%d", i);
		item = store_find(idx, id);
		check((item != NULL) == (i % 2 == 0));
		item_unref(item);
	}
	check(store_sweep(idx, 2, NULL, NULL) == 0);
	/* a sweep in a batch that is rolled back removes nothing */
	check(store_begin(idx) == 0);
	check(store_sweep(idx, 3, NULL, NULL) == 1500);
	check(store_count(idx) == 0);
	store_rollback(idx);
	check(store_count(idx) == 1500);
	check(store_sweep(idx, 3, NULL, NULL) == 1500);
	check(store_count(idx) == 0 && store_newest(idx) == 0);
	store_close(idx);
}

static void test_state(void)
{
	struct store *idx = fresh(NULL);
	int64_t v = 42;

	check(store_state_get(idx, "cursor", &v) == -ENOENT && v == 42);
	check(store_state_set(idx, "cursor", -7) == 0);
	check(store_state_get(idx, "cursor", &v) == 0 && v == -7);
	check(store_state_set(idx, "cursor", INT64_MAX) == 0);
	check(store_state_get(idx, "cursor", &v) == 0 && v == INT64_MAX);
	/* in a batch: seen by the batch's thread, gone on rollback */
	check(store_begin(idx) == 0);
	check(store_state_set(idx, "other", 1) == 0);
	check(store_state_get(idx, "other", &v) == 0 && v == 1);
	store_rollback(idx);
	check(store_state_get(idx, "other", &v) == -ENOENT);
	store_close(idx);
}

/* store_find_bytes and store_stat tell what store_find tells, without parsing. */
static void test_bytes_and_stat(void)
{
	struct store *idx = fresh(NULL);
	struct item *full, *bytes;
	int64_t modified = 0;
	uint64_t size = 0;

	put_ok(idx, "{\"id\":\"b\",\"modifiedTime\":5,\"createdTime\":2,"
	       "\"profileWorkflow\":{\"profileLists\":[3]}}", 1);
	full = store_find(idx, "b");
	bytes = store_find_bytes(idx, "b");
	check(full && bytes && strcmp(bytes->id, "b") == 0);
	check(bytes->size == full->size &&
	       memcmp(bytes->data, full->data, full->size) == 0);
	check(bytes->modified_ms == 5 && bytes->created_ms == 2);
	check(bytes->compact_size == full->compact_size);
	check(bytes->n_partner_lists == 0 && full->n_partner_lists == 1);
	check(store_stat(idx, "b", &size, &modified, NULL) == 0);
	check(size == full->size && modified == 5);
	check(store_find_bytes(idx, "c") == NULL);
	check(store_stat(idx, "c", &size, &modified, NULL) == -ENOENT);
	check(store_stat(idx, "../b", &size, &modified, NULL) == -ENOENT);
	item_unref(full);
	item_unref(bytes);
	store_close(idx);
}

/* Documents: bytes as given (NUL-terminated copy), times; -ENOENT. */
static void test_docs(void)
{
	struct store *idx = fresh(NULL);
	int64_t fetched = 0, mtime = 0;
	size_t size = 0;
	char *data = NULL;

	check(store_doc_get(idx, "me", &data, &size, &fetched, &mtime) == -ENOENT);
	check(store_doc_set(idx, "me", "{\"a\":\"\0\"}", 9, 1000, 2000) == 0);
	check(store_doc_get(idx, "me", &data, &size, &fetched, &mtime) == 0);
	check(size == 9 && memcmp(data, "{\"a\":\"\0\"}", 9) == 0);
	check(data[9] == '\0' && fetched == 1000 && mtime == 2000);
	free(data);
	check(store_doc_set(idx, "me", "{}", 2, 3000, 4000) == 0);
	check(store_doc_get(idx, "me", &data, &size, &fetched, &mtime) == 0);
	check(size == 2 && fetched == 3000 && mtime == 4000);
	free(data);
	store_close(idx);
}

static void expect_channel(struct store *idx, const char *type, const char *cid,
			   const char *want_id)
{
	struct item *item = store_find_channel(idx, type, cid);

	if (!want_id) {
		check(item == NULL);
		return;
	}
	check(item && strcmp(item->id, want_id) == 0);
	item_unref(item);
}

#define TW(id, cid) "{\"id\":\"" id "\",\"profiles\":[{\"channelType\":" \
	"\"TWITTER\",\"channelId\":\"" cid "\"}]}"

static void test_channels(void)
{
	struct store *idx = fresh(NULL);

	put_ok(idx, "{\"id\":\"p1\",\"profiles\":[{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"11\"},{\"channelType\":\"EMAIL\","
	       "\"channelId\":\"a@example.com\"}]}", 1);
	expect_channel(idx, "TWITTER", "11", "p1");
	expect_channel(idx, "EMAIL", "a@example.com", "p1");
	expect_channel(idx, "TWITTER", "a@example.com", NULL);
	/* replace: the old identity goes, the new one comes */
	put_ok(idx, TW("p1", "12"), 4);
	expect_channel(idx, "TWITTER", "11", NULL);
	expect_channel(idx, "EMAIL", "a@example.com", NULL);
	expect_channel(idx, "TWITTER", "12", "p1");
	/* three claims: the smallest id answers, the next takes over */
	put_ok(idx, TW("p2", "12"), 5);
	put_ok(idx, TW("p0", "12"), 3);
	expect_channel(idx, "TWITTER", "12", "p0");
	check(store_sweep(idx, 4, NULL, NULL) == 1);
	expect_channel(idx, "TWITTER", "12", "p1");
	check(store_sweep(idx, 5, NULL, NULL) == 1);
	expect_channel(idx, "TWITTER", "12", "p2");
	check(store_sweep(idx, 6, NULL, NULL) == 1);
	expect_channel(idx, "TWITTER", "12", NULL);
	expect_channel(idx, NULL, "12", NULL);
	store_close(idx);
}

/* store_find_member of profile "p": the same answers as the item's. */
static void expect_member(struct store *idx, const char *space, int64_t list,
			  bool member)
{
	struct item *item = store_find_member(idx, "p", space, list);

	check(member == (item != NULL));
	check(!item || (strcmp(item->id, "p") == 0 && !item->data));
	check(item || errno == ENOENT);
	item_unref(item);
}

static void test_lists(void)
{
	struct store *idx = fresh(NULL);
	struct item *item;

	put_ok(idx, "{\"id\":\"p\",\"profileWorkflow\":{\"profileLists\":[2,17518,"
	       "\"3\",1.5,null],\"profileSpaceWorkflows\":[{\"spaceId\":\"1000004509\","
	       "\"profileLists\":[2691,3]},{\"spaceId\":4706,\"profileLists\":[1]},"
	       "{\"spaceId\":\"../x\",\"profileLists\":[9]},{\"spaceId\":1.5,"
	       "\"profileLists\":[8]},{\"profileLists\":[7]},"
	       "{\"spaceId\":\"5547\",\"profileLists\":[]}]}}", 1);
	item = store_find(idx, "p");
	check(item->n_partner_lists == 2);
	check(item_in_partner_list(item, 2));
	check(item_in_partner_list(item, 17518));
	check(!item_in_partner_list(item, 3));
	check(item->n_space_lists == 3);
	check(item_in_space_list(item, "1000004509", 2691));
	check(item_in_space_list(item, "1000004509", 3));
	check(item_in_space_list(item, "4706", 1));
	check(!item_in_space_list(item, "4706", 3));
	check(!item_in_space_list(item, "../x", 9));
	check(!item_in_space_list(item, NULL, 1));
	item_unref(item);
	expect_member(idx, "", 17518, true);
	expect_member(idx, "", 3, false);
	expect_member(idx, "1000004509", 2691, true);
	expect_member(idx, "4706", 1, true);
	expect_member(idx, "4706", 3, false);
	expect_member(idx, "1000004509", 2, false);
	check(store_find_member(idx, "q", "", 2) == NULL && errno == ENOENT);
	store_close(idx);
}

static void test_hostile(void)
{
	static const char *bad[] = {
		"{\"id\":12}", "{\"id\":null}", "{}", "[]", "\"id\"", "null",
		"{\"id\":\"\"}", "{\"id\":\"..\"}", "{\"id\":\"a/b\"}",
		"{\"id\":[\"a\"]}", "{\"id\":\"a\\u0000b\"}",
	};
	static const char *odd[] = {
		"{\"id\":\"h1\",\"profiles\":\"TWITTER\",\"profileWorkflow\":[1,2]}",
		"{\"id\":\"h2\",\"profiles\":[null,1,\"x\",[],{\"channelType\":1,"
		"\"channelId\":\"2\"},{\"channelType\":\"T\"},{\"channelType\":\"..\","
		"\"channelId\":\"x\"},{\"channelType\":\"T\",\"channelId\":\"a/b\"}],"
		"\"profileWorkflow\":{\"profileLists\":[\"a\",{},null],"
		"\"profileSpaceWorkflows\":[null,{\"spaceId\":null},{\"spaceId\":\"s\","
		"\"profileLists\":\"x\"}]},\"modifiedTime\":\"1\",\"createdTime\":null}",
		"{\"id\":\"h3\",\"profileWorkflow\":{\"profileLists\":null,"
		"\"profileSpaceWorkflows\":{\"spaceId\":\"s\"}},\"modifiedTime\":1e300,"
		"\"createdTime\":-1e300}",
		"{\"id\":\"h4\",\"profileWorkflow\":null,\"profiles\":null,"
		"\"modifiedTime\":[],\"nested\":{\"a\":{\"b\":[null,[null,{}]]}}}",
		"{\"id\":\"h5\",\"profiles\":[{\"channelType\":\"T\",\"channelId\":\"1\"},"
		"{\"channelType\":\"T\",\"channelId\":\"1\"}],\"profileWorkflow\":"
		"{\"profileLists\":[4,4]}}",
	};
	struct store *idx = fresh(NULL);
	struct item *item;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(put_text(idx, bad[i], 1, NULL) == -EINVAL);
	check(store_count(idx) == 0);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		put_ok(idx, odd[i], 1);
	check(store_count(idx) == 5);
	item = store_find(idx, "h2");
	check(item->n_channels == 0 && item->n_partner_lists == 0);
	check(item->n_space_lists == 0 && item->modified_ms == 0);
	item_unref(item);
	item = store_find(idx, "h3");
	check(item->modified_ms == 0 && item->created_ms == 0);
	item_unref(item);
	check(store_newest(idx) == 0);
	/* duplicates within one profile are stored once */
	expect_channel(idx, "T", "1", "h5");
	check(each(idx, (struct store_filter){ .scope = STORE_PARTNER_LIST, .list_id = 4 },
		    0, 0).n == 1);
	store_close(idx);
}

/* --- iteration ------------------------------------------------------------ */

static void test_each_all(void)
{
	struct store *idx = fresh(NULL);
	struct seen_rows s, rest;
	char text[64];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "{\"id\":\"q%d\",\"modifiedTime\":%d}",
			 9 - i, i);
		put_ok(idx, text, 1);
	}
	s = each(idx, (struct store_filter){ .scope = STORE_ALL }, 0, 0);
	check(s.n == 10);
	check(strcmp(s.id[0], "q9") == 0);	/* insertion order */
	check(strcmp(s.id[0], "q9") == 0);
	check(s.size[0] == strlen("{\n\t\"id\":\t\"q9\",\n\t\"modifiedTime\":\t0\n}\n"));
	rest = each(idx, (struct store_filter){ .scope = STORE_ALL }, s.pos[4], 0);
	check(rest.n == 5 && rest.pos[0] == s.pos[5]);
	rest = each(idx, (struct store_filter){ .scope = STORE_ALL }, 0, 3);
	check(rest.n == 3);
	rest = each(idx, (struct store_filter){ .scope = STORE_ALL }, s.pos[9], 0);
	check(rest.n == 0);
	check(store_each(idx, NULL, 0, collect, &rest) == -EINVAL);
	check(store_each(idx, &(struct store_filter){ .scope = STORE_CHANNEL_TYPE }, 0,
			collect, &rest) == -EINVAL);
	check(store_each(idx, &(struct store_filter){ .scope = STORE_SPACE_LIST, .list_id = 1 },
			0, collect, &rest) == -EINVAL);
	store_close(idx);
}

static void test_each_lists(void)
{
	struct store *idx = fresh(NULL);
	struct store_filter partner = { .scope = STORE_PARTNER_LIST, .list_id = 1 };
	struct store_filter space = { .scope = STORE_SPACE_LIST, .space_id = "5547",
				    .list_id = 9 };
	struct seen_rows s;

	put_ok(idx, "{\"id\":\"m3\",\"profileWorkflow\":{\"profileLists\":[1]}}", 1);
	put_ok(idx, "{\"id\":\"m1\",\"profileWorkflow\":{\"profileLists\":[2],"
	       "\"profileSpaceWorkflows\":[{\"spaceId\":\"5547\","
	       "\"profileLists\":[9]}]}}", 1);
	put_ok(idx, "{\"id\":\"m2\",\"profileWorkflow\":{\"profileLists\":[1,2],"
	       "\"profileSpaceWorkflows\":[{\"spaceId\":5547,"
	       "\"profileLists\":[9,1]}]}}", 1);
	put_ok(idx, "{\"id\":\"m4\",\"profileWorkflow\":{"
	       "\"profileSpaceWorkflows\":[{\"spaceId\":\"5548\","
	       "\"profileLists\":[9]}]}}", 1);
	s = each(idx, partner, 0, 0);
	check(s.n == 2 && strcmp(s.id[0], "m3") == 0 && strcmp(s.id[1], "m2") == 0);
	check(s.pos[0] == pos_of(idx, "m3") && s.pos[1] == pos_of(idx, "m2"));
	check(strcmp(s.id[1], "m2") == 0);
	check(each(idx, partner, s.pos[0], 0).n == 1);
	s = each(idx, space, 0, 0);
	check(s.n == 2 && strcmp(s.id[0], "m1") == 0 && strcmp(s.id[1], "m2") == 0);
	check(each(idx, space, 0, 1).n == 1);
	/* leaving a list; changing the profile keeps its place */
	put_ok(idx, "{\"id\":\"m2\",\"profileWorkflow\":{\"profileLists\":[2]}}", 1);
	s = each(idx, partner, 0, 0);
	check(s.n == 1 && strcmp(s.id[0], "m3") == 0);
	s = each(idx, space, 0, 0);
	check(s.n == 1 && strcmp(s.id[0], "m1") == 0);
	check(each(idx, (struct store_filter){ .scope = STORE_PARTNER_LIST, .list_id = 2 },
		    0, 0).n == 2);
	store_close(idx);
}

static void test_each_channels(void)
{
	struct store *idx = fresh(NULL);
	struct store_filter tw = { .scope = STORE_CHANNEL_TYPE, .channel_type = "TWITTER" };
	struct item *p1;
	struct seen_rows s, again;
	GPtrArray *types = NULL;

	check(store_channel_types(idx, &types) == 0 && types->len == 0);
	g_ptr_array_unref(types);
	put_ok(idx, "{\"id\":\"p2\",\"profiles\":[{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"12\"},{\"channelType\":\"EMAIL\",\"channelId\":\"x\"}]}",
	       1);
	put_ok(idx, "{\"id\":\"p1\",\"profiles\":[{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"11\"},{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"12\"}]}", 1);
	put_ok(idx, TW("p0", "13"), 1);
	put_ok(idx, "{\"id\":\"p3\",\"profiles\":[{\"channelType\":\"ALPHA\","
	       "\"channelId\":\"1\"}]}", 1);
	s = each(idx, tw, 0, 0);
	check(s.n == 3);
	check(strcmp(s.cid[0], "12") == 0 && strcmp(s.id[0], "p1") == 0);
	check(strcmp(s.cid[1], "11") == 0 && strcmp(s.id[1], "p1") == 0);
	check(strcmp(s.cid[2], "13") == 0 && strcmp(s.id[2], "p0") == 0);
	p1 = store_find(idx, "p1");
	check(s.size[0] == p1->size);
	item_unref(p1);
	again = each(idx, tw, s.pos[0], 0);
	check(again.n == 2 && again.pos[0] == s.pos[1]);
	check(each(idx, tw, 0, 2).n == 2);
	/* changing a profile keeps the places of the channels it still claims */
	put_ok(idx, "{\"id\":\"p1\",\"x\":1,\"profiles\":[{\"channelType\":"
	       "\"TWITTER\",\"channelId\":\"12\"}]}", 1);
	again = each(idx, tw, 0, 0);
	check(again.n == 2 && again.pos[0] == s.pos[0] && again.pos[1] == s.pos[2]);
	check(strcmp(again.id[0], "p1") == 0);

	check(store_channel_types(idx, &types) == 0 && types->len == 3);
	check(strcmp(g_ptr_array_index(types, 0), "ALPHA") == 0 &&
	      strcmp(g_ptr_array_index(types, 1), "EMAIL") == 0 &&
	      strcmp(g_ptr_array_index(types, 2), "TWITTER") == 0);
	g_ptr_array_unref(types);
	check(each(idx, (struct store_filter){ .scope = STORE_CHANNEL_TYPE,
		    .channel_type = "NONE" }, 0, 0).n == 0);
	store_close(idx);
}

/* --- profiles.ndjson ------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The reference: compact lines sorted by id, concatenated. */
static char *ndjson_reference(const char *const *texts, int n, size_t *len)
{
	char **lines = calloc(n, sizeof(*lines)), *out;
	size_t total = 0, at = 0;
	int i;

	for (i = 0; i < n; i++) {
		cJSON *root = parse(texts[i]);

		lines[i] = cJSON_PrintUnformatted(root);
		total += strlen(lines[i]) + 1;
		cJSON_Delete(root);
	}
	qsort(lines, n, sizeof(*lines), cmp_str);	/* ids lead each line */
	out = malloc(total + 1);
	for (i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);

		memcpy(out + at, lines[i], l);
		out[at + l] = '\n';
		at += l + 1;
		cJSON_free(lines[i]);
	}
	free(lines);
	*len = total;
	return out;
}

static void read_in_pieces(struct store_lines *lines, const char *want,
			   size_t len, size_t piece)
{
	char *buf = malloc(len + piece);
	size_t at = 0;
	ssize_t n;

	for (;;) {
		n = lines_read(lines, buf + at, piece, (off_t)at);
		check(n >= 0);
		if (n == 0)
			break;
		check((size_t)n == piece || at + (size_t)n == len);
		at += (size_t)n;
	}
	check(at == len && memcmp(buf, want, len) == 0);
	check(lines_read(lines, buf, 10, (off_t)len + 5) == 0);
	check(lines_read(lines, buf, 10, -1) == -EINVAL);
	free(buf);
}

static void read_at(struct store_lines *lines, const char *want, size_t len,
		    size_t off, size_t size, char *buf)
{
	size_t expect = off >= len ? 0 : size < len - off ? size : len - off;
	ssize_t n = lines_read(lines, buf, size, (off_t)off);

	check(n == (ssize_t)expect);
	check(memcmp(buf, want + off, expect) == 0);
}

static void read_random(struct store_lines *lines, const char *want, size_t len,
			int reads)
{
	char *buf = malloc(70000);
	int i;

	for (i = 0; i < reads; i++)
		read_at(lines, want, len, (size_t)rand() % (len + 10),
			(size_t)rand() % (i % 3 ? 5000 : 70000), buf);
	free(buf);
}

static void read_everywhere(struct store *idx, const char *const *texts,
			    int n)
{
	struct store_lines *lines;
	size_t len, off, size;
	char *want = ndjson_reference(texts, n, &len), buf[512];

	check(len < sizeof(buf) - 8);
	check(lines_open(idx, &ndjson_all, &lines) == 0);
	check(lines_size(lines) == len);
	for (off = 0; off <= len + 2; off++)
		for (size = 0; size <= len + 2 - off; size++)
			read_at(lines, want, len, off, size, buf);
	lines_close(lines);
	free(want);
}

static void test_lines_small(void)
{
	struct store *idx = fresh(NULL);
	const char *texts[] = {
		"{\"id\":\"c\",\"s\":\"a b\\\"c\\\\\",\"n\":[1, 2]}",
		"{\"id\":\"a\",\"modifiedTime\":1}",
		"{\"id\":\"b\",\"o\":{\"k\":\"\\n \\t\"}}",
		"{\"id\":\"d\"}",
	};
	struct store_lines *lines;
	char buf[8];
	int i;

	check(lines_open(idx, &ndjson_all, &lines) == 0);
	check(lines_size(lines) == 0);
	check(lines_read(lines, buf, sizeof(buf), 0) == 0);
	lines_close(lines);
	lines_close(NULL);
	for (i = 0; i < 4; i++)
		put_ok(idx, texts[i], 1);
	read_everywhere(idx, texts, 4);
	store_close(idx);
}

static void test_lines(void)
{
	enum { N = 300 };
	struct store *idx = fresh(NULL);
	struct store_lines *lines;
	char *texts[N], *want, *more;
	size_t len;
	int i;

	check(store_begin(idx) == 0);
	for (i = 0; i < N; i++) {
		texts[i] = profile_text(i, 1641055332180 + i);
		put_ok(idx, texts[i], 1);
	}
	check(store_commit(idx) == 0);
	want = ndjson_reference((const char *const *)texts, N, &len);
	check(lines_open(idx, &ndjson_all, &lines) == 0);
	check(lines_size(lines) == len);
	read_in_pieces(lines, want, len, 1);
	read_in_pieces(lines, want, len, 7);
	read_in_pieces(lines, want, len, 4096);
	read_in_pieces(lines, want, len, len + 100);
	read_random(lines, want, len, 1000);

	/* the store changes under the view: the view does not */
	check(store_begin(idx) == 0);
	for (i = 0; i < N; i += 3) {
		more = profile_text(i, 1);
		put_ok(idx, more, 2);
		free(more);
	}
	more = profile_text(N + 1, 5);
	put_ok(idx, more, 2);
	free(more);
	check(store_commit(idx) == 0);
	check(store_sweep(idx, 2, NULL, NULL) == N - N / 3);
	check(store_count(idx) == N / 3 + 1);
	check(lines_size(lines) == len);
	read_random(lines, want, len, 300);
	read_in_pieces(lines, want, len, 131072);
	lines_close(lines);

	/* a new view sees the new store */
	check(lines_open(idx, &ndjson_all, &lines) == 0);
	check(lines_size(lines) < len);
	lines_close(lines);
	free(want);
	for (i = 0; i < N; i++)
		free(texts[i]);
	store_close(idx);
}

/* --- the file ------------------------------------------------------------- */

static void test_reopen(void)
{
	struct store *idx;
	struct item *item;
	char path[128];
	struct stat st;
	uint64_t pos;
	int64_t v;
	int n;

	idx = fresh(&n);
	put_ok(idx, "{\"id\":\"k1\",\"modifiedTime\":3,\"profileWorkflow\":"
	       "{\"profileLists\":[5]}}", 1);
	put_ok(idx, TW("k2", "77"), 1);
	check(store_state_set(idx, "pass", 1) == 0);
	pos = pos_of(idx, "k2");
	store_close(idx);
	path_of(path, sizeof(path), n, "");
	check(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

	idx = open_at(n);
	check(store_count(idx) == 2 && store_newest(idx) == 3);
	check(pos_of(idx, "k2") == pos);
	item = store_find(idx, "k1");
	check(item && item_in_partner_list(item, 5));
	item_unref(item);
	expect_channel(idx, "TWITTER", "77", "k2");
	check(store_state_get(idx, "pass", &v) == 0 && v == 1);
	store_close(idx);
}

static void expect_broken(int n, const char *why)
{
	char path[128], broken[128];
	struct store *idx = NULL;
	struct stat st;

	path_of(path, sizeof(path), n, "");
	path_of(broken, sizeof(broken), n, ".broken");
	check(store_open(path, 0, &idx) == 1);
	check(stat(broken, &st) == 0);
	check(store_count(idx) == 0);
	put_ok(idx, "{\"id\":\"x\"}", 1);
	check(store_count(idx) == 1);
	store_close(idx);
	/* and now it is ours */
	check(store_open(path, 0, &idx) == 0);
	check(store_count(idx) == 1);
	store_close(idx);
	(void)why;
}

/* --- the total row and the count of profiles per custom field ------------- */

/* The rows of a query on store n's committed state, as "a,b;c,d;". */
static char *rows_of(int n, const char *sql)
{
	GString *out = g_string_new(NULL);
	sqlite3_stmt *stmt;
	char path[128];
	sqlite3 *db;
	int i;

	path_of(path, sizeof(path), n, "");
	check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	      SQLITE_OK);
	check(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(stmt); i++)
			g_string_append_printf(out, "%s%s", i ? "," : "",
					       (const char *)sqlite3_column_text(stmt, i));
		g_string_append_c(out, ';');
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return g_string_free(out, FALSE);
}

static void check_rows(int n, const char *sql, const char *want)
{
	char *got = rows_of(n, sql);

	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s\n  got  %s\n  want %s\n", sql, got, want);
		check(!"rows as wanted");
	}
	g_free(got);
}

static const char SQL_FIELDS[] =
	"SELECT space, key, profiles FROM field ORDER BY space, key";
/* the total row against the sums of the profiles' own sizes */
static const char SQL_TOTAL_EXACT[] =
	"SELECT t.profiles = (SELECT count(*) FROM profile),"
	" t.ndjson = (SELECT coalesce(sum(compact_size + 1), 0) FROM profile),"
	" t.csv = (SELECT coalesce(sum(csv_size), 0) FROM profile),"
	" t.profiles FROM total t";

static void put_fields(struct store *idx, const char *id, const char *own,
		       const char *space, uint64_t pass)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"id\":\"%s\",\"modifiedTime\":1000,\"profileWorkflow\":"
		 "{\"customProperties\":{%s},\"profileSpaceWorkflows\":"
		 "[{\"spaceId\":\"4706\",\"customProperties\":{%s}}]}}",
		 id, own, space);
	put_ok(idx, text, pass);
}

/*
 * Every put, change and delete counts in the total row and in the field
 * counts once its batch commits, and a rollback counts nothing; a field no
 * profile holds any more has no row.
 */
static void test_sums(void)
{
	int n;
	struct store *idx = fresh(&n);

	check_rows(n, SQL_TOTAL_EXACT, "1,1,1,0;");
	check(store_begin(idx) == 0);
	put_fields(idx, "a", "\"x\":[\"1\"],\"y\":[\"2\"]", "\"x\":[\"3\"]", 1);
	put_fields(idx, "b", "\"x\":[\"4\"]", "", 1);
	put_fields(idx, "c", "", "", 1);
	check(store_count(idx) == 3);	/* its own batch, seen by its thread */
	check_rows(n, SQL_FIELDS, "");	/* not committed yet */
	check(store_commit(idx) == 0);
	check_rows(n, SQL_FIELDS, ",x,2;,y,1;4706,x,1;");
	check_rows(n, SQL_TOTAL_EXACT, "1,1,1,3;");

	/* a change: y and the workspace's x go, z comes */
	put_fields(idx, "a", "\"x\":[\"1\"],\"z\":[\"5\"]", "", 1);
	check_rows(n, SQL_FIELDS, ",x,2;,z,1;");
	check_rows(n, SQL_TOTAL_EXACT, "1,1,1,3;");

	/* rolled back: nothing counted */
	check(store_begin(idx) == 0);
	put_fields(idx, "d", "\"w\":[\"6\"]", "", 1);
	put_fields(idx, "b", "\"v\":[\"7\"]", "", 1);
	store_rollback(idx);
	check_rows(n, SQL_FIELDS, ",x,2;,z,1;");
	check_rows(n, SQL_TOTAL_EXACT, "1,1,1,3;");

	/* within one batch: a new profile, then its change, then a sweep */
	check(store_begin(idx) == 0);
	put_fields(idx, "e", "\"w\":[\"6\"]", "", 2);
	put_fields(idx, "e", "\"u\":[\"8\"]", "", 2);
	put_fields(idx, "a", "\"x\":[\"1\"],\"z\":[\"5\"]", "", 2);
	check(store_sweep(idx, 2, NULL, NULL) == 2);	/* b and c */
	check(store_commit(idx) == 0);
	check_rows(n, SQL_FIELDS, ",u,1;,x,1;,z,1;");
	check_rows(n, SQL_TOTAL_EXACT, "1,1,1,2;");
	check(store_sweep(idx, 3, NULL, NULL) == 2);
	check_rows(n, SQL_FIELDS, "");
	check_rows(n, SQL_TOTAL_EXACT, "1,1,1,0;");
	store_close(idx);
}

/* --- the WAL's checkpoints ------------------------------------------------- */

/* checkpoint.c: CKPT_FRAMES_MIN, CKPT_BOUND times it, CKPT_SHARE */
#define WAL_COPY_FRAMES 8192
#define WAL_BOUND_FRAMES (4 * WAL_COPY_FRAMES)
#define WAL_SHARE 8

/*
 * From the store's wal-index (its -shm file, in SQLite's documented format
 * and the machine's byte order): frames in the WAL (mxFrame, in the first
 * header) and frames copied into the database (nBackfill, after both).
 */
static void wal_index(int n, uint32_t *frames, uint32_t *copied)
{
	unsigned char hdr[100];
	char path[128];
	int fd;

	path_of(path, sizeof(path), n, "-shm");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	check(fd >= 0);
	check(pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr));
	close(fd);
	memcpy(frames, hdr + 16, sizeof(*frames));
	memcpy(copied, hdr + 96, sizeof(*copied));
}

/* A batch of 200 new generated profiles; *next is the first one's number. */
static void put_batch(struct store *idx, int *next)
{
	char *text;
	int i;

	check(store_begin(idx) == 0);
	for (i = 0; i < 200; i++, (*next)++) {
		text = profile_text(*next, 1641055332180 + *next);
		put_ok(idx, text, 1);
		free(text);
	}
	check(store_commit(idx) == 0);
}

/*
 * The WAL is copied into the database within 10 s, with a batch put
 * meanwhile every 10 ms when write (a round comes after a commit), and
 * the next commit writes it from its beginning again.
 */
static void check_copied_restarted(struct store *idx, int n, int *next,
				   bool write)
{
	uint32_t frames, copied, before;
	int waited;

	wal_index(n, &frames, &copied);
	for (waited = 0; copied < frames && waited < 10000; waited += 10) {
		if (write)
			put_batch(idx, next);
		usleep(10000);
		wal_index(n, &frames, &copied);
	}
	check(copied == frames);
	before = frames;
	put_batch(idx, next);
	wal_index(n, &frames, &copied);
	check(frames < before);
}

/*
 * Past 32 MiB (in a small store) the WAL is copied into the database
 * with no further write (by the store's checkpoint thread); the next
 * commit then writes it from its beginning again. Under writes that never stop, it stays within its
 * bound; a reader holding its snapshot holds the copy back without
 * stopping the writes. Closing the store leaves no WAL and every profile.
 */
static void test_checkpoints(void)
{
	uint32_t frames, copied, most = 0;
	struct store *idx;
	int n, next = 0;
	char wal[128], path[128];
	struct stat sb;
	sqlite3 *db;

	idx = fresh(&n);
	do {
		put_batch(idx, &next);
		wal_index(n, &frames, &copied);
	} while (frames < WAL_COPY_FRAMES);
	check_copied_restarted(idx, n, &next, false);

	while (next < 40000) {
		put_batch(idx, &next);
		wal_index(n, &frames, &copied);
		if (frames > most)
			most = frames;
	}
	/* one batch writes far fewer than 4096 frames */
	check(most < WAL_BOUND_FRAMES + 4096);
	check(store_count(idx) == 40000);

	/*
	 * A reader that keeps its snapshot (an export being read) keeps the
	 * WAL from being copied past it: the writes go on, each commit past
	 * the bound waiting for a round, and once it lets go the WAL is
	 * copied and started again.
	 */
	path_of(path, sizeof(path), n, "");
	check(sqlite3_open(path, &db) == SQLITE_OK);
	check(sqlite3_exec(db, "BEGIN; SELECT count(*) FROM profile", NULL,
			   NULL, NULL) == SQLITE_OK);
	do {
		put_batch(idx, &next);
		wal_index(n, &frames, &copied);
	} while (frames < WAL_BOUND_FRAMES + 2048 && next < 200000);
	check(frames >= WAL_BOUND_FRAMES + 2048);
	check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	check_copied_restarted(idx, n, &next, true);
	check(store_count(idx) == (size_t)next);
	store_close(idx);
	path_of(wal, sizeof(wal), n, "-wal");
	check(stat(wal, &sb) < 0 && errno == ENOENT);
	idx = open_at(n);
	check(store_count(idx) == (size_t)next);
	store_close(idx);
}

/*
 * In a store of 512 MiB the copy starts when the WAL reaches an eighth of
 * it, 64 MiB: past 32 MiB it is neither copied nor started again (with
 * the small store's start a round would have copied it long before), and
 * then it is.
 */
static void test_checkpoint_share(void)
{
	uint32_t frames, copied, last = 0;
	struct store *idx;
	int n, next = 0;
	char path[128];
	struct stat sb;
	sqlite3 *db;
	int64_t start;

	idx = fresh(&n);
	store_close(idx);
	path_of(path, sizeof(path), n, "");
	check(sqlite3_open(path, &db) == SQLITE_OK);
	check(sqlite3_exec(db, "INSERT INTO doc(key, data, fetched, mtime)"
			   " VALUES('padding', zeroblob(536870912), 0, 0)",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);	/* the last connection: the WAL copied, gone */
	check(stat(path, &sb) == 0);
	start = sb.st_size / 4096 / WAL_SHARE;
	check(start > 2 * WAL_COPY_FRAMES);

	idx = open_at(n);
	do {
		put_batch(idx, &next);
		wal_index(n, &frames, &copied);
		check(frames >= last && (frames >= start || copied == 0));
		last = frames;
	} while (frames < start);
	check_copied_restarted(idx, n, &next, false);
	check(store_count(idx) == (size_t)next);
	store_close(idx);
	remove_store(n);
}

static void make_sqlite(const char *path, const char *sql)
{
	sqlite3 *db;

	check(sqlite3_open(path, &db) == SQLITE_OK);
	check(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

/* A store that fails under a reader: the finds say so (errno), rather than
 * passing for an unknown id, which would cost a GET and then ENOENT. */
static void test_failing_store(void)
{
	char path[128], id[64], *text, junk[4096];
	struct store *idx;
	struct stat st;
	int n, i, fd;
	off_t off;

	idx = fresh(&n);
	check(store_begin(idx) == 0);
	for (i = 0; i < 300; i++) {
		text = profile_text(i, 1000 + i);
		put_ok(idx, text, 1);
		free(text);
	}
	check(store_commit(idx) == 0);
	store_close(idx);
	idx = open_at(n);
	snprintf(id, sizeof(id), "%016x%08x", (unsigned)(7 * 2654435761u), 7);
	errno = 0;
	check(store_find(idx, "absent") == NULL && errno == ENOENT);
	errno = 0;
	check(store_find_bytes(idx, "absent") == NULL && errno == ENOENT);
	errno = 0;
	check(store_find_channel(idx, "NOPE", "1") == NULL && errno == ENOENT);
	path_of(path, sizeof(path), n, "");
	fd = open(path, O_WRONLY);
	check(fd >= 0 && fstat(fd, &st) == 0);
	memset(junk, 0xa5, sizeof(junk));
	for (off = 2 * 4096; off < st.st_size; off += (off_t)sizeof(junk))
		check(pwrite(fd, junk, sizeof(junk), off) ==
		       (ssize_t)sizeof(junk));
	close(fd);
	errno = 0;
	check(store_find(idx, id) == NULL && errno != 0 && errno != ENOENT);
	errno = 0;
	check(store_find_bytes(idx, id) == NULL && errno != 0 && errno != ENOENT);
	store_close(idx);
}

static void test_broken(void)
{
	static const char garbage[] = "this is not an SQLite database, not at "
		"all, and it goes on for a while so that the header is read";
	char path[128];
	int n, fd;

	n = ++stores;
	remove_store(n);
	path_of(path, sizeof(path), n, "");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0);
	check(write(fd, garbage, sizeof(garbage)) == (ssize_t)sizeof(garbage));
	close(fd);
	expect_broken(n, "garbage");

	n = ++stores;
	remove_store(n);
	path_of(path, sizeof(path), n, "");
	make_sqlite(path, "CREATE TABLE t(x); PRAGMA user_version = 99;");
	expect_broken(n, "unknown version");

	n = ++stores;
	remove_store(n);
	path_of(path, sizeof(path), n, "");
	make_sqlite(path, "CREATE TABLE t(x);");
	expect_broken(n, "somebody else's");
}

/* --- threads and processes ------------------------------------------------ */

struct race {
	struct store *idx;
	int stop;
};

static int check_entry(const struct store_entry *e, void *arg)
{
	(void)arg;
	check(e->id[0] == 'r' && e->size > 0);
	return 0;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	struct store_filter all = { .scope = STORE_ALL };
	struct store_lines *lines;
	char buf[512];

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct item *item = store_find(r->idx, "r1");

		if (item)
			check(item->data[item->size - 1] == '\n');
		item_unref(item);
		check(store_each(r->idx, &all, 0, check_entry, NULL) == 0);
		check(lines_open(r->idx, &ndjson_all, &lines) == 0);
		check(lines_read(lines, buf, sizeof(buf), 3) >= 0);
		lines_close(lines);
		(void)store_count(r->idx);
	}
	return NULL;
}

static void test_threads(void)
{
	struct race r = { .idx = fresh(NULL) };
	pthread_t t[6];
	char text[96];
	int i;

	for (i = 0; i < 6; i++)
		check(pthread_create(&t[i], NULL, reader, &r) == 0);
	for (i = 0; i < 4000; i++) {
		if (i % 50 == 0)
			check(store_begin(r.idx) == 0);
		snprintf(text, sizeof(text), "{\"id\":\"r%d\",\"v\":%d}", i % 50, i);
		put_ok(r.idx, text, (uint64_t)i);
		if (i % 50 == 49)
			check(store_commit(r.idx) == 0);
		if (i % 100 == 99)
			store_sweep(r.idx, (uint64_t)i - 20, NULL, NULL);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	/* the last sweep (pass 3979) left r29..r49 */
	check(store_count(r.idx) == 21);
	store_close(r.idx);
}

struct other_put {
	struct store *idx;
	int done;
};

static void *put_from_other(void *arg)
{
	struct other_put *o = arg;

	put_ok(o->idx, "{\"id\":\"from-b\"}", 1);
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_two_handles(void)
{
	struct store *a, *b;
	struct other_put o;
	struct item *item;
	pthread_t t;
	int64_t v;
	int n;

	a = fresh(&n);
	b = open_at(n);
	put_ok(a, "{\"id\":\"from-a\"}", 1);
	item = store_find(b, "from-a");
	check(item);
	item_unref(item);
	check(store_count(b) == 1);
	/* a batch of a is seen by b when committed */
	check(store_begin(a) == 0);
	put_ok(a, "{\"id\":\"batch\"}", 1);
	check(store_state_set(a, "k", 9) == 0);
	check(store_find(b, "batch") == NULL);
	check(store_state_get(b, "k", &v) == -ENOENT);
	/* b's write waits for a's batch */
	o = (struct other_put){ .idx = b };
	check(pthread_create(&t, NULL, put_from_other, &o) == 0);
	usleep(200000);
	check(!__atomic_load_n(&o.done, __ATOMIC_ACQUIRE));
	check(store_commit(a) == 0);
	pthread_join(t, NULL);
	check(store_count(a) == 3 && store_count(b) == 3);
	check(store_state_get(b, "k", &v) == 0 && v == 9);
	item = store_find(a, "from-b");
	check(item);
	item_unref(item);
	check(store_sweep(b, 2, NULL, NULL) == 3);
	check(store_count(a) == 0);
	store_close(a);
	store_close(b);
}

/* --- measuring ------------------------------------------------------------ */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int count_entry(const struct store_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

static void measure_reads(struct store *idx, int n)
{
	struct store_lines *lines;
	char *buf = malloc(131072), id[32];
	double t = now();
	uint64_t off = 0, size;
	size_t seen = 0;
	ssize_t got;
	int i;

	for (i = 0; i < 10000; i++) {
		int k = rand() % n;
		struct item *item;

		snprintf(id, sizeof(id), "%016x%08x", (unsigned)(k * 2654435761u), k);
		item = store_find(idx, id);
		check(item);
		item_unref(item);
	}
	printf("  store_find (random)   %8.1f us each\n", (now() - t) / 1e4 * 1e6);
	t = now();
	check(store_each(idx, &(struct store_filter){ .scope = STORE_ALL }, 0, count_entry,
			&seen) == 0 && seen == (size_t)n);
	printf("  store_each all        %8.3f s\n", now() - t);
	t = now();
	check(lines_open(idx, &ndjson_all, &lines) == 0);
	size = lines_size(lines);
	do {
		got = lines_read(lines, buf, 131072, (off_t)off);
		off += got > 0 ? (uint64_t)got : 0;
	} while (got > 0);
	check(off == size);
	printf("  ndjson sequential   %8.3f s (%.0f MB)\n", now() - t, size / 1e6);
	t = now();
	check(lines_read(lines, buf, 4096, (off_t)(size / 2)) == 4096);
	printf("  ndjson first seek   %8.3f s (builds the line ends)\n", now() - t);
	lines_close(lines);
	printf("  store_count %zu, store_newest %" PRId64 "\n", store_count(idx),
	       store_newest(idx));
	free(buf);
}

static void measure(int n)
{
	struct store *idx = fresh(NULL);
	double t = now();
	int i;

	printf("measure: %d template profiles, batches of 100\n", n);
	for (i = 0; i < n; i++) {
		char *text = profile_text(i, 1641055332180 + i);

		if (i % 100 == 0)
			check(store_begin(idx) == 0);
		put_ok(idx, text, 1);
		free(text);
		if (i % 100 == 99 || i == n - 1)
			check(store_commit(idx) == 0);
	}
	t = now() - t;
	printf("  put                 %8.3f s (%.0f profiles/s)\n", t, n / t);
	printf("  store               %8.0f bytes/profile\n",
	       (double)store_bytes(idx) / n);
	printf("  peak RSS after put  %8ld KiB\n", peak_rss_kib());
	measure_reads(idx, n);
	printf("  peak RSS at the end %8ld KiB\n", peak_rss_kib());
	store_close(idx);
}

int main(int argc, char *argv[])
{
	const char *tmp = getenv("TMPDIR");
	int i;

	snprintf(dir, sizeof(dir), "%s/test_index.XXXXXX", tmp ? tmp : "/tmp");
	check(mkdtemp(dir));
	test_id_valid();
	test_inode();
	test_put_find();
	test_sweep();
	test_state();
	test_bytes_and_stat();
	test_docs();
	test_channels();
	test_lists();
	test_hostile();
	test_each_all();
	test_each_lists();
	test_each_channels();
	test_lines_small();
	test_lines();
	test_reopen();
	test_broken();
	test_failing_store();
	test_threads();
	test_two_handles();
	test_sums();
	test_checkpoints();
	test_checkpoint_share();
	printf("index: 23 tests passed\n");
	if (argc > 1)
		measure((int)strtol(argv[1], NULL, 10));
	for (i = 1; i <= stores; i++)
		remove_store(i);
	rmdir(dir);
	return 0;
}
