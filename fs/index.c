/*
 * index.c - the profile store: connections, the schema, opening.
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
 * The writer is one connection, idx->writer, used only by the thread holding
 * idx->write_lock. idx_begin takes the mutex and BEGINs; the same thread
 * COMMITs and releases it in idx_commit or idx_rollback. The thread-local
 * idx_batch (index_write.c) names the index whose writer this thread holds.
 * A write from that thread joins the open transaction (idx_put within a
 * savepoint, so a put that fails leaves the batch as it was); a write from
 * another thread takes the mutex for a transaction of its own, and so waits
 * for the batch in flight to end. One batch per thread at a time: idx_begin while this thread
 * holds a writer, of this index or another, is refused with -EBUSY.
 *
 * Reads run on a pool of connections, at most IDX_READERS idle or busy, the
 * idle ones on idx->idle under idx->pool_lock. A reading call takes one, runs
 * its statements, resets them and gives it back before returning, so no read
 * transaction outlives a call; idx_each keeps its connection while its
 * callback runs. When all are busy a thread waits on pool_cond, unless it
 * already holds a connection (a callback that reads again): waiting could
 * then deadlock, so it opens one more, closed when given back. The thread
 * holding the writer reads through the writer, seeing its own batch.
 *
 * Each connection caches its prepared statements; an entry in use is marked,
 * and a nested use of the same SQL gets a statement of its own. Items handed
 * out are copies with atomic reference counts (render.c); an idx_lines view
 * owns its connection and its own mutex (lines.c).
 *
 * This file keeps the connections and opens the store; index_write.c has
 * the transactions and the writes, index_read.c the reads.
 *
 * Nothing per profile is kept in memory: SQLite's page caches, sized from
 * cache_bytes and bounded by the process-wide soft heap limit, are the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"
#include "index_db.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL
#define IDX_READERS 4
#define IDX_SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
#define WAL_LIMIT "67108864"	/* bytes a checkpointed WAL is cut to */

/* How many pooled reader connections this thread holds. */
static _Thread_local int idx_reads_held;

static const char SCHEMA[] =
	"CREATE TABLE profile(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
	" modified INTEGER NOT NULL, created INTEGER NOT NULL,"
	" size INTEGER NOT NULL, compact_size INTEGER NOT NULL,"
	" seen INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX profile_id ON profile(id);"
	"CREATE INDEX profile_modified ON profile(modified);"
	"CREATE TABLE body(rowid INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE TABLE member(space TEXT NOT NULL, list INTEGER NOT NULL,"
	" profile INTEGER NOT NULL, PRIMARY KEY(space, list, profile))"
	" WITHOUT ROWID;"
	"CREATE INDEX member_profile ON member(profile);"
	"CREATE TABLE channel(rowid INTEGER PRIMARY KEY, type TEXT NOT NULL,"
	" cid TEXT NOT NULL, profile INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX channel_claim ON channel(type, cid, profile);"
	"CREATE INDEX channel_type ON channel(type);"
	"CREATE INDEX channel_profile ON channel(profile);"
	"CREATE TABLE state(key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE doc(key TEXT PRIMARY KEY, data BLOB NOT NULL,"
	" fetched INTEGER NOT NULL, mtime INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE total(one INTEGER PRIMARY KEY CHECK(one = 1),"
	" profiles INTEGER NOT NULL, ndjson INTEGER NOT NULL);"
	"INSERT INTO total VALUES(1, 0, 0);"
	"CREATE TRIGGER profile_insert AFTER INSERT ON profile BEGIN"
	" UPDATE total SET profiles = profiles + 1,"
	"  ndjson = ndjson + new.compact_size + 1;"
	" END;"
	"CREATE TRIGGER profile_update AFTER UPDATE OF compact_size ON profile"
	" BEGIN"
	" UPDATE total SET ndjson = ndjson - old.compact_size + new.compact_size;"
	" END;"
	"CREATE TRIGGER profile_delete AFTER DELETE ON profile BEGIN"
	" UPDATE total SET profiles = profiles - 1,"
	"  ndjson = ndjson - old.compact_size - 1;"
	" DELETE FROM body WHERE rowid = old.rowid;"
	" DELETE FROM member WHERE profile = old.rowid;"
	" DELETE FROM channel WHERE profile = old.rowid;"
	" END;";

/* --- inode numbers -------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t idx_inode(const char *env, const char *kind, const char *name)
{
	uint64_t h = FNV_OFFSET;

	h = fnv(h, env, strlen(env) + 1);
	h = fnv(h, kind, strlen(kind) + 1);
	h = fnv(h, name, strlen(name));
	return h < 16 ? h + 16 : h;
}

/* --- connections and statements ------------------------------------------ */

int idx_sqlite_errno(int rc)
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

int idx_exec(struct idx_conn *c, const char *sql)
{
	return idx_sqlite_errno(sqlite3_exec(c->db, sql, NULL, NULL, NULL));
}

