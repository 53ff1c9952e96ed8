/*
 * index_read.c - reading the profile store: items, rows, counts.
 *
 * Every call takes a connection with idx_read_acquire() and gives it back
 * before it returns (the essay in index.c says which and why). An item is
 * built from the stored bytes alone (render_item_stored), so it is whatever
 * idx_put stored, lists and channels included. idx_each steps one statement
 * and hands each row to its callback as it comes: nothing is collected.
 *
 * Positions: a profile's pos is its rowid, kept for life (idx_put updates in
 * place). A channel id's pos is the smallest rowid of its channel rows; a
 * claim keeps its row while the profile keeps making it, so the pos moves
 * only when that first claim is withdrawn.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "index_db.h"
#include "render.h"

static const char SQL_FIND[] =
	"SELECT b.data FROM profile p JOIN body b ON b.rowid = p.rowid"
	" WHERE p.id = ?1";
static const char SQL_FIND_CHANNEL[] =
	"SELECT b.data FROM channel c JOIN profile p ON p.rowid = c.profile"
	" JOIN body b ON b.rowid = p.rowid"
	" WHERE c.type = ?1 AND c.cid = ?2 ORDER BY p.id LIMIT 1";
static const char SQL_COUNT[] = "SELECT profiles FROM total";
static const char SQL_NEWEST[] =
	"SELECT coalesce(max(modified), 0) FROM profile";
static const char SQL_TYPE_AFTER[] =
	"SELECT min(type) FROM channel WHERE type > ?1";

/* Columns of every idx_each query: pos, id, modified, size[, channel id]. */
static const char SQL_EACH_ALL[] =
	"SELECT rowid, id, modified, size FROM profile"
	" WHERE rowid > ?1 ORDER BY rowid";
static const char SQL_EACH_LIST[] =
	"SELECT p.rowid, p.id, p.modified, p.size FROM member m"
	" JOIN profile p ON p.rowid = m.profile"
	" WHERE m.space = ?2 AND m.list = ?3 AND m.profile > ?1"
	" ORDER BY m.profile";
static const char SQL_EACH_CHANNEL[] =
	"SELECT c.rowid, p.id, p.modified, p.size, c.cid"
	" FROM channel c INDEXED BY channel_type"
	" JOIN profile p ON p.rowid = (SELECT o.profile"
	"  FROM channel o INDEXED BY channel_claim"
	"  JOIN profile q ON q.rowid = o.profile"
	"  WHERE o.type = c.type AND o.cid = c.cid ORDER BY q.id LIMIT 1)"
	" WHERE c.type = ?2 AND c.rowid > ?1"
	" AND NOT EXISTS (SELECT 1 FROM channel e INDEXED BY channel_claim"
	"  WHERE e.type = c.type AND e.cid = c.cid AND e.rowid < c.rowid)"
	" ORDER BY c.rowid";

/* --- items ---------------------------------------------------------------- */

/*
 * Binds 1..2 as text (b may be NULL) and builds the item of the first row.
 * NULL with errno: ENOENT, no such row; another, the store failed.
 */
