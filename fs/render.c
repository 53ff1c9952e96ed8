/*
 * render.c - profile JSON as bytes, and a profile as an index item.
 *
 * A profile file is cJSON's formatted print of the object the API returned,
 * plus a final newline: keys stay in API order, unknown fields stay, UTF-8
 * passes through as is, and the same object always gives the same bytes.
 * Integers print as integers. cJSON's "%1.15g" is exact up to 15 digits
 * (every epoch-ms time); larger integers up to 2^53 are printed here with
 * "%lld" instead (print_exact), so only integers beyond 2^53, which cJSON
 * already rounds when it parses them, can change.
 *
 * cJSON turns a \u0000 escape into a NUL that ends the C string, which would
 * cut content or make two ids alias; render_fix_nul_escapes() rewrites those
 * escapes to \uFFFD in the raw text before it is parsed.
 *
 * render_item() trusts nothing but the id: every other field may be missing
 * or of the wrong type, and then less is extracted. The item is one heap
 * block laid out as
 *   struct idx_item | partner list ids | space lists | channels | strings | data
 * so a profile costs one allocation. Extraction walks the profile twice, once
 * to measure and once to fill, through the same code. An item is freed by
 * whoever drops its last reference (see the essay in index.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "render.h"

#define EXACT_FROM 1e15			/* "%1.15g" is exact below */
#define EXACT_UP_TO 9007199254740992.0	/* 2^53: doubles are exact below */

static bool inexact_integer(const cJSON *node)
{
	double v = node->valuedouble;

	/* the range first: casting a larger double is undefined */
	if (!cJSON_IsNumber(node) || !(v <= EXACT_UP_TO && v >= -EXACT_UP_TO))
		return false;
	return (v >= EXACT_FROM || v <= -EXACT_FROM) && v == (double)(long long)v;
}

static bool needs_exact(const cJSON *node)
{
	for (; node; node = node->next)
		if (inexact_integer(node) || needs_exact(node->child))
			return true;
	return false;
}

/* Turns such integers into raw nodes holding their exact digits. */
static int make_exact(cJSON *node)
{
	char digits[32];

	for (; node; node = node->next) {
		if (inexact_integer(node)) {
			snprintf(digits, sizeof(digits), "%lld",
				 (long long)node->valuedouble);
			node->valuestring = strdup(digits);
			if (!node->valuestring)
				return -ENOMEM;
			node->type = cJSON_Raw;
		}
		if (make_exact(node->child) < 0)
			return -ENOMEM;
	}
	return 0;
}

static char *print_exact(const cJSON *item)
{
	cJSON *copy;
	char *text = NULL;

	if (!inexact_integer(item) && !needs_exact(item->child))
		return cJSON_Print(item);
	copy = cJSON_Duplicate(item, true);
	if (copy && make_exact(copy) == 0)
		text = cJSON_Print(copy);
	cJSON_Delete(copy);
	return text;
}

