/*
 * index_write.c - writing the profile store: batches, profiles, state.
 *
 * Who holds the writer and when is told in the essay in index.c. Here:
 * idx_batch, thread-local, is the index whose writer (and so whose open
 * transaction) the calling thread holds; every write goes through
 * write_enter/write_leave, which join that transaction or make one.
 *
 * A put compares the rendering with the stored bytes and writes only a
 * difference; it updates the row in place, so a profile keeps its rowid (its
 * position for idx_each) for life. Memberships are replaced; channel claims
 * are reconciled, so a claim still made keeps its row and its channel id
 * keeps its position. Deleting a profile deletes its other rows by trigger,
 * and triggers keep the total row (count, profiles.ndjson size) exact.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "index_db.h"
#include "render.h"

/* The index whose writer this thread holds, if any. */
static _Thread_local struct idx *idx_batch;

bool idx_holds_writer(const struct idx *idx)
{
	return idx_batch == idx;
}

/* --- transactions --------------------------------------------------------- */

int idx_begin(struct idx *idx)
{
	int ret;

	if (idx_batch)
		return -EBUSY;
	pthread_mutex_lock(&idx->write_lock);
	ret = idx_exec(idx->writer, "BEGIN IMMEDIATE");
	if (ret < 0) {
		pthread_mutex_unlock(&idx->write_lock);
		return ret;
	}
	idx_batch = idx;
	return 0;
}

static void batch_end(struct idx *idx)
{
	idx_batch = NULL;
	pthread_mutex_unlock(&idx->write_lock);
}

int idx_commit(struct idx *idx)
{
	int ret;

	if (idx_batch != idx)
		return -EINVAL;
	ret = idx_exec(idx->writer, "COMMIT");
	if (ret < 0)
		idx_exec(idx->writer, "ROLLBACK");
	batch_end(idx);
	return ret;
}

void idx_rollback(struct idx *idx)
{
	if (idx_batch != idx)
		return;
	idx_exec(idx->writer, "ROLLBACK");
	batch_end(idx);
}

/*
 * A write's transaction: the batch this thread holds (returns 0), or one of
 * its own (returns 1; end it with write_leave).
 */
static int write_enter(struct idx *idx)
{
	int ret;

	if (idx_batch == idx)
		return 0;
	if (idx_batch)
		return -EBUSY;
	ret = idx_begin(idx);
	return ret < 0 ? ret : 1;
}

static int write_leave(struct idx *idx, int opened, int ret)
{
	if (opened <= 0)
		return ret;
	if (ret < 0) {
		idx_rollback(idx);
		return ret;
	}
	return idx_commit(idx);
}

/* --- writes --------------------------------------------------------------- */

static const char SQL_LOOK[] =
	"SELECT p.rowid, p.seen, b.data FROM profile p"
	" JOIN body b ON b.rowid = p.rowid WHERE p.id = ?1";
static const char SQL_SEEN[] = "UPDATE profile SET seen = ?2 WHERE rowid = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO profile(id, modified, created, size, compact_size, seen)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_UPDATE[] =
	"UPDATE profile SET modified = ?2, created = ?3, size = ?4,"
	" compact_size = ?5, seen = ?6 WHERE rowid = ?1";
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
static const char SQL_SWEEP[] = "SELECT rowid, id FROM profile WHERE seen < ?1";
static const char SQL_DELETE[] = "DELETE FROM profile WHERE rowid = ?1";
static const char SQL_STATE_GET[] = "SELECT value FROM state WHERE key = ?1";
static const char SQL_SAVEPOINT[] = "SAVEPOINT put";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO put";
static const char SQL_RELEASE[] = "RELEASE put";
static const char SQL_DOC_GET[] =
	"SELECT data, fetched, mtime FROM doc WHERE key = ?1";
static const char SQL_DOC_SET[] =
	"INSERT INTO doc(key, data, fetched, mtime) VALUES(?1, ?2, ?3, ?4)"
	" ON CONFLICT(key) DO UPDATE SET data = excluded.data,"
	" fetched = excluded.fetched, mtime = excluded.mtime";
static const char SQL_STATE_SET[] =
	"INSERT INTO state(key, value) VALUES(?1, ?2)"
	" ON CONFLICT(key) DO UPDATE SET value = excluded.value";