static struct idx_item *load(struct idx *idx, const char *sql, const char *a,
			     const char *b)
{
	struct idx_item *item = NULL;
	struct idx_conn *c = idx_read_acquire(idx);
	sqlite3_stmt *stmt;
	int ret;

	if (!c) {
		errno = EIO;
		return NULL;
	}
	ret = idx_stmt(c, sql, &stmt);
	if (ret < 0)
		goto out_release;
	sqlite3_bind_text(stmt, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(stmt, 2, b, -1, SQLITE_STATIC);
	ret = idx_step_row(stmt);
	if (ret > 0 &&
	    render_item_stored(sqlite3_column_blob(stmt, 0),
			       (size_t)sqlite3_column_bytes(stmt, 0),
			       idx->env, &item) < 0)
		ret = -EUCLEAN;
	idx_stmt_done(c, stmt);
out_release:
	idx_read_release(idx, c);
	if (!item)
		errno = ret < 0 ? -ret : ENOENT;
	return item;
}

struct idx_item *idx_find(struct idx *idx, const char *id)
{
	if (!idx_id_valid(id)) {
		errno = ENOENT;
		return NULL;
	}
	return load(idx, SQL_FIND, id, NULL);
}

static const char SQL_FIND_BYTES[] =
	"SELECT p.modified, p.created, p.compact_size, b.data FROM profile p"
	" JOIN body b ON b.rowid = p.rowid WHERE p.id = ?1";

/* An item of the row's bytes and times alone: no JSON is parsed. */
static struct idx_item *bytes_item(struct idx *idx, sqlite3_stmt *stmt,
				   const char *id)
{
	size_t size = (size_t)sqlite3_column_bytes(stmt, 3);
	struct idx_item *item = calloc(1, sizeof(*item) + size + 1);

	if (!item)
		return NULL;
	snprintf(item->id, sizeof(item->id), "%s", id);
	item->modified_ms = sqlite3_column_int64(stmt, 0);
	item->created_ms = sqlite3_column_int64(stmt, 1);
	item->compact_size = (size_t)sqlite3_column_int64(stmt, 2);
	item->ino = idx_inode(idx->env, "profile", id);
	item->data = (char *)(item + 1);
	if (size)
		memcpy(item->data, sqlite3_column_blob(stmt, 3), size);
	item->size = size;
	item->refs = 1;
	return item;
}

/*
 * A profile's bytes for reading, cheaper than idx_find: the item has no
 * list memberships nor channels.
 */
struct idx_item *idx_find_bytes(struct idx *idx, const char *id)
{
	struct idx_item *item = NULL;
	struct idx_conn *c;
	sqlite3_stmt *stmt;
	int ret;

	errno = ENOENT;
	if (!idx_id_valid(id))
		return NULL;
	c = idx_read_acquire(idx);
	if (!c) {
		errno = EIO;
		return NULL;
	}
	ret = idx_stmt(c, SQL_FIND_BYTES, &stmt);
	if (ret == 0) {
		sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
		ret = idx_step_row(stmt);
		if (ret > 0) {
			item = bytes_item(idx, stmt, id);
			ret = item ? 0 : -ENOMEM;
		}
		idx_stmt_done(c, stmt);
	}
	idx_read_release(idx, c);
	if (!item)
		errno = ret < 0 ? -ret : ENOENT;
	return item;
}

struct idx_item *idx_find_channel(struct idx *idx, const char *type,
				  const char *channel_id)
{
	if (!type || !channel_id) {
		errno = ENOENT;
		return NULL;
	}
	return load(idx, SQL_FIND_CHANNEL, type, channel_id);
}

static const char SQL_STAT[] =
	"SELECT size, modified, rowid FROM profile WHERE id = ?1";
static const char SQL_AT[] = "SELECT id FROM profile WHERE rowid = ?1";

int idx_read_row(struct idx *idx, const char *sql, const char *text,
		 int64_t number, void (*take)(sqlite3_stmt *stmt, void *arg),
		 void *arg)
{
	struct idx_conn *c = idx_read_acquire(idx);
	sqlite3_stmt *stmt;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = idx_stmt(c, sql, &stmt);
	if (ret == 0) {
		if (text)
			sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(stmt, 1, number);
		ret = idx_step_row(stmt);
		if (ret > 0)
			take(stmt, arg);
		ret = ret > 0 ? 0 : ret == 0 ? -ENOENT : ret;
		idx_stmt_done(c, stmt);
	}
	idx_read_release(idx, c);
	return ret;
}

struct stat_row {
	uint64_t *size;
	int64_t *modified_ms;
	uint64_t *pos;
};

static void take_stat(sqlite3_stmt *stmt, void *arg)
{
	struct stat_row *row = arg;

	*row->size = (uint64_t)sqlite3_column_int64(stmt, 0);
	*row->modified_ms = sqlite3_column_int64(stmt, 1);
	if (row->pos)
		*row->pos = (uint64_t)sqlite3_column_int64(stmt, 2);
}

/* A profile's size, modifiedTime and (unless NULL) pos, its rowid kept for
 * life, without its bytes; -ENOENT. */
int idx_stat(struct idx *idx, const char *id, uint64_t *size,
	     int64_t *modified_ms, uint64_t *pos)
{
	struct stat_row row = { size, modified_ms, pos };

	if (!idx_id_valid(id))
		return -ENOENT;
	return idx_read_row(idx, SQL_STAT, id, 0, take_stat, &row);
}

static void take_id(sqlite3_stmt *stmt, void *arg)
{
	snprintf(arg, IDX_ID_MAX + 1, "%s",
		 (const char *)sqlite3_column_text(stmt, 0));
}

/* The id of the profile at pos, into id[IDX_ID_MAX + 1]; -ENOENT. */
int idx_id_at(struct idx *idx, uint64_t pos, char *id)
{
	return idx_read_row(idx, SQL_AT, NULL, (int64_t)pos, take_id, id);
}

/* --- single values -------------------------------------------------------- */

static int read_int(struct idx *idx, const char *sql, int64_t *value)
{
	struct idx_conn *c = idx_read_acquire(idx);
	sqlite3_stmt *stmt;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = idx_stmt(c, sql, &stmt);
	if (ret == 0) {
		ret = idx_step_row(stmt);
		if (ret > 0)
			*value = sqlite3_column_int64(stmt, 0);
		idx_stmt_done(c, stmt);
	}
	idx_read_release(idx, c);
	return ret < 0 ? ret : 0;
}

size_t idx_count(struct idx *idx)
{
	int64_t n = 0;

	read_int(idx, SQL_COUNT, &n);
	return n > 0 ? (size_t)n : 0;
}

int64_t idx_newest(struct idx *idx)
{
	int64_t newest = 0;

	read_int(idx, SQL_NEWEST, &newest);
	return newest;
}

/* --- channel types -------------------------------------------------------- */

static int push_type(char ***types, size_t *n, size_t *cap, const char *type)
{
	char **grown, *copy;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		grown = realloc(*types, *cap * sizeof(**types));
		if (!grown)
			return -ENOMEM;
		*types = grown;
	}
	copy = strdup(type);
	if (!copy)
		return -ENOMEM;
	(*types)[(*n)++] = copy;
	return 0;
}

