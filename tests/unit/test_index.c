/*
 * test_index.c - the profile index: ids, inodes, put/replace/sweep, lookups,
 * item lifetimes, snapshots and profiles.ndjson, hostile input.
 *
 * With an argument, also measures heap bytes per profile for the NDJSON file
 * it names (one profile per line), e.g. profiles dumped from the fake.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "index.h"

#define TEMPLATE \
	"{\"id\":\"%s\",\"contact\":{\"firstName\":\"Ol\xc3\xbawaseun\"," \
	"\"lastName\":\"Nowak\",\"fullName\":\"Ol\xc3\xbawaseun Nowak\"," \
	"\"email\":\"oluwaseun.nowak%d@example.com\",\"phoneNo\":\"+1555%07d\"," \
	"\"address\":{\"city\":\"Osaka\",\"country\":\"JP\"}}," \
	"\"demographics\":{\"location\":\"apac\",\"gender\":\"F\",\"language\":\"en\"}," \
	"\"profiles\":[" CHANNEL("INSTAGRAM", "1") "," CHANNEL("FACEBOOK", "2") "]," \
	"\"profileWorkflow\":{\"profileLists\":[1]," \
	"\"customProperties\":{\"_c_c3a9c69c78a6ccb84882546f\":[\"value 535\"]," \
	"\"_c_e38d0d99261683911e6ab731\":[\"Sports\"]," \
	"\"_c_ce135d0c081f0e9e838af624\":[\"S\"]}," \
	"\"profileSpaceWorkflows\":[{\"spaceId\":\"5547\",\"profileLists\":[]," \
	"\"customProperties\":{}}]}," \
	"\"createdTime\":1629021796238,\"modifiedTime\":%" PRId64 "}"
#define CHANNEL(type, n) \
	"{\"name\":\"Ol\xc3\xbawaseun Nowak\",\"channelType\":\"" type "\"," \
	"\"channelId\":\"" n "%012d\",\"username\":\"oluwaseunnowak7\"," \
	"\"permalink\":\"https://social.example.com/x/" n "%012d\"," \
	"\"avatarUrl\":\"https://img.example.com/a/" n "%012d.png\"," \
	"\"followers\":32910,\"following\":475,\"verified\":false,\"deleted\":false," \
	"\"snCreatedTime\":0,\"snModifiedTime\":1641052922486," \
	"\"accountSpecificInfos\":[{\"accountId\":1000136639}]," \
	"\"bio\":\"\xc3\x9cn\xc3\xaf\x63\xc3\xb6\x64\xc3\xa9 fan\"}"

static cJSON *parse(const char *text)
{
	cJSON *root = cJSON_ParseWithLength(text, strlen(text));

	assert(root);
	return root;
}

/* Parses as the sync engine does: NUL escapes fixed first. */
static int put_text(struct idx *idx, const char *text, uint64_t pass)
{
	char *copy = strdup(text);
	cJSON *root;
	int64_t ms = -1;
	int ret;

	assert(copy);
	render_fix_nul_escapes(copy, strlen(copy));
	root = parse(copy);
	ret = idx_put(idx, root, pass, &ms);
	cJSON_Delete(root);
	free(copy);
	assert(ret < 0 ? ms == -1 : ms >= 0);
	return ret;
}

static void put_ok(struct idx *idx, const char *text, uint64_t pass)
{
	assert(put_text(idx, text, pass) == 0);
}

