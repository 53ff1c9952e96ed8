/*
 * write.c - writing the store: batches, profiles, state, documents.
 *
 * Who holds the writer and when is told in the essay in conn.c. Here:
 * every write goes through write_enter/write_leave, which join the batch
 * the calling thread holds (conn_holds_writer) or make a transaction of
 * their own.
 *
 * A put compares the rendering with the stored bytes and writes only a
 * difference; it updates the row in place, so a profile keeps its rowid (its
 * position for store_each) for life. Memberships are replaced; channel claims
 * are reconciled, so a claim still made keeps its row and its channel id
 * keeps its position. Its cells for profiles.csv (csv.h) are stored with
 * it. Deleting a profile deletes its other rows by trigger.
 *
 * The total row (count, the sizes of profiles.ndjson and of profiles.csv's
 * cells) and the count of profiles per custom field (field, read from the
 * cells) are the batch's sums (conn.h): each put, change and delete adds to
 * them once it has succeeded, and the commit writes them, in the same
 * transaction; a rollback forgets them.
 *
 * A put that fails within a batch leaves the batch as it was: a changed
 * profile is written in a savepoint, a new one is undone by deleting its
 * row (put_new says why).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/store/conn.h"
#include "fs/store/csv.h"
#include "fs/store/item.h"
#include "fs/store/store.h"

/* --- the batch's sums ------------------------------------------------------ */

static int exec_cached(struct store_conn *c, const char *sql);

static const char SQL_TOTAL_ADD[] =
	"UPDATE total SET profiles = profiles + ?1, ndjson = ndjson + ?2,"
	" csv = csv + ?3";
static const char SQL_FIELD_ADD[] =
	"INSERT INTO field VALUES(?1, ?2, ?3) ON CONFLICT(space, key)"
	" DO UPDATE SET profiles = profiles + excluded.profiles";
static const char SQL_FIELD_DROP[] = "DELETE FROM field WHERE profiles <= 0";

void sums_init(struct store_sums *s)
{
	memset(s, 0, sizeof(*s));
	s->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  (GDestroyNotify)g_hash_table_unref);
}

void sums_clear(struct store_sums *s)
{
	s->profiles = s->ndjson = s->csv = 0;
	g_hash_table_remove_all(s->fields);
}

void sums_free(struct store_sums *s)
{
	g_hash_table_unref(s->fields);
	s->fields = NULL;
}

/* Adds sign to the count of every custom field the cells hold. */
static void sums_cells(struct store_sums *s, const char *cells, size_t len,
		       int sign)
{
	struct csv_cell cell;
	GHashTable *keys;
	int64_t *n;
	size_t pos = 0;

	while (cells && csv_each_cell(cells, len, &pos, &cell)) {
		keys = g_hash_table_lookup(s->fields, cell.space);
		if (!keys) {
			keys = g_hash_table_new_full(g_str_hash, g_str_equal,
						     g_free, g_free);
			g_hash_table_insert(s->fields, g_strdup(cell.space),
					    keys);
		}
		n = g_hash_table_lookup(keys, cell.key);
		if (!n) {
			n = g_new0(int64_t, 1);
			g_hash_table_insert(keys, g_strdup(cell.key), n);
		}
		*n += sign;
	}
}

static int field_add(struct store_conn *c, const char *space,
		     const char *key, int64_t n)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_FIELD_ADD, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, space, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, n);
	ret = conn_step(stmt);
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

static int fields_write(struct store_conn *c, struct store_sums *s)
{
	GHashTableIter spaces, keys;
	gpointer space, table, key, n;
	bool fewer = false;
	int ret = 0;

	g_hash_table_iter_init(&spaces, s->fields);
	while (ret == 0 && g_hash_table_iter_next(&spaces, &space, &table)) {
		g_hash_table_iter_init(&keys, table);
		while (ret == 0 && g_hash_table_iter_next(&keys, &key, &n)) {
			if (*(int64_t *)n == 0)
				continue;
			fewer = fewer || *(int64_t *)n < 0;
			ret = field_add(c, space, key, *(int64_t *)n);
		}
	}
	if (ret == 0 && fewer)
		ret = exec_cached(c, SQL_FIELD_DROP);
	return ret;
}