/* Runs a statement without parameters nor rows, prepared once. */
static int exec_cached(struct idx_conn *c, const char *sql)
{
	sqlite3_stmt *stmt;
	int ret = idx_stmt(c, sql, &stmt);

	if (ret < 0)
		return ret;
	ret = idx_step_row(stmt);
	idx_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

/* Runs a statement that returns no row, binding ?1 = a and ?2 = b. */
static int run(struct idx_conn *c, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *stmt;
	int ret = idx_stmt(c, sql, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, a);
	if (sqlite3_bind_parameter_count(stmt) > 1)
		sqlite3_bind_int64(stmt, 2, b);
	ret = idx_step_row(stmt);
	idx_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

static int member_add(struct idx_conn *c, const char *space, int64_t list,
		      int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = idx_stmt(c, SQL_MEMBER_ADD, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, space, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, list);
	sqlite3_bind_int64(stmt, 3, row);
	ret = idx_step_row(stmt);
	idx_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

static int put_members(struct idx_conn *c, const struct idx_item *item,
		       int64_t row)
{
	int ret = run(c, SQL_MEMBERS_CLEAR, row, 0);
	size_t i;

	for (i = 0; ret == 0 && i < item->n_partner_lists; i++)
		ret = member_add(c, "", item->partner_lists[i], row);
	for (i = 0; ret == 0 && i < item->n_space_lists; i++)
		ret = member_add(c, item->space_lists[i].space_id,
				 item->space_lists[i].list_id, row);
	return ret;
}

static bool claims(const struct idx_item *item, const char *type,
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
static int drop_channels(struct idx_conn *c, const struct idx_item *item,
			 int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = idx_stmt(c, SQL_CHANNELS_OF, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, row);
	for (;;) {
		const char *type, *cid;

		ret = idx_step_row(stmt);
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
	idx_stmt_done(c, stmt);
	return ret;
}

static int put_channels(struct idx_conn *c, const struct idx_item *item,
			int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = drop_channels(c, item, row);
	size_t i;

	for (i = 0; ret == 0 && i < item->n_channels; i++) {
		ret = idx_stmt(c, SQL_CHANNEL_ADD, &stmt);
		if (ret < 0)
			break;
		sqlite3_bind_text(stmt, 1, item->channels[i].type, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, item->channels[i].channel_id, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, row);
		ret = idx_step_row(stmt);
		idx_stmt_done(c, stmt);
		ret = ret < 0 ? ret : 0;
	}
	return ret;
}

/* Writes the profile row (inserting when row is 0) and sets *row. */
static int put_row(struct idx_conn *c, const struct idx_item *item,
		   uint64_t pass, int64_t *row)
{
	sqlite3_stmt *stmt;
	int ret = idx_stmt(c, *row ? SQL_UPDATE : SQL_INSERT, &stmt);

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
	ret = idx_step_row(stmt);
	idx_stmt_done(c, stmt);
	if (ret < 0)
		return ret;
	if (!*row)
		*row = sqlite3_last_insert_rowid(c->db);
	return 0;
}

static int put_body(struct idx_conn *c, const struct idx_item *item,
		    int64_t row)
{
	sqlite3_stmt *stmt;
	int ret = idx_stmt(c, SQL_BODY, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, row);
	sqlite3_bind_blob64(stmt, 2, item->data, item->size, SQLITE_STATIC);
	ret = idx_step_row(stmt);
	idx_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

static int put_all(struct idx_conn *c, const struct idx_item *item,
		   uint64_t pass, int64_t row)
{
	int ret = put_row(c, item, pass, &row);

	if (ret == 0)
		ret = put_body(c, item, row);
	if (ret == 0)
		ret = put_members(c, item, row);
	if (ret == 0)
		ret = put_channels(c, item, row);
	return ret;
}

/* The stored row of the item's id: *row 0 when absent, *same when equal. */
static int look(struct idx_conn *c, const struct idx_item *item,
		int64_t *row, int64_t *seen, bool *same)
{
	sqlite3_stmt *stmt;
	int ret = idx_stmt(c, SQL_LOOK, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, item->id, -1, SQLITE_STATIC);
	ret = idx_step_row(stmt);
	*row = 0;
	*same = false;
	if (ret > 0) {
		*row = sqlite3_column_int64(stmt, 0);
		*seen = sqlite3_column_int64(stmt, 1);
		*same = (size_t)sqlite3_column_bytes(stmt, 2) == item->size &&
			memcmp(sqlite3_column_blob(stmt, 2), item->data,
			       item->size) == 0;
	}
	idx_stmt_done(c, stmt);
	return ret < 0 ? ret : 0;
}

/* In a transaction: stores the item, or only its pass when unchanged. */
static int put_item(struct idx_conn *c, const struct idx_item *item,
		    uint64_t pass, bool *changed)
{
	int64_t row = 0, seen = 0;
	bool same = false;
	int ret;

	ret = exec_cached(c, SQL_SAVEPOINT);
	if (ret < 0)
		return ret;
	ret = look(c, item, &row, &seen, &same);
	if (ret == 0 && same && seen != (int64_t)pass)
		ret = run(c, SQL_SEEN, row, (int64_t)pass);
	else if (ret == 0 && !same)
		ret = put_all(c, item, pass, row);
	if (ret < 0)
		exec_cached(c, SQL_ROLLBACK_TO);
	exec_cached(c, SQL_RELEASE);
	if (ret == 0)
		*changed = !same;
	return ret;
}

int idx_put(struct idx *idx, const cJSON *profile, uint64_t pass,
	    int64_t *modified_ms, bool *changed)
{
	struct idx_item *item;
	bool differs = false;
	int ret, opened;

	ret = render_item(profile, idx->env, &item);
	if (ret < 0)
		return ret;
	opened = write_enter(idx);
	ret = opened < 0 ? opened : put_item(idx->writer, item, pass, &differs);
	ret = write_leave(idx, opened, ret);
	if (ret == 0) {
		*modified_ms = item->modified_ms;
		*changed = differs;
	}
	idx_item_unref(item);
	return ret;
}

/*
 * Deletes row by row, each delete atomic with its triggers, and reports each
 * as it goes: after a failure, what was removed stays removed.
 */
static size_t sweep_rows(struct idx_conn *c, uint64_t pass,
			 void (*removed)(const char *id, void *arg), void *arg)
{
	sqlite3_stmt *stmt;
	size_t n = 0;

	if (idx_stmt(c, SQL_SWEEP, &stmt) < 0)
		return 0;
	sqlite3_bind_int64(stmt, 1, (int64_t)pass);
	while (idx_step_row(stmt) > 0) {
		const char *id = (const char *)sqlite3_column_text(stmt, 1);

		if (run(c, SQL_DELETE, sqlite3_column_int64(stmt, 0), 0) < 0)
			break;
		n++;
		if (removed && id)
			removed(id, arg);
	}
	idx_stmt_done(c, stmt);
	return n;
}

size_t idx_sweep(struct idx *idx, uint64_t pass,
		 void (*removed)(const char *id, void *arg), void *arg)
{
	int opened = write_enter(idx);
	size_t n;

	if (opened < 0)
		return 0;
	n = sweep_rows(idx->writer, pass, removed, arg);
	if (write_leave(idx, opened, 0) < 0)
		return 0;
	return n;
}

/* --- state ---------------------------------------------------------------- */

static void take_int(sqlite3_stmt *stmt, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(stmt, 0);
}

int idx_state_get(struct idx *idx, const char *key, int64_t *value)
{
	if (!key)
		return -EINVAL;
	return idx_read_row(idx, SQL_STATE_GET, key, 0, take_int, value);
}

int idx_state_set(struct idx *idx, const char *key, int64_t value)
{
	sqlite3_stmt *stmt;
	int opened, ret;

	if (!key)
		return -EINVAL;
	opened = write_enter(idx);
	if (opened < 0)
		return opened;
	ret = idx_stmt(idx->writer, SQL_STATE_SET, &stmt);
	if (ret == 0) {
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, value);
		ret = idx_step_row(stmt);
		idx_stmt_done(idx->writer, stmt);
		ret = ret < 0 ? ret : 0;
	}
	return write_leave(idx, opened, ret);
}

/* A copy of a stored document: its bytes (NUL-terminated) and times. */
int idx_doc_get(struct idx *idx, const char *key, char **data, size_t *size,
		int64_t *fetched_ms, int64_t *mtime_ms)
{
	struct idx_conn *c = idx_read_acquire(idx);
	sqlite3_stmt *stmt;
	const void *blob;
	char *copy;
	int ret, len;

	if (!c)
		return -ENOMEM;
	ret = idx_stmt(c, SQL_DOC_GET, &stmt);
	if (ret < 0)
		goto out_release;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	ret = idx_step_row(stmt);
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
	idx_stmt_done(c, stmt);
out_release:
	idx_read_release(idx, c);
	return ret;
}

int idx_doc_set(struct idx *idx, const char *key, const char *data,
		size_t size, int64_t fetched_ms, int64_t mtime_ms)
{
	sqlite3_stmt *stmt;
	int opened, ret;

	if (!key || !data || size > INT32_MAX)
		return -EINVAL;
	opened = write_enter(idx);
	if (opened < 0)
		return opened;
	ret = idx_stmt(idx->writer, SQL_DOC_SET, &stmt);
	if (ret == 0) {
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 2, data, (int)size, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, fetched_ms);
		sqlite3_bind_int64(stmt, 4, mtime_ms);
		ret = idx_step_row(stmt);
		idx_stmt_done(idx->writer, stmt);
		ret = ret < 0 ? ret : 0;
	}
	return write_leave(idx, opened, ret);
}