static void test_id_valid(void)
{
	char id[IDX_ID_MAX + 2];

	assert(idx_id_valid("630087a8b8ef87db98bac318"));
	assert(idx_id_valid("a"));
	assert(idx_id_valid("A-Z_0-9"));
	assert(!idx_id_valid(""));
	assert(!idx_id_valid(NULL));
	assert(!idx_id_valid("."));
	assert(!idx_id_valid(".."));
	assert(!idx_id_valid("a/b"));
	assert(!idx_id_valid("/"));
	assert(!idx_id_valid("a b"));
	assert(!idx_id_valid("a.json"));
	assert(!idx_id_valid("\xc2\xb5"));
	assert(!idx_id_valid("a\n"));
	memset(id, 'a', sizeof(id));
	id[IDX_ID_MAX] = '\0';
	assert(idx_id_valid(id));
	id[IDX_ID_MAX] = 'a';
	id[IDX_ID_MAX + 1] = '\0';
	assert(!idx_id_valid(id));
}

static void test_inode(void)
{
	uint64_t a = idx_inode("prod2", "profile", "630087a8b8ef87db98bac318");

	assert(a == 0xfa80b24cb5b0ac8fULL);
	assert(a == idx_inode("prod2", "profile", "630087a8b8ef87db98bac318"));
	assert(a != idx_inode("prod", "profile", "630087a8b8ef87db98bac318"));
	assert(a != idx_inode("prod2", "list", "630087a8b8ef87db98bac318"));
	assert(idx_inode("", "", "") >= 16);
}

static void test_put_replace(void)
{
	struct idx *idx = idx_new("prod2");
	struct idx_snapshot *s1, *s2;
	struct idx_item *old, *cur;
	int64_t ms = 0;
	cJSON *root;

	put_ok(idx, "{\"id\":\"b\",\"modifiedTime\":5,\"createdTime\":2,\"x\":1}", 1);
	put_ok(idx, "{\"id\":\"a\",\"modifiedTime\":7}", 1);
	assert(idx_count(idx) == 2);
	old = idx_find(idx, "b");
	assert(old && old->modified_ms == 5 && old->created_ms == 2);
	assert(old->ino == idx_inode("prod2", "profile", "b"));
	assert(old->size == strlen(old->data) && old->data[old->size - 1] == '\n');

	/* identical re-put: same item, same snapshot */
	s1 = idx_snapshot(idx);
	root = parse("{\"id\":\"b\",\"modifiedTime\":5,\"createdTime\":2,\"x\":1}");
	assert(idx_put(idx, root, 2, &ms) == 0 && ms == 5);
	cJSON_Delete(root);
	cur = idx_find(idx, "b");
	assert(cur == old);
	idx_item_unref(cur);
	s2 = idx_snapshot(idx);
	assert(s1 == s2);
	idx_snapshot_unref(s2);

	/* replacement: the old item stays readable while referenced */
	put_ok(idx, "{\"id\":\"b\",\"modifiedTime\":9,\"x\":2}", 2);
	cur = idx_find(idx, "b");
	assert(cur != old && cur->modified_ms == 9 && cur->created_ms == 0);
	assert(strstr(old->data, "\"x\":\t1"));
	assert(strstr(cur->data, "\"x\":\t2"));
	assert(idx_count(idx) == 2);
	s2 = idx_snapshot(idx);
	assert(s2 != s1);
	/* the old snapshot still lists the old item */
	assert(idx_snapshot_item(s1, 1) == old);
	assert(idx_snapshot_item(s2, 1) == cur);
	idx_snapshot_unref(s1);
	idx_snapshot_unref(s2);
	idx_item_unref(old);
	idx_item_unref(cur);
	idx_item_unref(NULL);
	assert(idx_newest(idx) == 9);

	assert(idx_remove(idx, "b") == 0);
	assert(idx_remove(idx, "b") == -ENOENT);
	assert(idx_find(idx, "b") == NULL);
	assert(idx_newest(idx) == 7);
	assert(idx_remove(idx, "a") == 0);
	assert(idx_newest(idx) == 0 && idx_count(idx) == 0);
	idx_free(idx);
	idx_free(NULL);
}