int render_json(const cJSON *item, char **data, size_t *size)
{
	char *text, *out;
	size_t len;

	if (!item)
		return -EINVAL;
	text = print_exact(item);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	out = malloc(len + 2);
	if (!out) {
		cJSON_free(text);
		return -ENOMEM;
	}
	memcpy(out, text, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	cJSON_free(text);
	*data = out;
	*size = len + 1;
	return 0;
}

/* At json[i], just after a backslash inside a string: the escape's length. */
static size_t fix_escape(char *json, size_t len, size_t i)
{
	if (i >= len)
		return 0;
	if (json[i] == 'u' && len - i >= 5 && memcmp(json + i + 1, "0000", 4) == 0) {
		memcpy(json + i + 1, "FFFD", 4);
		return 5;
	}
	return 1;
}

void render_fix_nul_escapes(char *json, size_t len)
{
	bool in_string = false;
	size_t i = 0;

	while (i < len) {
		char c = json[i++];

		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c == '\\')
			i += fix_escape(json, len, i);
		else if (c == '"')
			in_string = false;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t render_compact(const char *data, size_t size, size_t from, size_t to,
		      char *out)
{
	bool in_string = false, escaped = false;
	size_t pos = 0, n = 0, i;

	for (i = 0; i < size && pos < to; i++) {
		char c = data[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (is_space(c)) {
			continue;
		} else if (c == '"') {
			in_string = true;
		}
		if (pos >= from) {
			if (out)
				out[n] = c;
			n++;
		}
		pos++;
	}
	return n;
}

/* --- items -------------------------------------------------------------- */

bool idx_id_valid(const char *id)
{
	size_t i;

	if (!id || !id[0])
		return false;
	for (i = 0; id[i]; i++) {
		char c = id[i];

		if (i >= IDX_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void idx_item_unref(struct idx_item *item)
{
	if (item && __atomic_sub_fetch(&item->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(item);
}

bool idx_item_in_partner_list(const struct idx_item *item, int64_t list_id)
{
	size_t i;

	for (i = 0; item && i < item->n_partner_lists; i++)
		if (item->partner_lists[i] == list_id)
			return true;
	return false;
}

bool idx_item_in_space_list(const struct idx_item *item, const char *space_id,
			    int64_t list_id)
{
	size_t i;

	for (i = 0; item && space_id && i < item->n_space_lists; i++)
		if (item->space_lists[i].list_id == list_id &&
		    strcmp(item->space_lists[i].space_id, space_id) == 0)
			return true;
	return false;
}

/* --- extraction ---------------------------------------------------------- */

struct builder {
	struct idx_item *item;	/* NULL while measuring */
	char *strings;		/* next free byte of the string area */
	size_t n_partner;
	size_t n_space;
	size_t n_channels;
	size_t string_bytes;
};

/* A JSON number that is an integer representable in int64_t. */
bool render_int64(const cJSON *v, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	/* false for NaN and infinities too */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	if ((double)(int64_t)d != d)
		return false;
	*out = (int64_t)d;
	return true;
}

/* v if it is an array, else NULL (which iterates as empty). */
static const cJSON *json_array(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

static int64_t json_time(const cJSON *obj, const char *key)
{
	int64_t ms = 0;

	if (!render_int64(cJSON_GetObjectItemCaseSensitive(obj, key), &ms))
		return 0;
	return ms;
}

/* A name usable as one path component: no '/', not "." or "..". */
static bool name_ok(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, IDX_ID_MAX + 1);
	if (len == 0 || len > IDX_ID_MAX || memchr(s, '/', len))
		return false;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static char *add_string(struct builder *b, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = b->strings;

	b->string_bytes += len;
	if (!b->item)
		return NULL;
	memcpy(copy, s, len);
	b->strings += len;
	return copy;
}

static void add_partner_lists(struct builder *b, const cJSON *lists)
{
	const cJSON *v;
	int64_t id;

	cJSON_ArrayForEach(v, json_array(lists)) {
		if (!render_int64(v, &id))
			continue;
		if (b->item)
			b->item->partner_lists[b->n_partner] = id;
		b->n_partner++;
	}
}

/* The workspace id as text: a valid id string, or an integer number. */
static bool space_id_text(const cJSON *v, char *buf, size_t size)
{
	int64_t n;
	int len;

	if (cJSON_IsString(v) && idx_id_valid(v->valuestring)) {
		len = snprintf(buf, size, "%s", v->valuestring);
		return len > 0 && (size_t)len < size;
	}
	if (!render_int64(v, &n))
		return false;
	len = snprintf(buf, size, "%" PRId64, n);
	return len > 0 && (size_t)len < size && idx_id_valid(buf);
}

static void add_space_workflow(struct builder *b, const cJSON *flow)
{
	char space[IDX_ID_MAX + 1];
	const cJSON *lists, *v;
	char *shared = NULL;
	bool have = false;
	int64_t id;

	if (!cJSON_IsObject(flow) ||
	    !space_id_text(cJSON_GetObjectItemCaseSensitive(flow, "spaceId"),
			   space, sizeof(space)))
		return;
	lists = cJSON_GetObjectItemCaseSensitive(flow, "profileLists");
	cJSON_ArrayForEach(v, json_array(lists)) {
		if (!render_int64(v, &id))
			continue;
		if (!have) {
			shared = add_string(b, space);
			have = true;
		}
		if (b->item) {
			b->item->space_lists[b->n_space].space_id = shared;
			b->item->space_lists[b->n_space].list_id = id;
		}
		b->n_space++;
	}
}

static void add_workflow(struct builder *b, const cJSON *profile)
{
	const cJSON *flow, *spaces, *v;

	flow = cJSON_GetObjectItemCaseSensitive(profile, "profileWorkflow");
	if (!cJSON_IsObject(flow))
		return;
	add_partner_lists(b, cJSON_GetObjectItemCaseSensitive(flow, "profileLists"));
	spaces = cJSON_GetObjectItemCaseSensitive(flow, "profileSpaceWorkflows");
	cJSON_ArrayForEach(v, json_array(spaces))
		add_space_workflow(b, v);
}

static void add_channel(struct builder *b, const cJSON *channel)
{
	const char *type, *id;
	char *type_copy, *id_copy;

	if (!cJSON_IsObject(channel))
		return;
	type = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(channel, "channelType"));
	id = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(channel, "channelId"));
	if (!name_ok(type) || !name_ok(id))
		return;
	type_copy = add_string(b, type);
	id_copy = add_string(b, id);
	if (b->item) {
		b->item->channels[b->n_channels].type = type_copy;
		b->item->channels[b->n_channels].channel_id = id_copy;
	}
	b->n_channels++;
}

static void walk(struct builder *b, const cJSON *profile)
{
	const cJSON *channels, *v;

	add_workflow(b, profile);
	channels = cJSON_GetObjectItemCaseSensitive(profile, "profiles");
	cJSON_ArrayForEach(v, json_array(channels))
		add_channel(b, v);
}

/* Allocates the block for what a measuring walk found and points into it. */
static struct idx_item *item_alloc(const struct builder *m, size_t data_size)
{
	size_t head = sizeof(struct idx_item);
	size_t pl = m->n_partner * sizeof(int64_t);
	size_t sl = m->n_space * sizeof(struct idx_space_list);
	size_t ch = m->n_channels * sizeof(struct idx_channel);
	struct idx_item *item;
	char *p;

	item = calloc(1, head + pl + sl + ch + m->string_bytes + data_size + 1);
	if (!item)
		return NULL;
	p = (char *)item + head;
	item->partner_lists = m->n_partner ? (int64_t *)p : NULL;
	p += pl;
	item->space_lists = m->n_space ? (struct idx_space_list *)p : NULL;
	p += sl;
	item->channels = m->n_channels ? (struct idx_channel *)p : NULL;
	p += ch;
	item->data = p + m->string_bytes;
	return item;
}

static void item_fill(struct idx_item *item, const cJSON *profile,
		      const char *env, const char *data, size_t size)
{
	const char *id = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(profile, "id"));

	snprintf(item->id, sizeof(item->id), "%s", id);
	item->modified_ms = json_time(profile, "modifiedTime");
	item->created_ms = json_time(profile, "createdTime");
	item->ino = idx_inode(env, "profile", id);
	memcpy(item->data, data, size);
	item->data[size] = '\0';
	item->size = size;
	item->compact_size = render_compact(data, size, 0, SIZE_MAX, NULL);
	item->refs = 1;
}

/* Builds the item of profile around its rendered bytes data. */
static int build(const cJSON *profile, const char *env, const char *data,
		 size_t size, struct idx_item **out)
{
	struct builder m = { 0 }, b = { 0 };
	struct idx_item *item;

	walk(&m, profile);
	item = item_alloc(&m, size);
	if (!item)
		return -ENOMEM;
	b.item = item;
	b.strings = item->data - m.string_bytes;
	walk(&b, profile);
	item->n_partner_lists = b.n_partner;
	item->n_space_lists = b.n_space;
	item->n_channels = b.n_channels;
	item_fill(item, profile, env, data, size);
	*out = item;
	return 0;
}

static bool profile_ok(const cJSON *profile)
{
	const char *id = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(profile, "id"));

	return cJSON_IsObject(profile) && idx_id_valid(id);
}

int render_item(const cJSON *profile, const char *env, struct idx_item **out)
{
	size_t size;
	char *data;
	int ret;

	if (!profile_ok(profile))
		return -EINVAL;
	ret = render_json(profile, &data, &size);
	if (ret < 0)
		return ret;
	ret = build(profile, env, data, size, out);
	free(data);
	return ret;
}

int render_item_stored(const char *data, size_t size, const char *env,
		       struct idx_item **out)
{
	cJSON *profile = cJSON_ParseWithLength(data, size);
	int ret;

	if (!profile)
		return -EUCLEAN;
	ret = profile_ok(profile) ? build(profile, env, data, size, out)
				  : -EUCLEAN;
	cJSON_Delete(profile);
	return ret;
}