/* Writes the sums, in the transaction in progress, and clears them. */
static int sums_write(struct store_conn *c, struct store_sums *s)
{
	sqlite3_stmt *stmt;
	int ret = 0;

	if (s->profiles || s->ndjson || s->csv) {
		ret = conn_stmt(c, SQL_TOTAL_ADD, &stmt);
		if (ret == 0) {
			sqlite3_bind_int64(stmt, 1, s->profiles);
			sqlite3_bind_int64(stmt, 2, s->ndjson);
			sqlite3_bind_int64(stmt, 3, s->csv);
			ret = conn_step(stmt);
			conn_stmt_done(c, stmt);
			ret = ret < 0 ? ret : 0;
		}
	}
	if (ret == 0)
		ret = fields_write(c, s);
	sums_clear(s);
	return ret;
}

/* --- transactions --------------------------------------------------------- */

int store_begin(struct store *st)
{
	int ret;

	if (conn_holds_any_writer())
		return -EBUSY;
	pthread_mutex_lock(&st->write_lock);
	ret = conn_exec(st->writer, "BEGIN IMMEDIATE");
	if (ret < 0) {
		pthread_mutex_unlock(&st->write_lock);
		return ret;
	}
	st->spoiled = false;
	conn_set_batch(st);
	return 0;
}

static void batch_end(struct store *st)
{
	sums_clear(&st->sums);
	conn_set_batch(NULL);
	pthread_mutex_unlock(&st->write_lock);
}

int store_commit(struct store *st)
{
	int ret;

	if (!conn_holds_writer(st))
		return -EINVAL;
	if (st->spoiled) {
		store_rollback(st);
		return -EIO;
	}
	ret = sums_write(st->writer, &st->sums);
	if (ret == 0)
		ret = conn_exec(st->writer, "COMMIT");
	if (ret < 0)
		conn_exec(st->writer, "ROLLBACK");
	batch_end(st);
	ckpt_keep_up(st);
	return ret;
}

void store_rollback(struct store *st)
{
	if (!conn_holds_writer(st))
		return;
	conn_exec(st->writer, "ROLLBACK");
	batch_end(st);
}

/*
 * A write's transaction: the batch this thread holds (returns 0), or one of
 * its own (returns 1; end it with write_leave).
 */
static int write_enter(struct store *st)
{
	int ret;

	if (conn_holds_writer(st))
		return 0;
	if (conn_holds_any_writer())
		return -EBUSY;
	ret = store_begin(st);
	return ret < 0 ? ret : 1;
}

static int write_leave(struct store *st, int opened, int ret)
{
	if (opened <= 0)
		return ret;
	if (ret < 0) {
		store_rollback(st);
		return ret;
	}
	return store_commit(st);
}

/* --- writes --------------------------------------------------------------- */

static const char SQL_LOOK[] =
	"SELECT p.rowid, p.seen, b.data, p.compact_size, p.csv_size"
	" FROM profile p JOIN body b ON b.rowid = p.rowid WHERE p.id = ?1";
static const char SQL_CELLS[] = "SELECT data FROM csv WHERE rowid = ?1";
static const char SQL_SEEN[] = "UPDATE profile SET seen = ?2 WHERE rowid = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO profile(id, modified, created, size, compact_size, seen,"
	" csv_size) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_UPDATE[] =
	"UPDATE profile SET modified = ?2, created = ?3, size = ?4,"
	" compact_size = ?5, seen = ?6, csv_size = ?7 WHERE rowid = ?1";
static const char SQL_BODY[] =
	"INSERT OR REPLACE INTO body(rowid, data) VALUES(?1, ?2)";
static const char SQL_MEMBERS_CLEAR[] = "DELETE FROM member WHERE profile = ?1";
static const char SQL_MEMBER_ADD[] =
	"INSERT OR IGNORE INTO member(space, list, profile) VALUES(?1, ?2, ?3)";
static const char SQL_CHANNELS_OF[] =
	"SELECT rowid, type, cid FROM channel WHERE profile = ?1";
static const char SQL_CHANNEL_DEL[] = "DELETE FROM channel WHERE rowid = ?1";
static const char SQL_CHANNEL_ADD[] =
	"INSERT OR IGNORE INTO channel(type, cid, profile) VALUES(?1, ?2, ?3)";