static void test_sweep(void)
{
	struct idx *idx = idx_new("e");
	char text[128], id[16];
	int i;

	for (i = 0; i < 3000; i++) {
		snprintf(text, sizeof(text), "{\"id\":\"p%d\",\"modifiedTime\":%d}",
			 i, 1000 + i);
		put_ok(idx, text, 1);
	}
	/* pass 2 sees the even ones (identical re-put) */
	for (i = 0; i < 3000; i += 2) {
		snprintf(text, sizeof(text), "{\"id\":\"p%d\",\"modifiedTime\":%d}",
			 i, 1000 + i);
		put_ok(idx, text, 2);
	}
	assert(idx_newest(idx) == 3999);
	assert(idx_sweep(idx, 2) == 1500);
	assert(idx_count(idx) == 1500);
	assert(idx_newest(idx) == 3998);
	for (i = 0; i < 3000; i++) {
		struct idx_item *item;

		snprintf(id, sizeof(id), "p%d", i);
		item = idx_find(idx, id);
		assert((item != NULL) == (i % 2 == 0));
		idx_item_unref(item);
	}
	assert(idx_sweep(idx, 2) == 0);
	assert(idx_sweep(idx, 3) == 1500);
	assert(idx_count(idx) == 0 && idx_newest(idx) == 0);
	idx_free(idx);
}

static void expect_channel(struct idx *idx, const char *type, const char *cid,
			   const char *want_id)
{
	struct idx_item *item = idx_find_channel(idx, type, cid);

	if (!want_id) {
		assert(item == NULL);
		return;
	}
	assert(item && strcmp(item->id, want_id) == 0);
	idx_item_unref(item);
}

static void test_channels(void)
{
	struct idx *idx = idx_new("e");

	put_ok(idx, "{\"id\":\"p1\",\"profiles\":[{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"11\"},{\"channelType\":\"EMAIL\","
	       "\"channelId\":\"a@example.com\"}]}", 1);
	expect_channel(idx, "TWITTER", "11", "p1");
	expect_channel(idx, "EMAIL", "a@example.com", "p1");
	expect_channel(idx, "TWITTER", "a@example.com", NULL);
	expect_channel(idx, "EMAIL", "11", NULL);
	/* replace: the old identity goes, the new one comes */
	put_ok(idx, "{\"id\":\"p1\",\"profiles\":[{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"12\"}]}", 1);
	expect_channel(idx, "TWITTER", "11", NULL);
	expect_channel(idx, "EMAIL", "a@example.com", NULL);
	expect_channel(idx, "TWITTER", "12", "p1");
	/* two claims: the smallest id answers, the other takes over */
	put_ok(idx, "{\"id\":\"p2\",\"profiles\":[{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"12\"}]}", 1);
	put_ok(idx, "{\"id\":\"p0\",\"profiles\":[{\"channelType\":\"TWITTER\","
	       "\"channelId\":\"12\"}]}", 1);
	expect_channel(idx, "TWITTER", "12", "p0");
	assert(idx_remove(idx, "p0") == 0);
	expect_channel(idx, "TWITTER", "12", "p1");
	assert(idx_remove(idx, "p1") == 0);
	expect_channel(idx, "TWITTER", "12", "p2");
	assert(idx_remove(idx, "p2") == 0);
	expect_channel(idx, "TWITTER", "12", NULL);
	expect_channel(idx, NULL, "12", NULL);
	idx_free(idx);
}

