/*
 * read.c - reading the store: items, rows, counts, state, documents.
 *
 * Every call takes a connection with conn_read_acquire() and gives it back
 * before it returns (the essay in conn.c says which and why). An item is
 * built from the stored bytes alone (item_from_stored), so it is whatever
 * store_put stored, lists and channels included. store_each steps one statement
 * and hands each row to its callback as it comes: nothing is collected.
 *
 * Positions: a profile's pos is its rowid, kept for life (store_put updates in
 * place). A channel id's pos is the smallest rowid of its channel rows; a
 * claim keeps its row while the profile keeps making it, so the pos moves
 * only when that first claim is withdrawn.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/store/conn.h"
#include "fs/store/item.h"
#include "fs/store/store.h"

static const char SQL_FIND[] =
	"SELECT b.data FROM profile p JOIN body b ON b.rowid = p.rowid"
	" WHERE p.id = ?1";
/* min() rather than ORDER BY p.id LIMIT 1: no sort in a temporary b-tree
 * (the bare column is the min row's); no claim gives one row of NULLs */
static const char SQL_FIND_CHANNEL[] =
	"SELECT min(p.id), p.modified,"
	" (SELECT min(rowid) FROM channel INDEXED BY channel_claim"
	"  WHERE type = ?1 AND cid = ?2)"
	" FROM channel c JOIN profile p ON p.rowid = c.profile"
	" WHERE c.type = ?1 AND c.cid = ?2";
static const char SQL_COUNT[] = "SELECT profiles FROM total";
static const char SQL_NEWEST[] =
	"SELECT coalesce(max(modified), 0) FROM profile";
static const char SQL_TYPE_AFTER[] =
	"SELECT min(type) FROM channel WHERE type > ?1";

/* Columns of every store_each query: pos, id, modified, size[, channel id]. */
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

/* What an item is made of: the row's stored bytes, parsed; the bytes and
 * times alone; the id and time alone. 0, -ENOMEM or -EUCLEAN. */
typedef int (*make_fn)(sqlite3_stmt *stmt, const char *id,
		       struct item **out);

static int parsed_item(sqlite3_stmt *stmt, const char *id, struct item **out)
{
	(void)id;
	return item_from_stored(sqlite3_column_blob(stmt, 0),
				(size_t)sqlite3_column_bytes(stmt, 0),
				out) < 0 ? -EUCLEAN : 0;
}

/* No JSON is parsed. */
static int bytes_item(sqlite3_stmt *stmt, const char *id, struct item **out)
{
	size_t size = (size_t)sqlite3_column_bytes(stmt, 3);
	struct item *item = calloc(1, sizeof(*item) + size + 1);

	if (!item)
		return -ENOMEM;
	snprintf(item->id, sizeof(item->id), "%s", id);
	item->modified_ms = sqlite3_column_int64(stmt, 0);
	item->created_ms = sqlite3_column_int64(stmt, 1);
	item->compact_size = (size_t)sqlite3_column_int64(stmt, 2);
	item->data = (char *)(item + 1);
	if (size)
		memcpy(item->data, sqlite3_column_blob(stmt, 3), size);
	item->size = size;
	item->refs = 1;
	*out = item;
	return 0;
}

/* A link needs no more: its target, its time and its row (pos). A NULL id
 * is no item. */
static int id_item(sqlite3_stmt *stmt, const char *id, struct item **out)
{
	struct item *item;

	(void)id;
	if (sqlite3_column_type(stmt, 0) == SQLITE_NULL)
		return 0;
	item = calloc(1, sizeof(*item));
	if (!item)
		return -ENOMEM;
	snprintf(item->id, sizeof(item->id), "%s",
		 (const char *)sqlite3_column_text(stmt, 0));
	item->modified_ms = sqlite3_column_int64(stmt, 1);
	item->pos = (uint64_t)sqlite3_column_int64(stmt, 2);
	item->refs = 1;
	*out = item;
	return 0;
}

/*
 * Binds 1..2 as text (b may be NULL), and 3 to n when sql has it, and makes
 * the item of the first row. NULL with errno: ENOENT, no such row; another,
 * the store failed.
 */