/* One index probe per type: min(type) above the last one. */
static int collect_types(struct idx_conn *c, char ***types, size_t *n)
{
	const char *type;
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int ret;

	do {
		ret = idx_stmt(c, SQL_TYPE_AFTER, &stmt);
		if (ret < 0)
			break;
		sqlite3_bind_text(stmt, 1, *n ? (*types)[*n - 1] : "", -1,
				  SQLITE_STATIC);
		ret = idx_step_row(stmt);
		type = ret > 0 ? (const char *)sqlite3_column_text(stmt, 0)
			       : NULL;
		if (type)
			ret = push_type(types, n, &cap, type);
		idx_stmt_done(c, stmt);
	} while (ret >= 0 && type);
	return ret < 0 ? ret : 0;
}

int idx_channel_types(struct idx *idx, char ***types, size_t *n)
{
	struct idx_conn *c = idx_read_acquire(idx);
	char **list = NULL;
	size_t count = 0, i;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = collect_types(c, &list, &count);
	idx_read_release(idx, c);
	if (ret < 0) {
		for (i = 0; i < count; i++)
			free(list[i]);
		free(list);
		return ret;
	}
	*types = list;
	*n = count;
	return 0;
}

/* --- iteration ------------------------------------------------------------ */

static const char *each_sql(const struct idx_filter *f)
{
	switch (f->scope) {
	case IDX_ALL:
		return SQL_EACH_ALL;
	case IDX_PARTNER_LIST:
		return SQL_EACH_LIST;
	case IDX_SPACE_LIST:
		return f->space_id && f->space_id[0] ? SQL_EACH_LIST : NULL;
	case IDX_CHANNEL_TYPE:
		return f->channel_type ? SQL_EACH_CHANNEL : NULL;
	}
	return NULL;
}

static void each_bind(sqlite3_stmt *stmt, const struct idx_filter *f,
		      uint64_t after)
{
	sqlite3_bind_int64(stmt, 1, after > INT64_MAX ? INT64_MAX
						      : (int64_t)after);
	if (f->scope == IDX_PARTNER_LIST || f->scope == IDX_SPACE_LIST) {
		sqlite3_bind_text(stmt, 2, f->scope == IDX_SPACE_LIST ?
				  f->space_id : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, f->list_id);
	} else if (f->scope == IDX_CHANNEL_TYPE) {
		sqlite3_bind_text(stmt, 2, f->channel_type, -1, SQLITE_STATIC);
	}
}

static int each_rows(struct idx *idx, sqlite3_stmt *stmt, bool channels,
		     int (*visit)(const struct idx_entry *entry, void *arg),
		     void *arg)
{
	struct idx_entry e;
	int ret;

	for (;;) {
		ret = idx_step_row(stmt);
		if (ret <= 0)
			return ret;
		memset(&e, 0, sizeof(e));
		e.pos = (uint64_t)sqlite3_column_int64(stmt, 0);
		e.id = (const char *)sqlite3_column_text(stmt, 1);
		e.modified_ms = sqlite3_column_int64(stmt, 2);
		e.size = (uint64_t)sqlite3_column_int64(stmt, 3);
		if (channels)
			e.channel_id = (const char *)sqlite3_column_text(stmt, 4);
		if (!e.id || (channels && !e.channel_id))
			return -ENOMEM;		/* only an OOM makes NULL */
		e.ino = idx_inode(idx->env, "profile", e.id);
		if (visit(&e, arg) != 0)
			return 0;
	}
}

int idx_each(struct idx *idx, const struct idx_filter *filter, uint64_t after,
	     int (*visit)(const struct idx_entry *entry, void *arg), void *arg)
{
	const char *sql = filter ? each_sql(filter) : NULL;
	struct idx_conn *c;
	sqlite3_stmt *stmt;
	int ret;

	if (!sql || !visit)
		return -EINVAL;
	c = idx_read_acquire(idx);
	if (!c)
		return -ENOMEM;
	ret = idx_stmt(c, sql, &stmt);
	if (ret == 0) {
		each_bind(stmt, filter, after);
		ret = each_rows(idx, stmt, filter->scope == IDX_CHANNEL_TYPE,
				visit, arg);
		idx_stmt_done(c, stmt);
	}
	idx_read_release(idx, c);
	return ret;
}