int idx_step_row(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return idx_sqlite_errno(rc);
}

static int conn_setup(struct idx_conn *c, int cache_kib)
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
	return idx_exec(c, sql);
}

int idx_conn_open(const char *path, int cache_kib, struct idx_conn **out)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX;
	struct idx_conn *c;
	int rc, ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		ret = c->db ? idx_sqlite_errno(sqlite3_extended_errcode(c->db))
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

void idx_conn_close(struct idx_conn *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n_cached; i++)
		sqlite3_finalize(c->cache[i].stmt);
	sqlite3_close(c->db);
	free(c);
}

static int prepare(struct idx_conn *c, const char *sql, unsigned flags,
		   sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v3(c->db, sql, -1, flags, out, NULL);

	return idx_sqlite_errno(rc);
}

int idx_stmt(struct idx_conn *c, const char *sql, sqlite3_stmt **out)
{
	struct idx_cached_stmt *e;
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
	if (c->n_cached == IDX_STMT_CACHE)
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

void idx_stmt_done(struct idx_conn *c, sqlite3_stmt *stmt)
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
static struct idx_conn *pool_take(struct idx *idx)
{
	struct idx_conn *c;

	pthread_mutex_lock(&idx->pool_lock);
	while (!idx->idle && idx->n_readers >= IDX_READERS &&
	       idx_reads_held == 0)
		pthread_cond_wait(&idx->pool_cond, &idx->pool_lock);
	c = idx->idle;
	if (c)
		idx->idle = c->next;
	else
		idx->n_readers++;
	pthread_mutex_unlock(&idx->pool_lock);
	return c;
}

static void pool_forget(struct idx *idx)
{
	pthread_mutex_lock(&idx->pool_lock);
	idx->n_readers--;
	pthread_cond_signal(&idx->pool_cond);
	pthread_mutex_unlock(&idx->pool_lock);
}

struct idx_conn *idx_read_acquire(struct idx *idx)
{
	struct idx_conn *c;

	if (idx_holds_writer(idx))
		return idx->writer;
	c = pool_take(idx);
	if (!c && idx_conn_open(idx->path, idx->cache_kib, &c) < 0) {
		pool_forget(idx);
		return NULL;
	}
	idx_reads_held++;
	return c;
}

void idx_read_release(struct idx *idx, struct idx_conn *c)
{
	bool extra;

	if (!c || c == idx->writer)
		return;
	idx_reads_held--;
	pthread_mutex_lock(&idx->pool_lock);
	extra = idx->n_readers > IDX_READERS;
	if (extra) {
		idx->n_readers--;
	} else {
		c->next = idx->idle;
		idx->idle = c;
	}
	pthread_cond_signal(&idx->pool_cond);
	pthread_mutex_unlock(&idx->pool_lock);
	if (extra)
		idx_conn_close(c);
}

/* --- opening -------------------------------------------------------------- */

static int pragma_int(struct idx_conn *c, const char *sql, int64_t *value)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = prepare(c, sql, 0, &stmt);
	if (ret < 0)
		return ret;
	ret = idx_step_row(stmt);
	if (ret > 0)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return ret < 0 ? ret : 0;
}

/* In a write transaction: creates the schema in an empty database. */
static int schema_create(struct idx_conn *c)
{
	int64_t version = -1, tables = -1;
	char sql[64];
	int ret;

	ret = pragma_int(c, "PRAGMA user_version", &version);
	if (ret == 0 && version == IDX_SCHEMA_VERSION)
		return 0;	/* another process was first */
	if (ret == 0)
		ret = pragma_int(c, "SELECT count(*) FROM sqlite_master", &tables);
	if (ret < 0)
		return ret;
	if (version != 0 || tables != 0)
		return -EUCLEAN;	/* somebody else's database */
	ret = idx_exec(c, SCHEMA);
	if (ret < 0)
		return ret;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 IDX_SCHEMA_VERSION);
	return idx_exec(c, sql);
}

/* A store of our version has our tables. */
static int tables_check(struct idx_conn *c)
{
	int64_t n = 0;
	int ret = pragma_int(c, "SELECT count(*) FROM sqlite_master WHERE"
			     " type = 'table' AND name IN ('profile', 'body',"
			     " 'member', 'channel', 'state', 'doc', 'total')",
			     &n);

	return ret < 0 ? ret : n == 7 ? 0 : -EUCLEAN;
}

/* 0, or -EUCLEAN when the file is not a store of ours. */
static int schema_check(struct idx_conn *c)
{
	int64_t version = -1;
	int ret;

	ret = idx_exec(c, "PRAGMA journal_mode = WAL");
	if (ret == 0)
		ret = pragma_int(c, "PRAGMA user_version", &version);
	if (ret < 0)
		return ret;
	if (version == IDX_SCHEMA_VERSION)
		return tables_check(c);
	if (version != 0)
		return -EUCLEAN;
	ret = idx_exec(c, "BEGIN IMMEDIATE");
	if (ret < 0)
		return ret;
	ret = schema_create(c);
	if (ret == 0)
		ret = idx_exec(c, "COMMIT");
	if (ret < 0)
		idx_exec(c, "ROLLBACK");
	return ret;
}