static const char SQL_CSV[] =
	"INSERT OR REPLACE INTO csv(rowid, data) VALUES(?1, ?2)";
static const char SQL_CSV_SIZE[] =
	"UPDATE profile SET csv_size = ?2 WHERE rowid = ?1";
static const char SQL_FILL_NEXT[] =
	"SELECT p.rowid, b.data FROM profile p JOIN body b ON b.rowid = p.rowid"
	" WHERE p.rowid > ?1 ORDER BY p.rowid LIMIT 1";
static const char SQL_SWEEP[] =
	"SELECT p.rowid, p.id, p.compact_size, p.csv_size, c.data"
	" FROM profile p LEFT JOIN csv c ON c.rowid = p.rowid WHERE p.seen < ?1";
static const char SQL_DELETE[] = "DELETE FROM profile WHERE rowid = ?1";
static const char SQL_SAVEPOINT[] = "SAVEPOINT put";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO put";
static const char SQL_RELEASE[] = "RELEASE put";
static const char SQL_DOC_SET[] =
	"INSERT INTO doc(key, data, fetched, mtime) VALUES(?1, ?2, ?3, ?4)"
	" ON CONFLICT(key) DO UPDATE SET data = excluded.data,"
	" fetched = excluded.fetched, mtime = excluded.mtime";
static const char SQL_STATE_SET[] =
	"INSERT INTO state(key, value) VALUES(?1, ?2)"
	" ON CONFLICT(key) DO UPDATE SET value = excluded.value";

/* Runs a statement without parameters nor rows, prepared once. */
static int exec_cached(struct store_conn *c, const char *sql)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, sql, &stmt);

	if (ret < 0)
		return ret;
	ret = conn_step(stmt);
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

/* Runs a statement that returns no row, binding ?1 = a and ?2 = b. */
static int run(struct store_conn *c, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, sql, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, a);
	if (sqlite3_bind_parameter_count(stmt) > 1)
		sqlite3_bind_int64(stmt, 2, b);
	ret = conn_step(stmt);
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

static int member_add(struct store_conn *c, const char *space, int64_t list,
		      int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_MEMBER_ADD, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, space, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, list);
	sqlite3_bind_int64(stmt, 3, row);
	ret = conn_step(stmt);
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

static int put_members(struct store_conn *c, const struct item *item,
		       int64_t row, bool fresh)
{
	int ret = fresh ? 0 : run(c, SQL_MEMBERS_CLEAR, row, 0);
	size_t i;

	for (i = 0; ret == 0 && i < item->n_partner_lists; i++)
		ret = member_add(c, "", item->partner_lists[i], row);
	for (i = 0; ret == 0 && i < item->n_space_lists; i++)
		ret = member_add(c, item->space_lists[i].space_id,
				 item->space_lists[i].list_id, row);
	return ret;
}

static bool claims(const struct item *item, const char *type,
		   const char *cid)
{
	size_t i;

	for (i = 0; i < item->n_channels; i++)
		if (strcmp(item->channels[i].type, type) == 0 &&
		    strcmp(item->channels[i].channel_id, cid) == 0)
			return true;
	return false;
}

/* Drops the claims the item no longer makes; kept rows keep their rowid. */
static int drop_channels(struct store_conn *c, const struct item *item,
			 int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_CHANNELS_OF, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, row);
	for (;;) {
		const char *type, *cid;

		ret = conn_step(stmt);
		if (ret <= 0)
			break;
		type = (const char *)sqlite3_column_text(stmt, 1);
		cid = (const char *)sqlite3_column_text(stmt, 2);
		if (type && cid && claims(item, type, cid))
			continue;
		ret = run(c, SQL_CHANNEL_DEL, sqlite3_column_int64(stmt, 0), 0);
		if (ret < 0)
			break;
	}
	conn_stmt_done(c, stmt);
	return ret;
}

static int put_channels(struct store_conn *c, const struct item *item,
			int64_t row, bool fresh)
{
	sqlite3_stmt *stmt;
	int ret = fresh ? 0 : drop_channels(c, item, row);
	size_t i;

	for (i = 0; ret == 0 && i < item->n_channels; i++) {
		ret = conn_stmt(c, SQL_CHANNEL_ADD, &stmt);
		if (ret < 0)
			break;
		sqlite3_bind_text(stmt, 1, item->channels[i].type, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, item->channels[i].channel_id, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, row);
		ret = conn_step(stmt);
		conn_stmt_done(c, stmt);
		ret = ret < 0 ? ret : 0;
	}
	return ret;
}

