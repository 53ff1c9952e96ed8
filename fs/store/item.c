/*
 * item.c - a profile as the store's item: its bytes and what the tree
 * derives from it.
 *
 * item_render() trusts nothing but the id: every other field may be missing
 * or of the wrong type, and then less is extracted. The item is one heap
 * block laid out as
 *   struct item | partner list ids | space lists | channels | strings | data
 * so a profile costs one allocation. Extraction walks the profile twice, once
 * to measure and once to fill, through the same code. An item is immutable
 * and reference-counted (atomic counts): a reader holding it keeps exactly
 * the bytes whose size it was told; whoever drops the last reference frees
 * it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/store/csv.h"
#include "fs/store/item.h"
#include "fs/store/render.h"

/* --- items -------------------------------------------------------------- */

bool item_id_valid(const char *id)
{
	size_t i;

	if (!id || !id[0])
		return false;
	for (i = 0; id[i]; i++) {
		char c = id[i];

		if (i >= ITEM_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void item_unref(struct item *item)
{
	if (item && __atomic_sub_fetch(&item->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		g_free(item->cells);
		free(item);
	}
}

bool item_in_partner_list(const struct item *item, int64_t list_id)
{
	size_t i;

	for (i = 0; item && i < item->n_partner_lists; i++)
		if (item->partner_lists[i] == list_id)
			return true;
	return false;
}

bool item_in_space_list(const struct item *item, const char *space_id,
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
	struct item *item;	/* NULL while measuring */
	char *strings;		/* next free byte of the string area */
	size_t n_partner;
	size_t n_space;
	size_t n_channels;
	size_t string_bytes;
};

/* A JSON number that is an integer representable in int64_t. */

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
	len = strnlen(s, ITEM_ID_MAX + 1);
	if (len == 0 || len > ITEM_ID_MAX || memchr(s, '/', len))
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

	if (cJSON_IsString(v) && item_id_valid(v->valuestring)) {
		len = snprintf(buf, size, "%s", v->valuestring);
		return len > 0 && (size_t)len < size;
	}
	if (!render_int64(v, &n))
		return false;
	len = snprintf(buf, size, "%" PRId64, n);
	return len > 0 && (size_t)len < size && item_id_valid(buf);
}

static void add_space_workflow(struct builder *b, const cJSON *flow)
{
	char space[ITEM_ID_MAX + 1];
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
static struct item *item_alloc(const struct builder *m, size_t data_size)
{
	size_t head = sizeof(struct item);
	size_t pl = m->n_partner * sizeof(int64_t);
	size_t sl = m->n_space * sizeof(struct item_space_list);
	size_t ch = m->n_channels * sizeof(struct item_channel);
	struct item *item;
	char *p;

	item = calloc(1, head + pl + sl + ch + m->string_bytes + data_size + 1);
	if (!item)
		return NULL;
	p = (char *)item + head;
	item->partner_lists = m->n_partner ? (int64_t *)p : NULL;
	p += pl;
	item->space_lists = m->n_space ? (struct item_space_list *)p : NULL;
	p += sl;
	item->channels = m->n_channels ? (struct item_channel *)p : NULL;
	p += ch;
	item->data = p + m->string_bytes;
	return item;
}

static void item_fill(struct item *item, const cJSON *profile,
		      const char *data, size_t size, size_t compact_size)
{
	const char *id = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(profile, "id"));

	snprintf(item->id, sizeof(item->id), "%s", id);
	item->modified_ms = json_time(profile, "modifiedTime");
	item->created_ms = json_time(profile, "createdTime");
	memcpy(item->data, data, size);
	item->data[size] = '\0';
	item->size = size;
	item->compact_size = compact_size;
	item->refs = 1;
}

/* Builds the item of profile around its rendered bytes data. */
static int build(const cJSON *profile, const char *data, size_t size,
		 size_t compact_size, struct item **out)
{
	struct builder m = { 0 }, b = { 0 };
	struct item *item;

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
	item_fill(item, profile, data, size, compact_size);
	*out = item;
	return 0;
}

static bool profile_ok(const cJSON *profile)
{
	const char *id = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(profile, "id"));

	return cJSON_IsObject(profile) && item_id_valid(id);
}

/* The item's cells for profiles.csv, made where it is rendered: in a
 * listing, on the page's thread before its turn to write (listing.c). */
static int add_cells(const cJSON *profile, struct item *item)
{
	GString *cells = g_string_new(NULL);
	int ret = csv_cells(profile, cells, &item->csv_size);

	item->cells_len = cells->len;
	item->cells = g_string_free(cells, ret < 0);
	if (ret < 0)
		item_unref(item);
	return ret;
}

int item_render(const cJSON *profile, struct item **out)
{
	size_t size, compact_size;
	char *data;
	int ret;

	if (!profile_ok(profile))
		return -EINVAL;
	ret = render_json_sized(profile, &data, &size, &compact_size);
	if (ret < 0)
		return ret;
	ret = build(profile, data, size, compact_size, out);
	free(data);
	if (ret == 0)
		ret = add_cells(profile, *out);
	return ret;
}

int item_from_stored(const char *data, size_t size, struct item **out)
{
	cJSON *profile = cJSON_ParseWithLength(data, size);
	int ret;

	if (!profile)
		return -EUCLEAN;
	ret = profile_ok(profile) ?
	      build(profile, data, size,
		    render_compact(data, size, 0, SIZE_MAX, NULL), out) :
	      -EUCLEAN;
	cJSON_Delete(profile);
	return ret;
}