static void test_lists(void)
{
	struct idx *idx = idx_new("e");
	struct idx_item *item;

	put_ok(idx, "{\"id\":\"p\",\"profileWorkflow\":{\"profileLists\":[2,17518,"
	       "\"3\",1.5,null],\"profileSpaceWorkflows\":[{\"spaceId\":\"1000004509\","
	       "\"profileLists\":[2691,3]},{\"spaceId\":4706,\"profileLists\":[1]},"
	       "{\"spaceId\":\"../x\",\"profileLists\":[9]},{\"spaceId\":1.5,"
	       "\"profileLists\":[8]},{\"profileLists\":[7]},"
	       "{\"spaceId\":\"5547\",\"profileLists\":[]}]}}", 1);
	item = idx_find(idx, "p");
	assert(item->n_partner_lists == 2);
	assert(idx_item_in_partner_list(item, 2));
	assert(idx_item_in_partner_list(item, 17518));
	assert(!idx_item_in_partner_list(item, 3));
	assert(item->n_space_lists == 3);
	assert(idx_item_in_space_list(item, "1000004509", 2691));
	assert(idx_item_in_space_list(item, "1000004509", 3));
	assert(idx_item_in_space_list(item, "4706", 1));
	assert(!idx_item_in_space_list(item, "4706", 3));
	assert(!idx_item_in_space_list(item, "../x", 9));
	assert(!idx_item_in_space_list(item, NULL, 1));
	idx_item_unref(item);
	idx_free(idx);
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
	};
	struct idx *idx = idx_new("e");
	struct idx_item *item;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert(put_text(idx, bad[i], 1) == -EINVAL);
	assert(idx_count(idx) == 0);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		put_ok(idx, odd[i], 1);
	assert(idx_count(idx) == 4);
	item = idx_find(idx, "h2");
	assert(item->n_channels == 0 && item->n_partner_lists == 0);
	assert(item->n_space_lists == 0 && item->modified_ms == 0);
	idx_item_unref(item);
	item = idx_find(idx, "h3");
	assert(item->modified_ms == 0 && item->created_ms == 0);
	idx_item_unref(item);
	assert(idx_newest(idx) == 0);
	idx_free(idx);
}

static char *profile_text(int i, int64_t modified)
{
	char id[32], *text;
	size_t size = sizeof(TEMPLATE) + 256;

	snprintf(id, sizeof(id), "%016x%08x", (unsigned)(i * 2654435761u), i);
	text = malloc(size);
	assert(text);
	snprintf(text, size, TEMPLATE, id, i, i, i, i, i, i, i, i, modified);
	return text;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The reference: compact lines sorted by id, concatenated. */
static char *ndjson_reference(char **texts, int n, size_t *len)
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

static void read_in_pieces(const struct idx_snapshot *snap, const char *want,
			   size_t len, size_t piece)
{
	char *buf = malloc(len + piece);
	size_t at = 0;
	ssize_t n;

	for (;;) {
		n = idx_snapshot_ndjson_read(snap, buf + at, piece, (off_t)at);
		assert(n >= 0);
		if (n == 0)
			break;
		assert((size_t)n <= piece);
		at += (size_t)n;
	}
	assert(at == len && memcmp(buf, want, len) == 0);
	assert(idx_snapshot_ndjson_read(snap, buf, 10, (off_t)len + 5) == 0);
	assert(idx_snapshot_ndjson_read(snap, buf, 10, -1) == -EINVAL);
	free(buf);
}

static void test_snapshot_ndjson(void)
{
	enum { N = 300 };
	struct idx *idx = idx_new("prod2");
	struct idx_snapshot *snap, *again;
	char *texts[N], *want;
	size_t len, i;

	for (i = 0; i < N; i++) {
		texts[i] = profile_text((int)i, 1641055332180 + (int64_t)i);
		put_ok(idx, texts[i], 1);
	}
	snap = idx_snapshot(idx);
	again = idx_snapshot(idx);
	assert(snap == again);
	idx_snapshot_unref(again);
	assert(idx_snapshot_count(snap) == N);
	assert(idx_snapshot_item(snap, N) == NULL);
	for (i = 1; i < N; i++)
		assert(strcmp(idx_snapshot_item(snap, i - 1)->id,
			      idx_snapshot_item(snap, i)->id) < 0);
	want = ndjson_reference(texts, N, &len);
	assert(idx_snapshot_ndjson_size(snap) == len);
	read_in_pieces(snap, want, len, 1);
	read_in_pieces(snap, want, len, 7);
	read_in_pieces(snap, want, len, 4096);
	read_in_pieces(snap, want, len, len + 100);
	idx_snapshot_unref(snap);
	free(want);
	for (i = 0; i < N; i++)
		free(texts[i]);
	/* the empty index */
	assert(idx_sweep(idx, 2) == N);
	snap = idx_snapshot(idx);
	assert(idx_snapshot_count(snap) == 0 && idx_snapshot_ndjson_size(snap) == 0);
	assert(idx_snapshot_ndjson_read(snap, (char *)&len, 1, 0) == 0);
	idx_snapshot_unref(snap);
	idx_free(idx);
}

struct race {
	struct idx *idx;
	int stop;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	char buf[512];

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct idx_snapshot *snap = idx_snapshot(r->idx);
		struct idx_item *item = idx_find(r->idx, "r1");

		if (item)
			assert(item->data[item->size - 1] == '\n');
		idx_item_unref(item);
		assert(idx_snapshot_ndjson_read(snap, buf, sizeof(buf), 3) >= 0);
		idx_snapshot_unref(snap);
	}
	return NULL;
}