/* A profile's cells for profiles.csv and their size (csv.h). */
struct cells {
	GString *data;
	size_t size;
};

static int put_cells(struct store_conn *c, const char *cells, size_t len,
		     int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_CSV, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, row);
	sqlite3_bind_blob64(stmt, 2, cells, len, SQLITE_STATIC);
	ret = conn_step(stmt);
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

/* A copy of the row's stored cells, for the sums; empty when it has none. */
static int cells_get(struct store_conn *c, int64_t row, GString *out)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_CELLS, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, row);
	ret = conn_step(stmt);
	g_string_truncate(out, 0);
	if (ret > 0)
		g_string_append_len(out, sqlite3_column_blob(stmt, 0),
				    sqlite3_column_bytes(stmt, 0));
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

/* Writes the profile row (inserting when row is 0) and sets *row. */
static int put_row(struct store_conn *c, const struct item *item,
		   uint64_t pass, int64_t *row)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, *row ? SQL_UPDATE : SQL_INSERT, &stmt);

	if (ret < 0)
		return ret;
	if (*row)
		sqlite3_bind_int64(stmt, 1, *row);
	else
		sqlite3_bind_text(stmt, 1, item->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, item->modified_ms);
	sqlite3_bind_int64(stmt, 3, item->created_ms);
	sqlite3_bind_int64(stmt, 4, (int64_t)item->size);
	sqlite3_bind_int64(stmt, 5, (int64_t)item->compact_size);
	sqlite3_bind_int64(stmt, 6, (int64_t)pass);
	sqlite3_bind_int64(stmt, 7, (int64_t)item->csv_size);
	ret = conn_step(stmt);
	conn_stmt_done(c, stmt);
	if (ret < 0)
		return ret;
	if (!*row)
		*row = sqlite3_last_insert_rowid(c->db);
	return 0;
}

static int put_body(struct store_conn *c, const struct item *item,
		    int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_BODY, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, row);
	sqlite3_bind_blob64(stmt, 2, item->data, item->size, SQLITE_STATIC);
	ret = conn_step(stmt);
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

/* The rows beside the profile's; fresh: a new profile, nothing to replace. */
static int put_rest(struct store_conn *c, const struct item *item,
		    int64_t row, bool fresh)
{
	int ret = put_body(c, item, row);

	if (ret == 0)
		ret = put_members(c, item, row, fresh);
	if (ret == 0)
		ret = put_channels(c, item, row, fresh);
	if (ret == 0)
		ret = put_cells(c, item->cells, item->cells_len, row);
	return ret;
}

/* What the stored row of a profile is, for a change's sums. */
struct stored {
	int64_t row, seen, compact_size, csv_size;
};

/*
 * A stored profile changed: in a savepoint, so that a put that fails
 * leaves the batch as it was.
 */
static int put_changed(struct store *st, const struct item *item,
		       uint64_t pass, const struct stored *old)
{
	struct store_conn *c = st->writer;
	GString *cells = g_string_new(NULL);
	int64_t row = old->row;
	int ret = cells_get(c, row, cells);

	if (ret == 0)
		ret = exec_cached(c, SQL_SAVEPOINT);
	if (ret < 0)
		goto out;
	ret = put_row(c, item, pass, &row);
	if (ret == 0)
		ret = put_rest(c, item, row, false);
	if (ret < 0)
		exec_cached(c, SQL_ROLLBACK_TO);
	exec_cached(c, SQL_RELEASE);
	if (ret == 0) {
		st->sums.ndjson += (int64_t)item->compact_size -
				   old->compact_size;
		st->sums.csv += (int64_t)item->csv_size - old->csv_size;
		sums_cells(&st->sums, cells->str, cells->len, -1);
		sums_cells(&st->sums, item->cells, item->cells_len, 1);
	}
out:
	g_string_free(cells, TRUE);
	return ret;
}