static struct item *load(struct store *st, const char *sql, const char *a,
			 const char *b, int64_t n, make_fn make)
{
	struct item *item = NULL;
	struct store_conn *c = conn_read_acquire(st);
	sqlite3_stmt *stmt;
	int ret;

	if (!c) {
		errno = EIO;
		return NULL;
	}
	ret = conn_stmt(c, sql, &stmt);
	if (ret < 0)
		goto out_release;
	sqlite3_bind_text(stmt, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(stmt, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(stmt) == 3)
		sqlite3_bind_int64(stmt, 3, n);
	ret = conn_step(stmt);
	if (ret > 0)
		ret = make(stmt, a, &item);
	conn_stmt_done(c, stmt);
out_release:
	conn_read_release(st, c);
	if (!item)
		errno = ret < 0 ? -ret : ENOENT;
	return item;
}

struct item *store_find(struct store *st, const char *id)
{
	if (!item_id_valid(id)) {
		errno = ENOENT;
		return NULL;
	}
	return load(st, SQL_FIND, id, NULL, 0, parsed_item);
}

static const char SQL_FIND_BYTES[] =
	"SELECT p.modified, p.created, p.compact_size, b.data FROM profile p"
	" JOIN body b ON b.rowid = p.rowid WHERE p.id = ?1";

/*
 * A profile's bytes for reading, cheaper than store_find: the item has no
 * list memberships nor channels.
 */
struct item *store_find_bytes(struct store *st, const char *id)
{
	if (!item_id_valid(id)) {
		errno = ENOENT;
		return NULL;
	}
	return load(st, SQL_FIND_BYTES, id, NULL, 0, bytes_item);
}

/* The profile that makes the channel id: its id and time only (no bytes,
 * lists nor channels), cheaper still; pos is the channel id's. */
struct item *store_find_channel(struct store *st, const char *type,
				const char *channel_id)
{
	if (!type || !channel_id) {
		errno = ENOENT;
		return NULL;
	}
	return load(st, SQL_FIND_CHANNEL, type, channel_id, 0, id_item);
}

static const char SQL_FIND_MEMBER[] =
	"SELECT p.id, p.modified, p.rowid FROM profile p"
	" JOIN member m ON m.profile = p.rowid"
	" WHERE p.id = ?1 AND m.space = ?2 AND m.list = ?3";

/* The profile id when it is a member of the list (space_id "": a partner
 * list's): its id, time and pos only. */
struct item *store_find_member(struct store *st, const char *id,
			       const char *space_id, int64_t list_id)
{
	if (!item_id_valid(id)) {
		errno = ENOENT;
		return NULL;
	}
	return load(st, SQL_FIND_MEMBER, id, space_id, list_id, id_item);
}

static const char SQL_STAT[] =
	"SELECT size, modified, rowid FROM profile WHERE id = ?1";
static const char SQL_AT[] = "SELECT id FROM profile WHERE rowid = ?1";

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
int store_stat(struct store *st, const char *id, uint64_t *size,
	     int64_t *modified_ms, uint64_t *pos)
{
	struct stat_row row = { size, modified_ms, pos };

	if (!item_id_valid(id))
		return -ENOENT;
	return conn_read_row(st, SQL_STAT, id, 0, take_stat, &row);
}

/* A stored id is a valid one; anything else is a damaged store. */
static void take_id(sqlite3_stmt *stmt, void *arg)
{
	const char *id = (const char *)sqlite3_column_text(stmt, 0);

	if (item_id_valid(id))
		memcpy(arg, id, strlen(id) + 1);
}

/* The id of the profile at pos, into id[ITEM_ID_MAX + 1]; -ENOENT. */
int store_id_at(struct store *st, uint64_t pos, char *id)
{
	int res;

	id[0] = '\0';
	res = conn_read_row(st, SQL_AT, NULL, (int64_t)pos, take_id, id);
	return res == 0 && !id[0] ? -EUCLEAN : res;
}

static const char SQL_CHANNEL_AT[] =
	"SELECT cid FROM channel WHERE rowid = ?1 AND type = ?2"
	" AND NOT EXISTS (SELECT 1 FROM channel e INDEXED BY channel_claim"
	"  WHERE e.type = ?2 AND e.cid = channel.cid AND e.rowid < ?1)";

/* The channel id of type whose pos is pos, into cid[size]; -ENOENT (also
 * for one longer than size). */
int store_channel_at(struct store *st, uint64_t pos, const char *type,
		     char *cid, size_t size)
{
	struct store_conn *c = conn_read_acquire(st);
	sqlite3_stmt *stmt;
	const char *text;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = conn_stmt(c, SQL_CHANNEL_AT, &stmt);
	if (ret == 0) {
		sqlite3_bind_int64(stmt, 1, (int64_t)pos);
		sqlite3_bind_text(stmt, 2, type, -1, SQLITE_STATIC);
		ret = conn_step(stmt);
		text = ret > 0 ? (const char *)sqlite3_column_text(stmt, 0)
			       : NULL;
		if (text && strlen(text) < size)
			memcpy(cid, text, strlen(text) + 1);
		ret = ret < 0 ? ret : text && strlen(text) < size ? 0 : -ENOENT;
		conn_stmt_done(c, stmt);
	}
	conn_read_release(st, c);
	return ret;
}

static const char SQL_LAST_AT[] =
	"SELECT max(id) FROM profile WHERE modified = ?1";

/* The greatest id (bytewise) of the profiles with this modifiedTime, into
 * id[ITEM_ID_MAX + 1]; -ENOENT when there is none. */
int store_last_id_at(struct store *st, int64_t modified_ms, char *id)
{
	int res;

	id[0] = '\0';
	res = conn_read_row(st, SQL_LAST_AT, NULL, modified_ms, take_id, id);
	return res == 0 && !id[0] ? -ENOENT : res;
}

/* --- single values -------------------------------------------------------- */

static void take_int(sqlite3_stmt *stmt, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(stmt, 0);
}

static int read_int(struct store *st, const char *sql, int64_t *value)
{
	return conn_read_row(st, sql, NULL, 0, take_int, value);
}

size_t store_count(struct store *st)
{
	int64_t n = 0;

	read_int(st, SQL_COUNT, &n);
	if (conn_holds_writer(st))	/* its batch's, not yet written */
		n += st->sums.profiles;
	return n > 0 ? (size_t)n : 0;
}

int64_t store_newest(struct store *st)
{
	int64_t newest = 0;

	read_int(st, SQL_NEWEST, &newest);
	return newest;
}

/* --- channel types -------------------------------------------------------- */

/* One index probe per type: min(type) above the last one. */
static int collect_types(struct store_conn *c, GPtrArray *types)
{
	const char *type;
	sqlite3_stmt *stmt;
	int ret;

	do {
		ret = conn_stmt(c, SQL_TYPE_AFTER, &stmt);
		if (ret < 0)
			break;
		sqlite3_bind_text(stmt, 1, types->len ?
				  g_ptr_array_index(types, types->len - 1) : "",
				  -1, SQLITE_STATIC);
		ret = conn_step(stmt);
		type = ret > 0 ? (const char *)sqlite3_column_text(stmt, 0)
			       : NULL;
		if (type)
			g_ptr_array_add(types, g_strdup(type));
		conn_stmt_done(c, stmt);
	} while (ret >= 0 && type);
	return ret < 0 ? ret : 0;
}

/* The distinct channel types, sorted; the array frees its strings. */
int store_channel_types(struct store *st, GPtrArray **types)
{
	struct store_conn *c = conn_read_acquire(st);
	GPtrArray *list;
	int ret;

	if (!c)
		return -ENOMEM;
	list = g_ptr_array_new_with_free_func(g_free);
	ret = collect_types(c, list);
	conn_read_release(st, c);
	if (ret < 0) {
		g_ptr_array_unref(list);
		return ret;
	}
	*types = list;
	return 0;
}

/* --- iteration ------------------------------------------------------------ */

static const char *each_sql(const struct store_filter *f)
{
	switch (f->scope) {
	case STORE_ALL:
		return SQL_EACH_ALL;
	case STORE_PARTNER_LIST:
		return SQL_EACH_LIST;
	case STORE_SPACE_LIST:
		return f->space_id && f->space_id[0] ? SQL_EACH_LIST : NULL;
	case STORE_CHANNEL_TYPE:
		return f->channel_type ? SQL_EACH_CHANNEL : NULL;
	}
	return NULL;
}

static void each_bind(sqlite3_stmt *stmt, const struct store_filter *f,
		      uint64_t after)
{
	sqlite3_bind_int64(stmt, 1, after > INT64_MAX ? INT64_MAX
						      : (int64_t)after);
	if (f->scope == STORE_PARTNER_LIST || f->scope == STORE_SPACE_LIST) {
		sqlite3_bind_text(stmt, 2, f->scope == STORE_SPACE_LIST ?
				  f->space_id : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, f->list_id);
	} else if (f->scope == STORE_CHANNEL_TYPE) {
		sqlite3_bind_text(stmt, 2, f->channel_type, -1, SQLITE_STATIC);
	}
}

static int each_rows(sqlite3_stmt *stmt, bool channels,
		     int (*visit)(const struct store_entry *entry, void *arg),
		     void *arg)
{
	struct store_entry e;
	int ret;

	for (;;) {
		ret = conn_step(stmt);
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
		if (visit(&e, arg) != 0)
			return 0;
	}
}

int store_each(struct store *st, const struct store_filter *filter, uint64_t after,
	     int (*visit)(const struct store_entry *entry, void *arg), void *arg)
{
	const char *sql = filter ? each_sql(filter) : NULL;
	struct store_conn *c;
	sqlite3_stmt *stmt;
	int ret;

	if (!sql || !visit)
		return -EINVAL;
	c = conn_read_acquire(st);
	if (!c)
		return -ENOMEM;
	ret = conn_stmt(c, sql, &stmt);
	if (ret == 0) {
		each_bind(stmt, filter, after);
		ret = each_rows(stmt, filter->scope == STORE_CHANNEL_TYPE,
				visit, arg);
		conn_stmt_done(c, stmt);
	}
	conn_read_release(st, c);
	return ret;
}

/* --- state and documents ------------------------------------------------- */

static const char SQL_STATE_GET[] = "SELECT value FROM state WHERE key = ?1";
static const char SQL_DOC_GET[] =
	"SELECT data, fetched, mtime FROM doc WHERE key = ?1";

int store_state_get(struct store *st, const char *key, int64_t *value)
{
	if (!key)
		return -EINVAL;
	return conn_read_row(st, SQL_STATE_GET, key, 0, take_int, value);
}

/* A copy of a stored document: its bytes (NUL-terminated) and times. */
int store_doc_get(struct store *st, const char *key, char **data, size_t *size,
		int64_t *fetched_ms, int64_t *mtime_ms)
{
	struct store_conn *c = conn_read_acquire(st);
	sqlite3_stmt *stmt;
	const void *blob;
	char *copy;
	int ret, len;

	if (!c)
		return -ENOMEM;
	ret = conn_stmt(c, SQL_DOC_GET, &stmt);
	if (ret < 0)
		goto out_release;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	ret = conn_step(stmt);
	if (ret <= 0) {
		ret = ret == 0 ? -ENOENT : ret;
		goto out_done;
	}
	blob = sqlite3_column_blob(stmt, 0);
	len = sqlite3_column_bytes(stmt, 0);
	copy = malloc((size_t)len + 1);
	ret = -ENOMEM;
	if (!copy)
		goto out_done;
	if (len)
		memcpy(copy, blob, (size_t)len);
	copy[len] = '\0';
	*data = copy;
	*size = (size_t)len;
	*fetched_ms = sqlite3_column_int64(stmt, 1);
	*mtime_ms = sqlite3_column_int64(stmt, 2);
	ret = 0;
out_done:
	conn_stmt_done(c, stmt);
out_release:
	conn_read_release(st, c);
	return ret;
}