static void test_threads(void)
{
	struct race r = { .idx = idx_new("e") };
	pthread_t t[3];
	char text[96];
	int i;

	for (i = 0; i < 3; i++)
		assert(pthread_create(&t[i], NULL, reader, &r) == 0);
	for (i = 0; i < 4000; i++) {
		snprintf(text, sizeof(text), "{\"id\":\"r%d\",\"v\":%d}", i % 50, i);
		put_ok(r.idx, text, (uint64_t)i);
		if (i % 100 == 99)
			idx_sweep(r.idx, (uint64_t)i - 20);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	idx_free(r.idx);
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

static void report(const char *what, struct idx *idx, size_t data,
		   size_t heap_before)
{
	size_t n = idx_count(idx), bytes = idx_bytes(idx);
	size_t heap = heap_in_use() - heap_before;

	printf("%s: %zu profiles; idx_bytes %.0f bytes/profile, malloc'd %.0f "
	       "bytes/profile, rendered JSON %.0f bytes/profile\n", what, n,
	       (double)bytes / (double)n, (double)heap / (double)n,
	       (double)data / (double)n);
}

static void measure_template(void)
{
	size_t heap_before = heap_in_use(), data = 0;
	struct idx *idx = idx_new("prod2");
	struct idx_snapshot *snap;
	int i;

	for (i = 0; i < 10000; i++) {
		char *text = profile_text(i, 1641055332180 + i);

		put_ok(idx, text, 1);
		free(text);
	}
	snap = idx_snapshot(idx);
	for (i = 0; i < 10000; i++)
		data += idx_snapshot_item(snap, (size_t)i)->size;
	idx_snapshot_unref(snap);
	report("template", idx, data, heap_before);
	idx_free(idx);
}

static void measure_file(const char *path)
{
	size_t heap_before = heap_in_use(), cap = 0, data = 0;
	struct idx *idx = idx_new("prod2");
	char *line = NULL;
	ssize_t n;
	FILE *f = fopen(path, "r");

	assert(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		cJSON *root = cJSON_ParseWithLength(line, (size_t)n);
		struct idx_item *item;
		int64_t ms;

		assert(root && idx_put(idx, root, 1, &ms) == 0);
		item = idx_find(idx, cJSON_GetObjectItem(root, "id")->valuestring);
		data += item->size;
		idx_item_unref(item);
		cJSON_Delete(root);
	}
	free(line);
	fclose(f);
	report(path, idx, data, heap_before);
	idx_free(idx);
}

int main(int argc, char *argv[])
{
	test_id_valid();
	test_inode();
	test_put_replace();
	test_sweep();
	test_channels();
	test_lists();
	test_hostile();
	test_snapshot_ndjson();
	test_threads();
	printf("index: 9 tests passed\n");
	measure_template();
	if (argc > 1)
		measure_file(argv[1]);
	return 0;
}
