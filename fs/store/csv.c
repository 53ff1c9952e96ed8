/*
 * csv.c - a profile's cells for profiles.csv (see csv.h).
 *
 * The stored form is the fixed part, a NUL, then per custom value
 * "SPACE\0KEY\0FIELD\0": no piece can hold a NUL (cJSON strings end at
 * one), so the records split back exactly. Everything here is encoded once,
 * when the profile is stored; a read only places the records in columns.
 *
 * Any field may be missing or of another type than documented: a missing
 * one is an empty field, a number or a boolean is its JSON text, an object
 * its compact JSON. A custom field's key seen twice in one place (a JSON
 * object with a repeated key) keeps its first value, as a JSON reader does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/store/csv.h"
#include "fs/store/render.h"

#define SEPARATOR '|'
#define ESCAPE '\\'

const char CSV_FIXED_HEADER[] =
	"id,created,modified,first_name,last_name,full_name,email,phone,"
	"city,country,channels,partner_lists,workspace_lists";

/* --- fields ---------------------------------------------------------------- */

static bool needs_quotes(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '"' || s[i] == ',' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

void csv_field(GString *out, const char *s, size_t len)
{
	size_t i;

	if (!needs_quotes(s, len)) {
		g_string_append_len(out, s, (gssize)len);
		return;
	}
	g_string_append_c(out, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, s[i]);
	}
	g_string_append_c(out, '"');
}

static void add_escaped(GString *raw, const char *s)
{
	for (; *s; s++) {
		if (*s == SEPARATOR || *s == ESCAPE)
			g_string_append_c(raw, ESCAPE);
		g_string_append_c(raw, *s);
	}
}

/* One value of a multi-valued field, its separator and escape escaped. */
static void add_value(GString *raw, const char *s)
{
	if (raw->len)
		g_string_append_c(raw, SEPARATOR);
	add_escaped(raw, s);
}

/* A scalar's text; a missing value or null is none (false). */
static bool scalar_text(const cJSON *v, GString *text)
{
	char *json;
	int64_t n;

	g_string_truncate(text, 0);
	if (!v || cJSON_IsNull(v))
		return false;
	if (cJSON_IsString(v)) {
		g_string_append(text, v->valuestring);
	} else if (render_int64(v, &n)) {
		g_string_append_printf(text, "%" PRId64, n);
	} else {
		json = cJSON_PrintUnformatted(v);
		g_string_append(text, json ? json : "");
		free(json);
	}
	return true;
}

/* A value or an array of values, joined. */
static void add_values(GString *raw, GString *text, const cJSON *v)
{
	const cJSON *one;

	if (!cJSON_IsArray(v)) {
		if (scalar_text(v, text))
			add_value(raw, text->str);
		return;
	}
	cJSON_ArrayForEach(one, v)
		if (scalar_text(one, text))
			add_value(raw, text->str);
}

/* --- the fixed columns ----------------------------------------------------- */

struct fixed {
	GString *cells;		/* the stored form */
	GString *raw;		/* the field being made, unencoded */
	GString *text;		/* one value's text */
};

static void end_field(struct fixed *f)
{
	if (f->cells->len)
		g_string_append_c(f->cells, ',');
	csv_field(f->cells, f->raw->str, f->raw->len);
	g_string_truncate(f->raw, 0);
}

/* v when it is an array (an object), else NULL, which iterates as empty. */
static const cJSON *array_of(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

static const cJSON *object_of(const cJSON *v)
{
	return cJSON_IsObject(v) ? v : NULL;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key)
				   : NULL;
}

static void plain(struct fixed *f, const cJSON *v)
{
	if (scalar_text(v, f->text))
		g_string_append_len(f->raw, f->text->str,
				    (gssize)f->text->len);
	end_field(f);
}

/* Epoch milliseconds as ISO 8601 UTC with milliseconds. */
static void iso_time(struct fixed *f, const cJSON *v)
{
	int64_t ms, secs;
	struct tm tm;
	time_t t;
	char buf[64];

	if (render_int64(v, &ms)) {
		secs = ms / 1000 - (ms % 1000 < 0);
		t = (time_t)secs;
		if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf),
						  "%Y-%m-%dT%H:%M:%S", &tm))
			g_string_append_printf(f->raw, "%s.%03dZ", buf,
					       (int)(ms - secs * 1000));
	} else if (v) {
		scalar_text(v, f->raw);
	}
	end_field(f);
}

/* "A:B" of two scalars, as one value (':' needs no escape). */
static void add_pair(struct fixed *f, const cJSON *a, const cJSON *b)
{
	scalar_text(a, f->text);
	add_value(f->raw, f->text->str);
	g_string_append_c(f->raw, ':');
	scalar_text(b, f->text);
	add_escaped(f->raw, f->text->str);
}

static void channels(struct fixed *f, const cJSON *list)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, array_of(list))
		if (cJSON_IsObject(v))
			add_pair(f, member(v, "channelType"),
				 member(v, "channelId"));
	end_field(f);
}

