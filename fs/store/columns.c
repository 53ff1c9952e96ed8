/*
 * columns.c - profiles.csv's custom columns (see columns.h).
 *
 * A column is found by its (workspace, key) in a hash table; a row places
 * each stored record in its column's slot, then writes the slots in order.
 * The slots are the only per-row memory, one per column, reused.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fs/store/columns.h"
#include "fs/store/csv.h"

struct column {
	char *space;		/* "" at account level */
	char *key;
	char *title;		/* the header's name, unencoded */
};

struct slot {
	const char *field;
	size_t len;
};

struct csv_columns {
	GPtrArray *all;		/* struct column, in order */
	GHashTable *index;	/* struct column -> its position + 1 */
	GHashTable *labels;	/* a key of the document -> its title */
	GString *header;
	struct slot *slots;
};

static guint column_hash(gconstpointer p)
{
	const struct column *c = p;

	return g_str_hash(c->space) * 31 + g_str_hash(c->key);
}

static gboolean column_equal(gconstpointer a, gconstpointer b)
{
	const struct column *x = a, *y = b;

	return strcmp(x->space, y->space) == 0 && strcmp(x->key, y->key) == 0;
}

static void column_free(gpointer p)
{
	struct column *c = p;

	g_free(c->space);
	g_free(c->key);
	g_free(c->title);
	g_free(c);
}

static void add_column(struct csv_columns *cols, const char *space,
		       const char *key, char *title)
{
	struct column *c = g_new(struct column, 1);

	c->space = g_strdup(space);
	c->key = g_strdup(key);
	c->title = title;
	if (g_hash_table_contains(cols->index, c)) {
		column_free(c);
		return;
	}
	g_ptr_array_add(cols->all, c);
	g_hash_table_insert(cols->index, c, GUINT_TO_POINTER(cols->all->len));
}

/* --- the document ----------------------------------------------------------- */

static const char *label_of(const cJSON *field)
{
	const cJSON *label = cJSON_GetObjectItemCaseSensitive(field, "label");

	if (cJSON_IsString(label))
		return label->valuestring;
	return cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(label, "en"));
}

static const char *key_of(const cJSON *field)
{
	return cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(field, "fieldName"));
}

/* The fields: the document is their array, or an object holding it. */
static const cJSON *fields_of(const cJSON *doc)
{
	if (cJSON_IsObject(doc))
		doc = cJSON_GetObjectItemCaseSensitive(doc,
						       "PROFILE_CUSTOM_FIELDS");
	return cJSON_IsArray(doc) ? doc : NULL;
}

/* Headers are compared as loaders compare column names: without case. */
static void count_label(GHashTable *counts, const char *label)
{
	char *folded = g_utf8_casefold(label, -1);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, folded));

	g_hash_table_insert(counts, folded, GUINT_TO_POINTER(n + 1));
}

/* How many headers each label would be: the fixed columns' names count. */
static GHashTable *label_counts(const cJSON *fields)
{
	GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free, NULL);
	gchar **fixed = g_strsplit(CSV_FIXED_HEADER, ",", -1);
	const cJSON *f;
	size_t i;

	for (i = 0; fixed[i]; i++)
		count_label(counts, fixed[i]);
	g_strfreev(fixed);
	cJSON_ArrayForEach(f, fields)
		if (label_of(f) && key_of(f))
			count_label(counts, label_of(f));
	return counts;
}

static char *title_of(const cJSON *field, GHashTable *counts)
{
	const char *label = label_of(field), *key = key_of(field);
	char *folded;
	guint n;

	if (!label || !label[0])
		return g_strdup(key);
	folded = g_utf8_casefold(label, -1);
	n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, folded));
	g_free(folded);
	if (n > 1)
		return g_strdup_printf("%s (%s)", label, key);
	return g_strdup(label);
}

static void add_named(struct csv_columns *cols, const char *doc,
		      size_t doc_len)
{
	cJSON *root = doc ? cJSON_ParseWithLength(doc, doc_len) : NULL;
	const cJSON *fields = fields_of(root), *f;
	GHashTable *counts = label_counts(fields);
	char *title;

	cJSON_ArrayForEach(f, fields) {
		if (!key_of(f) || g_hash_table_contains(cols->labels, key_of(f)))
			continue;
		title = title_of(f, counts);
		g_hash_table_insert(cols->labels, g_strdup(key_of(f)),
				    g_strdup(title));
		add_column(cols, "", key_of(f), title);
	}
	g_hash_table_unref(counts);
	cJSON_Delete(root);
}

/* --- the columns ------------------------------------------------------------ */

struct csv_columns *columns_new(const char *doc, size_t doc_len)
{
	struct csv_columns *cols = g_new0(struct csv_columns, 1);

	cols->all = g_ptr_array_new_with_free_func(column_free);
	cols->index = g_hash_table_new(column_hash, column_equal);
	cols->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     g_free);
	add_named(cols, doc, doc_len);
	return cols;
}

void columns_use(struct csv_columns *cols, const char *space,
		 const char *key)
{
	const char *title = g_hash_table_lookup(cols->labels, key);

	if (!space[0])
		add_column(cols, "", key, g_strdup(title ? title : key));
	else
		add_column(cols, space, key,
			   g_strdup_printf("%s (workspace %s)",
					   title ? title : key, space));
}

const GString *columns_header(struct csv_columns *cols)
{
	struct column *c;
	guint i;

	if (cols->header)
		return cols->header;
	cols->header = g_string_new(CSV_FIXED_HEADER);
	for (i = 0; i < cols->all->len; i++) {
		c = g_ptr_array_index(cols->all, i);
		g_string_append_c(cols->header, ',');
		csv_field(cols->header, c->title, strlen(c->title));
	}
	g_string_append(cols->header, "\r\n");
	cols->slots = g_new0(struct slot, cols->all->len + 1);
	return cols->header;
}

size_t columns_count(const struct csv_columns *cols)
{
	return cols->all->len;
}

/* Places each record of the cells in its column's slot. */
static void fill_slots(struct csv_columns *cols, const char *cells, size_t n)
{
	struct csv_cell cell;
	struct column probe;
	size_t pos = 0;
	guint at;

	memset(cols->slots, 0, cols->all->len * sizeof(*cols->slots));
	while (csv_each_cell(cells, n, &pos, &cell)) {
		probe.space = (char *)cell.space;
		probe.key = (char *)cell.key;
		at = GPOINTER_TO_UINT(g_hash_table_lookup(cols->index, &probe));
		if (at) {
			cols->slots[at - 1].field = cell.field;
			cols->slots[at - 1].len = cell.field_len;
		}
	}
}

void columns_row(struct csv_columns *cols, const char *cells, size_t n,
		 GString *row)
{
	const char *fixed;
	size_t len = 0;
	guint i;

	columns_header(cols);
	g_string_truncate(row, 0);
	fixed = csv_fixed_part(cells, n, &len);
	if (fixed)
		g_string_append_len(row, fixed, (gssize)len);
	fill_slots(cols, cells, n);
	for (i = 0; i < cols->all->len; i++) {
		g_string_append_c(row, ',');
		if (cols->slots[i].field)
			g_string_append_len(row, cols->slots[i].field,
					    (gssize)cols->slots[i].len);
	}
	g_string_append(row, "\r\n");
}

void columns_free(struct csv_columns *cols)
{
	if (!cols)
		return;
	g_hash_table_unref(cols->index);
	g_hash_table_unref(cols->labels);
	g_ptr_array_unref(cols->all);
	if (cols->header)
		g_string_free(cols->header, TRUE);
	g_free(cols->slots);
	g_free(cols);
}
