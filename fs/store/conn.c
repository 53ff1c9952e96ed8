/*
 * conn.c - the store's connections: opening them, their cached statements,
 * the pool of readers, and which writer a thread holds.
 *
 * Concurrency
 *
 * The store is one SQLite file in WAL mode and SQLite isolates whoever uses
 * it, in this process or another: a reader sees the last commit made before
 * its statement (or its transaction) began and is never blocked by a writer;
 * a writer holds the file's write lock from BEGIN IMMEDIATE to COMMIT, and a
 * second writer, say another mount of the same environment, waits for it up
 * to the busy timeout. What this file adds is that no connection is ever used
 * by two threads at once, so connections are opened SQLITE_OPEN_NOMUTEX.
 *
 * The writer is one connection, st->writer, used only by the thread holding
 * st->write_lock. store_begin takes the mutex and BEGINs; the same thread
 * COMMITs and releases it in store_commit or store_rollback. The thread-local
 * conn_batch names the store whose writer this thread holds. A write from
 * that thread joins the open transaction (a put that fails leaves the
 * batch as it was, write.c says how); a write from
 * another thread takes the mutex for a transaction of its own, and so waits
 * for the batch in flight to end. One batch per thread at a time: store_begin
 * while this thread holds a writer, of this store or another, is refused
 * with -EBUSY. A thread of the store's own copies the WAL into the
 * database (checkpoint.c) on a connection of its own; it takes write_lock
 * only for a moment between two batches, and holds no other lock then.
 *
 * Reads run on a pool of connections, at most CONN_READERS idle or busy, the
 * idle ones on st->idle under st->pool_lock. A reading call takes one, runs
 * its statements, resets them and gives it back before returning, so no read
 * transaction outlives a call; store_each keeps its connection while its
 * callback runs. When all are busy a thread waits on pool_cond, unless it
 * already holds a connection (a callback that reads again): waiting could
 * then deadlock, so it opens one more, closed when given back. The thread
 * holding the writer reads through the writer, seeing its own batch.
 *
 * Each connection caches its prepared statements; an entry in use is marked,
 * and a nested use of the same SQL gets a statement of its own. Items handed
 * out are copies with atomic reference counts (item.c); a profiles.ndjson view
 * owns its connection and its own mutex (lines.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fs/store/conn.h"

#define BUSY_TIMEOUT_MS 10000

/* The store whose writer this thread holds, if any. */
static _Thread_local struct store *conn_batch;
/* How many pooled reader connections this thread holds. */
static _Thread_local int conn_reads_held;

bool conn_holds_writer(const struct store *st)
{
	return conn_batch == st;
}

/* Whether this thread holds the writer of any store. */
bool conn_holds_any_writer(void)
{
	return conn_batch != NULL;
}

void conn_set_batch(struct store *st)
{
	conn_batch = st;
}

/* --- connections and statements ------------------------------------------ */

int conn_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	case SQLITE_TOOBIG:
		return -EFBIG;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int conn_exec(struct store_conn *c, const char *sql)
{
	return conn_errno(sqlite3_exec(c->db, sql, NULL, NULL, NULL));
}

int conn_step(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return conn_errno(rc);
}

static int conn_setup(struct store_conn *c, int cache_kib)
{
	char sql[160];

	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	if (cache_kib > 0)
		snprintf(sql, sizeof(sql), "PRAGMA mmap_size = 0;"
			 "PRAGMA synchronous = NORMAL;"
			 "PRAGMA cache_size = -%d;", cache_kib);
	else
		snprintf(sql, sizeof(sql), "PRAGMA mmap_size = 0;"
			 "PRAGMA synchronous = NORMAL;");
	return conn_exec(c, sql);
}

int conn_open(const char *path, int cache_kib, struct store_conn **out)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX;
	struct store_conn *c;
	int rc, ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		ret = c->db ? conn_errno(sqlite3_extended_errcode(c->db))
			    : -ENOMEM;
		goto out_close;
	}
	ret = conn_setup(c, cache_kib);
	if (ret < 0)
		goto out_close;
	*out = c;
	return 0;

