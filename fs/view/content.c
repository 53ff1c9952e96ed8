/*
 * content.c - opening, reading and comparing the bytes of files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs/view/content.h"
#include "fs/view/find.h"
#include "fs/view/stat.h"
#include "fs/view/status.h"

static int open_doc(const struct node *n, GBytes **bytes, int64_t *mtime_ms,
		    char **key)
{
	*key = g_strdup(tree_doc_names[n->doc]);
	return docs_get(n->env->docs, n->doc, bytes, mtime_ms);
}

static int open_status(const struct node *n, GBytes **bytes,
		       int64_t *mtime_ms, char **key)
{
	*key = g_strdup(TREE_STATUS);
	return status_get(n->env, bytes, mtime_ms);
}

static int open_list(const struct node *n, GBytes **bytes, int64_t *mtime_ms,
		     char **key)
{
	struct doc_list list;
	int res = find_list(n, &list);

	*key = g_strdup_printf("%s/%lld/list.json", n->workspace,
			       (long long)n->list_id);
	if (res == 0) {
		*bytes = list.json;
		*mtime_ms = list.mtime_ms;
	}
	return res;
}

/* A document, .status.json or list.json. */
static int open_bytes(const struct view *v, const struct node *n,
		      struct content *c)
{
	int64_t mtime_ms = 0;
	char *key = NULL;
	int res;

	if (n->kind == NODE_DOC)
		res = open_doc(n, &c->bytes, &mtime_ms, &key);
	else if (n->kind == NODE_STATUS)
		res = open_status(n, &c->bytes, &mtime_ms, &key);
	else
		res = open_list(n, &c->bytes, &mtime_ms, &key);
	if (res == 0) {
		stat_base(v, &c->st, S_IFREG, stat_ino(n->env->name, "file", key),
			  mtime_ms);
		stat_size(&c->st, g_bytes_get_size(c->bytes));
	}
	g_free(key);
	return res;
}

/* What an export holds: its format, and every profile or a list's. */
static void export_spec(const struct node *n, struct lines_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->format = n->kind == NODE_CSV || n->kind == NODE_LIST_CSV ?
		       LINES_CSV : LINES_NDJSON;
	spec->list = n->kind == NODE_LIST_NDJSON || n->kind == NODE_LIST_CSV;
	spec->space = n->workspace;
	spec->list_id = n->list_id;
}

/* An export's inode number: the same for the same file across mounts. */
static uint64_t export_ino(const struct node *n, const struct lines_spec *spec)
{
	const char *format = spec->format == LINES_CSV ? "csv" : "ndjson";
	char *key;
	uint64_t ino;

	if (!spec->list)
		return stat_ino(n->env->name, "file", format);
	key = g_strdup_printf("%s/%lld/%s", n->workspace,
			      (long long)n->list_id, format);
	ino = stat_ino(n->env->name, "list-export", key);
	g_free(key);
	return ino;
}

/* The store's snapshot, with custom-fields.json for a csv's header; its
 * mtime is its newest profile's, or the header's when that is newer. */
static int open_lines(struct view_env *e, struct lines_spec *spec,
		      struct store_lines **lines, int64_t *mtime_ms)
{
	GBytes *doc = NULL;
	int64_t doc_ms = 0;
	gsize len = 0;
	int res = 0;

	if (spec->format == LINES_CSV)
		res = docs_get(e->docs, DOC_CUSTOM_FIELDS, &doc, &doc_ms);
	if (res < 0)
		return res;
	if (doc)
		spec->fields_doc = g_bytes_get_data(doc, &len);
	spec->fields_len = len;
	res = lines_open(e->store, spec, lines);
	if (doc)
		g_bytes_unref(doc);
	if (res == 0)
		*mtime_ms = MAX(lines_newest(*lines), doc_ms);
	return res;
}

/* profiles.ndjson and profiles.csv, of every profile or a list's members.
 * All or nothing: never a partial export before the first complete
 * listing. */
static int open_export(const struct view *v, const struct node *n,
		       struct content *c)
{
	struct view_env *e = n->env;
	struct lines_spec spec;
	struct doc_list list;
	int64_t mtime_ms = 0;
	int res = 0;

	export_spec(n, &spec);
	if (spec.list)
		res = find_list(n, &list);
	if (res < 0)
		return res;
	if (spec.list)
		g_bytes_unref(list.json);
	res = sync_profiles(e->sync, SYNC_IF_DUE);
	if (res == 0 && !sync_complete(e->sync))
		res = -EAGAIN;
	if (res == 0)
		res = open_lines(e, &spec, &c->lines, &mtime_ms);
	if (res < 0)
		return res;
	stat_base(v, &c->st, S_IFREG, export_ino(n, &spec), mtime_ms);
	stat_size(&c->st, lines_size(c->lines));
	return 0;
}

int content_open(const struct view *v, const struct node *n,
		 struct content *c)
{
	int res;

	memset(c, 0, sizeof(*c));
	switch (n->kind) {
	case NODE_PROFILE:
		res = find_profile(n->env, n->id, &c->item);
		if (res == 0) {
			stat_base(v, &c->st, S_IFREG,
				  stat_ino(n->env->name, "profile", n->id),
				  c->item->modified_ms);
			stat_size(&c->st, c->item->size);
		}
		return res;
	case NODE_NDJSON:
	case NODE_CSV:
	case NODE_LIST_NDJSON:
	case NODE_LIST_CSV:
		return open_export(v, n, c);
	case NODE_DOC:
	case NODE_STATUS:
	case NODE_LIST_JSON:
		return open_bytes(v, n, c);
	default:
		return tree_is_dir(n->kind) ? -EISDIR : -EINVAL;
	}
}

ssize_t content_read(const struct content *c, char *buf, size_t size,
		     off_t off)
{
	const char *data;
	size_t len;

	if (c->lines)
		return lines_read(c->lines, buf, size, off);
	if (c->item) {
		data = c->item->data;
		len = c->item->size;
	} else {
		data = g_bytes_get_data(c->bytes, &len);
	}
	if (off < 0 || (uint64_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, data + off, size);
	return (ssize_t)size;
}

/* Accepts a closed or zeroed content. */
void content_close(struct content *c)
{
	item_unref(c->item);
	lines_close(c->lines);
	if (c->bytes)
		g_bytes_unref(c->bytes);
	memset(c, 0, sizeof(*c));
}

/* Whether two snapshots hold the same bytes: documents and list.json are
 * compared; an export is the same when its size and newest profile are. */
bool content_same(const struct content *a, const struct content *b)
{
	if (a->st.st_size != b->st.st_size ||
	    a->st.st_mtim.tv_sec != b->st.st_mtim.tv_sec ||
	    a->st.st_mtim.tv_nsec != b->st.st_mtim.tv_nsec)
		return false;
	if (a->bytes && b->bytes)
		return g_bytes_equal(a->bytes, b->bytes);
	return a->lines && b->lines;
}