/*
 * A new profile, without the savepoint, whose journal copies every page
 * the put touches (a sixth of a listing's writing): a put that fails is
 * undone by deleting its row, whose trigger deletes the rest. When even
 * that fails, the batch is spoiled and its commit rolls it back.
 */
static int put_new(struct store *st, const struct item *item, uint64_t pass)
{
	struct store_conn *c = st->writer;
	int64_t row = 0;
	int ret = put_row(c, item, pass, &row);

	if (ret < 0)
		return ret;	/* a failed statement undoes itself */
	ret = put_rest(c, item, row, true);
	if (ret < 0 && run(c, SQL_DELETE, row, 0) < 0)
		st->spoiled = true;
	if (ret == 0) {
		st->sums.profiles++;
		st->sums.ndjson += (int64_t)item->compact_size + 1;
		st->sums.csv += (int64_t)item->csv_size;
		sums_cells(&st->sums, item->cells, item->cells_len, 1);
	}
	return ret;
}

/* The stored row of the item's id: old->row 0 when absent, *same when
 * equal. */
static int look(struct store_conn *c, const struct item *item,
		struct stored *old, bool *same)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_LOOK, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, item->id, -1, SQLITE_STATIC);
	ret = conn_step(stmt);
	memset(old, 0, sizeof(*old));
	*same = false;
	if (ret > 0) {
		old->row = sqlite3_column_int64(stmt, 0);
		old->seen = sqlite3_column_int64(stmt, 1);
		*same = (size_t)sqlite3_column_bytes(stmt, 2) == item->size &&
			memcmp(sqlite3_column_blob(stmt, 2), item->data,
			       item->size) == 0;
		old->compact_size = sqlite3_column_int64(stmt, 3);
		old->csv_size = sqlite3_column_int64(stmt, 4);
	}
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

/* In a transaction: stores the item, or only its pass when unchanged. */
static int put_item(struct store *st, const struct item *item,
		    uint64_t pass, bool *changed)
{
	struct stored old;
	bool same = false;
	int ret;

	ret = look(st->writer, item, &old, &same);
	if (ret == 0 && same && old.seen != (int64_t)pass)
		ret = run(st->writer, SQL_SEEN, old.row, (int64_t)pass);
	else if (ret == 0 && !same && old.row)
		ret = put_changed(st, item, pass, &old);
	else if (ret == 0 && !same)
		ret = put_new(st, item, pass);
	if (ret == 0)
		*changed = !same;
	return ret;
}

int store_put_item(struct store *st, const struct item *item, uint64_t pass,
		   bool *changed)
{
	bool differs = false;
	int ret, opened;

	opened = write_enter(st);
	ret = opened < 0 ? opened : put_item(st, item, pass, &differs);
	ret = write_leave(st, opened, ret);
	if (ret == 0)
		*changed = differs;
	return ret;
}

int store_put(struct store *st, const cJSON *profile, uint64_t pass,
	    int64_t *modified_ms, bool *changed)
{
	struct item *item;
	int ret;

	ret = item_render(profile, &item);
	if (ret < 0)
		return ret;
	ret = store_put_item(st, item, pass, changed);
	if (ret == 0)
		*modified_ms = item->modified_ms;
	item_unref(item);
	return ret;
}

/*
 * Deletes row by row, each delete atomic with its triggers, and reports each
 * as it goes: after a failure, what was removed stays removed.
 */
static size_t sweep_rows(struct store *st, uint64_t pass,
			 void (*removed)(const char *id, void *arg), void *arg)
{
	struct store_conn *c = st->writer;
	GString *id = g_string_new(NULL), *cells = g_string_new(NULL);
	int64_t compact_size, csv_size;
	sqlite3_stmt *stmt;
	size_t n = 0;

	if (conn_stmt(c, SQL_SWEEP, &stmt) < 0)
		goto out;
	sqlite3_bind_int64(stmt, 1, (int64_t)pass);
	while (conn_step(stmt) > 0) {
		/* copies: the row is gone once deleted */
		g_string_assign(id, (const char *)sqlite3_column_text(stmt, 1)
					    ?: "");
		compact_size = sqlite3_column_int64(stmt, 2);
		csv_size = sqlite3_column_int64(stmt, 3);
		g_string_truncate(cells, 0);
		g_string_append_len(cells, sqlite3_column_blob(stmt, 4),
				    sqlite3_column_bytes(stmt, 4));
		if (run(c, SQL_DELETE, sqlite3_column_int64(stmt, 0), 0) < 0)
			break;
		st->sums.profiles--;
		st->sums.ndjson -= compact_size + 1;
		st->sums.csv -= csv_size;
		sums_cells(&st->sums, cells->str, cells->len, -1);
		n++;
		if (removed && id->len)
			removed(id->str, arg);
	}
	conn_stmt_done(c, stmt);
out:
	g_string_free(id, TRUE);
	g_string_free(cells, TRUE);
	return n;
}

