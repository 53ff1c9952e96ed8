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

/* All or nothing: never a partial export before the first complete
 * listing. */
static int open_ndjson(const struct view *v, const struct node *n,
		       struct content *c)
{
	struct view_env *e = n->env;
	int res = sync_profiles(e->sync, SYNC_IF_DUE);

	if (res == 0 && !sync_complete(e->sync))
		res = -EAGAIN;
	if (res == 0)
		res = lines_open(e->store, &c->lines);
	if (res < 0)
		return res;
	stat_base(v, &c->st, S_IFREG, stat_ino(e->name, "file", "ndjson"),
		  store_newest(e->store));
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
		return open_ndjson(v, n, c);
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
 * compared; profiles.ndjson is the same when its size and newest profile
 * are. */
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