static void space_lists(struct fixed *f, const cJSON *spaces)
{
	const cJSON *flow, *lists, *v;

	cJSON_ArrayForEach(flow, array_of(spaces)) {
		lists = member(flow, "profileLists");
		cJSON_ArrayForEach(v, array_of(lists))
			add_pair(f, member(flow, "spaceId"), v);
	}
	end_field(f);
}

static void fixed_fields(struct fixed *f, const cJSON *profile)
{
	const cJSON *contact = member(profile, "contact");
	const cJSON *address = member(contact, "address");
	const cJSON *flow = member(profile, "profileWorkflow");

	plain(f, member(profile, "id"));
	iso_time(f, member(profile, "createdTime"));
	iso_time(f, member(profile, "modifiedTime"));
	plain(f, member(contact, "firstName"));
	plain(f, member(contact, "lastName"));
	plain(f, member(contact, "fullName"));
	plain(f, member(contact, "email"));
	plain(f, member(contact, "phoneNo"));
	plain(f, member(address, "city"));
	plain(f, member(address, "country"));
	channels(f, member(profile, "profiles"));
	add_values(f->raw, f->text, member(flow, "profileLists"));
	end_field(f);
	space_lists(f, member(flow, "profileSpaceWorkflows"));
}

/* --- the custom values ----------------------------------------------------- */

struct custom {
	GString *cells;
	GString *raw;
	GString *text;
	size_t size;		/* the encoded fields' bytes */
};

/* Whether the cells made so far have a record of (space, key): a profile
 * holds few, so a walk is cheaper than a table. */
static bool has_record(const struct custom *c, const char *space,
		       const char *key)
{
	struct csv_cell cell;
	size_t pos = 0;

	while (csv_each_cell(c->cells->str, c->cells->len, &pos, &cell))
		if (strcmp(cell.key, key) == 0 && strcmp(cell.space, space) == 0)
			return true;
	return false;
}

static void custom_record(struct custom *c, const char *space,
			  const cJSON *prop)
{
	size_t before;

	if (has_record(c, space, prop->string))
		return;	/* a repeated key: the first one counts */
	g_string_truncate(c->raw, 0);
	add_values(c->raw, c->text, prop);
	g_string_append_len(c->cells, space, (gssize)strlen(space) + 1);
	g_string_append_len(c->cells, prop->string,
			    (gssize)strlen(prop->string) + 1);
	before = c->cells->len;
	csv_field(c->cells, c->raw->str, c->raw->len);
	c->size += c->cells->len - before;
	g_string_append_c(c->cells, '\0');
}

static void custom_props(struct custom *c, const char *space,
			 const cJSON *props)
{
	const cJSON *prop;

	cJSON_ArrayForEach(prop, object_of(props))
		if (prop->string)
			custom_record(c, space, prop);
}

static void custom_fields(struct custom *c, const cJSON *profile)
{
	const cJSON *flow = member(profile, "profileWorkflow");
	const cJSON *spaces = member(flow, "profileSpaceWorkflows");
	const cJSON *one;
	char *space;

	custom_props(c, "", member(flow, "customProperties"));
	cJSON_ArrayForEach(one, array_of(spaces)) {
		/* a workspace without an id has no column to go in */
		if (!scalar_text(member(one, "spaceId"), c->text) ||
		    !c->text->len)
			continue;
		space = g_strdup(c->text->str);
		custom_props(c, space, member(one, "customProperties"));
		g_free(space);
	}
}

/* --- cells ------------------------------------------------------------------ */

int csv_cells(const cJSON *profile, GString *cells, size_t *size)
{
	struct fixed f = { cells, g_string_new(NULL), g_string_new(NULL) };
	struct custom c = { cells, f.raw, f.text, 0 };
	size_t fixed_len;

	if (!cJSON_IsObject(profile))
		return -EINVAL;
	g_string_truncate(cells, 0);
	fixed_fields(&f, profile);
	fixed_len = cells->len;
	g_string_append_c(cells, '\0');
	custom_fields(&c, profile);
	g_string_free(f.raw, TRUE);
	g_string_free(f.text, TRUE);
	*size = fixed_len + c.size;
	return 0;
}

const char *csv_fixed_part(const char *cells, size_t n, size_t *len)
{
	const char *end = cells ? memchr(cells, '\0', n) : NULL;

	if (!end)
		return NULL;
	*len = (size_t)(end - cells);
	return cells;
}

/* The NUL-ended piece at *pos; NULL when there is none. */
static const char *piece(const char *cells, size_t n, size_t *pos,
			 size_t *len)
{
	const char *start = cells + *pos;
	const char *end = *pos < n ? memchr(start, '\0', n - *pos) : NULL;

	if (!end)
		return NULL;
	*len = (size_t)(end - start);
	*pos += *len + 1;
	return start;
}

bool csv_each_cell(const char *cells, size_t n, size_t *pos,
		   struct csv_cell *cell)
{
	size_t len;

	if (*pos == 0 && !piece(cells, n, pos, &len))	/* the fixed part */
		return false;
	cell->space = piece(cells, n, pos, &len);
	cell->key = cell->space ? piece(cells, n, pos, &len) : NULL;
	cell->field = cell->key ? piece(cells, n, pos, &cell->field_len)
				: NULL;
	return cell->field != NULL;
}