size_t store_sweep(struct store *st, uint64_t pass,
		 void (*removed)(const char *id, void *arg), void *arg)
{
	int opened = write_enter(st);
	size_t n;

	if (opened < 0)
		return 0;
	n = sweep_rows(st, pass, removed, arg);
	if (write_leave(st, opened, 0) < 0)
		return 0;
	return n;
}

/* --- the schema's upgrade --------------------------------------------------- */

/* The cells of stored bytes; a body that is not JSON gets empty ones. */
static void cells_of(const void *data, int size, struct cells *cells)
{
	cJSON *profile = cJSON_ParseWithLength(data, size > 0 ? (size_t)size : 0);

	if (!profile || csv_cells(profile, cells->data, &cells->size) < 0) {
		g_string_truncate(cells->data, 0);
		g_string_append_c(cells->data, '\0');
		cells->size = 0;
	}
	cJSON_Delete(profile);
}

/* The profile after rowid *row: its cells. 1 when there was one. */
static int fill_next(struct store_conn *c, int64_t *row, struct cells *cells)
{
	sqlite3_stmt *stmt;
	int ret = conn_stmt(c, SQL_FILL_NEXT, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, *row);
	ret = conn_step(stmt);
	if (ret > 0) {
		*row = sqlite3_column_int64(stmt, 0);
		cells_of(sqlite3_column_blob(stmt, 1),
			 sqlite3_column_bytes(stmt, 1), cells);
	}
	conn_stmt_done(c, stmt);
	return ret;
}

int write_fill_csv(struct store_conn *c)
{
	struct cells cells = { g_string_new(NULL), 0 };
	struct store_sums sums;
	int64_t row = 0;
	int ret;

	sums_init(&sums);
	for (;;) {
		ret = fill_next(c, &row, &cells);
		if (ret <= 0)
			break;
		ret = put_cells(c, cells.data->str, cells.data->len, row);
		if (ret == 0)
			ret = run(c, SQL_CSV_SIZE, row, (int64_t)cells.size);
		if (ret < 0)
			break;
		sums.csv += (int64_t)cells.size;
		sums_cells(&sums, cells.data->str, cells.data->len, 1);
	}
	if (ret == 0)
		ret = sums_write(c, &sums);
	g_string_free(cells.data, TRUE);
	sums_free(&sums);
	return ret;
}

/* --- state ---------------------------------------------------------------- */

int store_state_set(struct store *st, const char *key, int64_t value)
{
	sqlite3_stmt *stmt;
	int opened, ret;

	if (!key)
		return -EINVAL;
	opened = write_enter(st);
	if (opened < 0)
		return opened;
	ret = conn_stmt(st->writer, SQL_STATE_SET, &stmt);
	if (ret == 0) {
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, value);
		ret = conn_step(stmt);
		conn_stmt_done(st->writer, stmt);
		ret = ret < 0 ? ret : 0;
	}
	return write_leave(st, opened, ret);
}

int store_doc_set(struct store *st, const char *key, const char *data,
		size_t size, int64_t fetched_ms, int64_t mtime_ms)
{
	sqlite3_stmt *stmt;
	int opened, ret;

	if (!key || !data || size > INT32_MAX)
		return -EINVAL;
	opened = write_enter(st);
	if (opened < 0)
		return opened;
	ret = conn_stmt(st->writer, SQL_DOC_SET, &stmt);
	if (ret == 0) {
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 2, data, (int)size, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, fetched_ms);
		sqlite3_bind_int64(stmt, 4, mtime_ms);
		ret = conn_step(stmt);
		conn_stmt_done(st->writer, stmt);
		ret = ret < 0 ? ret : 0;
	}
	return write_leave(st, opened, ret);
}