static int create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int unlink_suffixed(const char *path, const char *suffix)
{
	char name[4096];
	int len = snprintf(name, sizeof(name), "%s%s", path, suffix);

	if (len < 0 || (size_t)len >= sizeof(name))
		return -ENAMETOOLONG;
	if (unlink(name) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Moves a file that is not ours aside; its WAL must not meet the new one. */
static int set_aside(const char *path)
{
	char broken[4096];
	int len = snprintf(broken, sizeof(broken), "%s.broken", path), ret;

	if (len < 0 || (size_t)len >= sizeof(broken))
		return -ENAMETOOLONG;
	if (rename(path, broken) < 0)
		return -errno;
	ret = unlink_suffixed(path, "-wal");
	if (ret == 0)
		ret = unlink_suffixed(path, "-shm");
	return ret;
}

static int open_writer(struct idx *idx)
{
	int ret = create_private(idx->path);

	if (ret == 0)
		ret = idx_conn_open(idx->path, idx->cache_kib, &idx->writer);
	if (ret < 0)
		return ret;
	ret = schema_check(idx->writer);
	if (ret == 0)
		ret = idx_exec(idx->writer,
			       "PRAGMA journal_size_limit = " WAL_LIMIT);
	if (ret < 0) {
		idx_conn_close(idx->writer);
		idx->writer = NULL;
	}
	return ret;
}

/* 0, 1 when a file that was not ours was set aside, or -errno. */
static int open_store(struct idx *idx)
{
	int ret = open_writer(idx);

	if (ret != -EUCLEAN)
		return ret;
	ret = set_aside(idx->path);
	if (ret == 0)
		ret = open_writer(idx);
	return ret < 0 ? ret : 1;
}

static int cache_kib_for(size_t cache_bytes)
{
	size_t kib = cache_bytes / 1024 / (IDX_READERS + 2);

	if (!cache_bytes)
		return 0;
	if (kib < 64)
		kib = 64;
	return kib > INT32_MAX ? INT32_MAX : (int)kib;
}

static struct idx *idx_alloc(const char *env, const char *path)
{
	struct idx *idx = calloc(1, sizeof(*idx));

	if (!idx)
		return NULL;
	idx->env = strdup(env);
	idx->path = strdup(path);
	if (!idx->env || !idx->path)
		goto out_free;
	if (pthread_mutex_init(&idx->write_lock, NULL) != 0)
		goto out_free;
	if (pthread_mutex_init(&idx->pool_lock, NULL) != 0)
		goto out_destroy_write;
	if (pthread_cond_init(&idx->pool_cond, NULL) != 0)
		goto out_destroy_pool;
	return idx;

out_destroy_pool:
	pthread_mutex_destroy(&idx->pool_lock);
out_destroy_write:
	pthread_mutex_destroy(&idx->write_lock);
out_free:
	free(idx->path);
	free(idx->env);
	free(idx);
	return NULL;
}

static void idx_dealloc(struct idx *idx)
{
	pthread_cond_destroy(&idx->pool_cond);
	pthread_mutex_destroy(&idx->pool_lock);
	pthread_mutex_destroy(&idx->write_lock);
	free(idx->path);
	free(idx->env);
	free(idx);
}

int idx_open(const char *env, const char *path, size_t cache_bytes,
	     struct idx **out)
{
	struct idx *idx;
	int ret;

	if (!env || !path)
		return -EINVAL;
	idx = idx_alloc(env, path);
	if (!idx)
		return -ENOMEM;
	idx->cache_kib = cache_kib_for(cache_bytes);
	ret = open_store(idx);
	if (ret < 0) {
		idx_dealloc(idx);
		return ret;
	}
	if (cache_bytes)
		sqlite3_soft_heap_limit64((sqlite3_int64)cache_bytes);
	*out = idx;
	return ret;
}

void idx_close(struct idx *idx)
{
	struct idx_conn *c;

	if (!idx)
		return;
	while (idx->idle) {
		c = idx->idle;
		idx->idle = c->next;
		idx_conn_close(c);
	}
	idx_conn_close(idx->writer);
	idx_dealloc(idx);
}

const char *idx_path(const struct idx *idx)
{
	return idx->path;
}

uint64_t idx_store_bytes(struct idx *idx)
{
	char wal[4096];
	struct stat st;
	uint64_t n = 0;
	int len;

	if (stat(idx->path, &st) == 0)
		n += (uint64_t)st.st_size;
	len = snprintf(wal, sizeof(wal), "%s-wal", idx->path);
	if (len > 0 && (size_t)len < sizeof(wal) && stat(wal, &st) == 0)
		n += (uint64_t)st.st_size;
	return n;
}