out_close:
	sqlite3_close(c->db);
	free(c);
	return ret;
}

void conn_close(struct store_conn *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n_cached; i++)
		sqlite3_finalize(c->cache[i].stmt);
	sqlite3_close(c->db);
	free(c);
}

static int prepare(struct store_conn *c, const char *sql, unsigned flags,
		   sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v3(c->db, sql, -1, flags, out, NULL);

	return conn_errno(rc);
}

int conn_stmt(struct store_conn *c, const char *sql, sqlite3_stmt **out)
{
	struct conn_cached_stmt *e;
	int i, ret;

	for (i = 0; i < c->n_cached; i++) {
		e = &c->cache[i];
		if (e->sql != sql)
			continue;
		if (e->used)	/* nested use: a statement of its own */
			return prepare(c, sql, 0, out);
		e->used = true;
		*out = e->stmt;
		return 0;
	}
	if (c->n_cached == CONN_STMT_CACHE)
		return prepare(c, sql, 0, out);
	e = &c->cache[c->n_cached];
	ret = prepare(c, sql, SQLITE_PREPARE_PERSISTENT, &e->stmt);
	if (ret < 0)
		return ret;
	e->sql = sql;
	e->used = true;
	c->n_cached++;
	*out = e->stmt;
	return 0;
}

void conn_stmt_done(struct store_conn *c, sqlite3_stmt *stmt)
{
	int i;

	if (!stmt)
		return;
	for (i = 0; i < c->n_cached; i++) {
		if (c->cache[i].stmt != stmt)
			continue;
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		c->cache[i].used = false;
		return;
	}
	sqlite3_finalize(stmt);
}

/* --- the reader pool ------------------------------------------------------ */

/* Takes an idle connection or the right to open one; NULL: open one. */
static struct store_conn *pool_take(struct store *st)
{
	struct store_conn *c;

	pthread_mutex_lock(&st->pool_lock);
	while (!st->idle && st->n_readers >= CONN_READERS &&
	       conn_reads_held == 0)
		pthread_cond_wait(&st->pool_cond, &st->pool_lock);
	c = st->idle;
	if (c)
		st->idle = c->next;
	else
		st->n_readers++;
	pthread_mutex_unlock(&st->pool_lock);
	return c;
}

static void pool_forget(struct store *st)
{
	pthread_mutex_lock(&st->pool_lock);
	st->n_readers--;
	pthread_cond_signal(&st->pool_cond);
	pthread_mutex_unlock(&st->pool_lock);
}

struct store_conn *conn_read_acquire(struct store *st)
{
	struct store_conn *c;

	if (conn_holds_writer(st))
		return st->writer;
	c = pool_take(st);
	if (!c && conn_open(st->path, st->cache_kib, &c) < 0) {
		pool_forget(st);
		return NULL;
	}
	conn_reads_held++;
	return c;
}

void conn_read_release(struct store *st, struct store_conn *c)
{
	bool extra;

	if (!c || c == st->writer)
		return;
	conn_reads_held--;
	pthread_mutex_lock(&st->pool_lock);
	extra = st->n_readers > CONN_READERS;
	if (extra) {
		st->n_readers--;
	} else {
		c->next = st->idle;
		st->idle = c;
	}
	pthread_cond_signal(&st->pool_cond);
	pthread_mutex_unlock(&st->pool_lock);
	if (extra)
		conn_close(c);
}

int conn_read_row(struct store *st, const char *sql, const char *text,
		  int64_t number, void (*take)(sqlite3_stmt *stmt, void *arg),
		  void *arg)
{
	struct store_conn *c = conn_read_acquire(st);
	sqlite3_stmt *stmt;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = conn_stmt(c, sql, &stmt);
	if (ret == 0) {
		if (text)
			sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
		else if (sqlite3_bind_parameter_count(stmt) > 0)
			sqlite3_bind_int64(stmt, 1, number);
		ret = conn_step(stmt);
		if (ret > 0)
			take(stmt, arg);
		ret = ret > 0 ? 0 : ret == 0 ? -ENOENT : ret;
		conn_stmt_done(c, stmt);
	}
	conn_read_release(st, c);
	return ret;
}
