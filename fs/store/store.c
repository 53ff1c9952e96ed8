/*
 * store.c - the store: its schema, opening it (a file that is not a store of
 * ours is set aside and a new one made), closing it.
 *
 * How its connections are shared between threads and processes is told in
 * the essay at the top of conn.c; write.c has the transactions and the
 * writes, read.c the reads. Nothing per profile is kept in memory: SQLite's
 * page caches, sized from cache_bytes and bounded by the process-wide soft
 * heap limit, are the cache.
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

#include <glib.h>

#include "fs/store/conn.h"
#include "fs/store/store.h"

#define STORE_SCHEMA_VERSION 3
/* bytes a checkpointed WAL is cut to: twice the most that starts a copy
 * (checkpoint.c), so that a listing does not shrink and grow it each round */
#define WAL_LIMIT "268435456"

/* Version 1: a new store is made as version 1, then upgraded. */
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

/*
 * Version 2, profiles.csv: each profile's cells (csv.h) and their size,
 * the custom fields profiles hold (prop) and how many hold each (field,
 * kept by triggers).
 */
static const char UPGRADE_2[] =
	"ALTER TABLE profile ADD COLUMN csv_size INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE total ADD COLUMN csv INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE csv(rowid INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE TABLE prop(profile INTEGER NOT NULL, space TEXT NOT NULL,"
	" key TEXT NOT NULL, PRIMARY KEY(profile, space, key)) WITHOUT ROWID;"
	"CREATE TABLE field(space TEXT NOT NULL, key TEXT NOT NULL,"
	" profiles INTEGER NOT NULL, PRIMARY KEY(space, key)) WITHOUT ROWID;"
	"DROP TRIGGER profile_insert;"
	"DROP TRIGGER profile_update;"
	"DROP TRIGGER profile_delete;"
	"CREATE TRIGGER profile_insert AFTER INSERT ON profile BEGIN"
	" UPDATE total SET profiles = profiles + 1,"
	"  ndjson = ndjson + new.compact_size + 1, csv = csv + new.csv_size;"
	" END;"
	"CREATE TRIGGER profile_update AFTER UPDATE OF compact_size, csv_size"
	" ON profile BEGIN"
	" UPDATE total SET ndjson = ndjson - old.compact_size + new.compact_size,"
	"  csv = csv - old.csv_size + new.csv_size;"
	" END;"
	"CREATE TRIGGER profile_delete AFTER DELETE ON profile BEGIN"
	" UPDATE total SET profiles = profiles - 1,"
	"  ndjson = ndjson - old.compact_size - 1, csv = csv - old.csv_size;"
	" DELETE FROM body WHERE rowid = old.rowid;"
	" DELETE FROM csv WHERE rowid = old.rowid;"
	" DELETE FROM member WHERE profile = old.rowid;"
	" DELETE FROM channel WHERE profile = old.rowid;"
	" DELETE FROM prop WHERE profile = old.rowid;"
	" END;"
	"CREATE TRIGGER prop_insert AFTER INSERT ON prop BEGIN"
	" INSERT INTO field VALUES(new.space, new.key, 1)"
	"  ON CONFLICT(space, key) DO UPDATE SET profiles = profiles + 1;"
	" END;"
	"CREATE TRIGGER prop_delete AFTER DELETE ON prop BEGIN"
	" UPDATE field SET profiles = profiles - 1"
	"  WHERE space = old.space AND key = old.key;"
	" DELETE FROM field WHERE space = old.space AND key = old.key"
	"  AND profiles <= 0;"
	" END;";

/*
 * Version 3: the total row and the count of profiles per custom field are
 * kept by the writer (conn.h, struct store_sums) rather than by a trigger
 * per row, and the custom fields a profile holds are read from its cells,
 * so prop goes. A profile's delete still deletes its other rows.
 */
static const char UPGRADE_3[] =
	"DROP TRIGGER profile_insert;"
	"DROP TRIGGER profile_update;"
	"DROP TRIGGER profile_delete;"
	"DROP TRIGGER prop_insert;"
	"DROP TRIGGER prop_delete;"
	"DROP TABLE prop;"
	"CREATE TRIGGER profile_delete AFTER DELETE ON profile BEGIN"
	" DELETE FROM body WHERE rowid = old.rowid;"
	" DELETE FROM csv WHERE rowid = old.rowid;"
	" DELETE FROM member WHERE profile = old.rowid;"
	" DELETE FROM channel WHERE profile = old.rowid;"
	" END;";

/* --- opening -------------------------------------------------------------- */

static int pragma_int(struct store_conn *c, const char *sql, int64_t *value)
{
	sqlite3_stmt *stmt;
	int ret;

	ret = conn_errno(sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL));
	if (ret < 0)
		return ret;
	ret = conn_step(stmt);
	if (ret > 0)
		*value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return ret < 0 ? ret : 0;
}

/* In a write transaction: the schema of an empty database (version 1). */
static int schema_create(struct store_conn *c)
{
	int64_t tables = -1;
	int ret = pragma_int(c, "SELECT count(*) FROM sqlite_master", &tables);

	if (ret < 0)
		return ret;
	if (tables != 0)
		return -EUCLEAN;	/* somebody else's database */
	return conn_exec(c, SCHEMA);
}


/* In a write transaction: brings the schema to our version, from none or
 * an older one (another process may have done it first). */
static int schema_update(struct store_conn *c)
{
	int64_t version = -1;
	char sql[64];
	int ret;

	ret = pragma_int(c, "PRAGMA user_version", &version);
	if (ret < 0 || version == STORE_SCHEMA_VERSION)
		return ret;
	if (version < 0 || version > STORE_SCHEMA_VERSION)
		return -EUCLEAN;
	if (version == 0)
		ret = schema_create(c);
	if (ret == 0 && version <= 1)
		ret = conn_exec(c, UPGRADE_2);
	if (ret == 0 && version <= 2)
		ret = conn_exec(c, UPGRADE_3);
	if (ret == 0 && version <= 1)	/* every stored profile's cells */
		ret = write_fill_csv(c);
	if (ret < 0)
		return ret;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 STORE_SCHEMA_VERSION);
	return conn_exec(c, sql);
}

/* A store of our version has our tables. */
static int tables_check(struct store_conn *c)
{
	int64_t n = 0;
	int ret = pragma_int(c, "SELECT count(*) FROM sqlite_master WHERE"
			     " type = 'table' AND name IN ('profile', 'body',"
			     " 'member', 'channel', 'state', 'doc', 'total',"
			     " 'csv', 'field')", &n);

	return ret < 0 ? ret : n == 9 ? 0 : -EUCLEAN;
}

/* 0, or -EUCLEAN when the file is not a store of ours. */
static int schema_check(struct store_conn *c)
{
	int64_t version = -1;
	int ret;

	ret = conn_exec(c, "PRAGMA journal_mode = WAL");
	if (ret == 0)
		ret = pragma_int(c, "PRAGMA user_version", &version);
	if (ret < 0)
		return ret;
	if (version == STORE_SCHEMA_VERSION)
		return tables_check(c);
	if (version < 0 || version > STORE_SCHEMA_VERSION)
		return -EUCLEAN;
	ret = conn_exec(c, "BEGIN IMMEDIATE");
	if (ret < 0)
		return ret;
	ret = schema_update(c);
	if (ret == 0)
		ret = conn_exec(c, "COMMIT");
	if (ret < 0)
		conn_exec(c, "ROLLBACK");
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
	char *name = g_strconcat(path, suffix, NULL);
	int ret = unlink(name) < 0 && errno != ENOENT ? -errno : 0;

	g_free(name);
	return ret;
}

/* Moves a file that is not ours aside; its WAL must not meet the new one. */
static int set_aside(const char *path)
{
	char *broken = g_strconcat(path, ".broken", NULL);
	int ret = rename(path, broken) < 0 ? -errno : 0;

	g_free(broken);
	if (ret == 0)
		ret = unlink_suffixed(path, "-wal");
	if (ret == 0)
		ret = unlink_suffixed(path, "-shm");
	return ret;
}

static int open_writer(struct store *st)
{
	int ret = create_private(st->path);

	if (ret == 0)
		ret = conn_open(st->path, st->cache_kib, &st->writer);
	if (ret < 0)
		return ret;
	ret = schema_check(st->writer);
	/* temp_store: the journal of a put's savepoint stays in memory (a
	 * temporary file cost a write per page touched) */
	if (ret == 0)
		ret = conn_exec(st->writer,
			       "PRAGMA journal_size_limit = " WAL_LIMIT ";"
			       "PRAGMA temp_store = MEMORY");
	if (ret == 0)
		ckpt_install(st);
	if (ret < 0) {
		conn_close(st->writer);
		st->writer = NULL;
	}
	return ret;
}

/* 0, 1 when a file that was not ours was set aside, or -errno. */
static int open_store(struct store *st)
{
	int ret = open_writer(st);

	if (ret != -EUCLEAN)
		return ret;
	ret = set_aside(st->path);
	if (ret == 0)
		ret = open_writer(st);
	return ret < 0 ? ret : 1;
}

static int cache_kib_for(size_t cache_bytes)
{
	size_t kib = cache_bytes / 1024 / (CONN_READERS + 2);

	if (!cache_bytes)
		return 0;
	if (kib < 64)
		kib = 64;
	return kib > INT32_MAX ? INT32_MAX : (int)kib;
}

static struct store *store_alloc(const char *path)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->path = strdup(path);
	if (!st->path)
		goto out_free;
	if (pthread_mutex_init(&st->write_lock, NULL) != 0)
		goto out_free;
	if (pthread_mutex_init(&st->pool_lock, NULL) != 0)
		goto out_destroy_write;
	if (pthread_cond_init(&st->pool_cond, NULL) != 0)
		goto out_destroy_pool;
	sums_init(&st->sums);
	ckpt_init(st);
	return st;

out_destroy_pool:
	pthread_mutex_destroy(&st->pool_lock);
out_destroy_write:
	pthread_mutex_destroy(&st->write_lock);
out_free:
	free(st->path);
	free(st);
	return NULL;
}

static void store_dealloc(struct store *st)
{
	sums_free(&st->sums);
	ckpt_clear(st);
	pthread_cond_destroy(&st->pool_cond);
	pthread_mutex_destroy(&st->pool_lock);
	pthread_mutex_destroy(&st->write_lock);
	free(st->path);
	free(st);
}

/*
 * Opens the store at path, creating it when missing: 0, 1 when a file that
 * was not a store of ours was moved aside to PATH.broken, or -errno.
 */
int store_open(const char *path, size_t cache_bytes, struct store **out)
{
	struct store *st;
	int ret;

	if (!path)
		return -EINVAL;
	st = store_alloc(path);
	if (!st)
		return -ENOMEM;
	st->cache_kib = cache_kib_for(cache_bytes);
	ret = open_store(st);
	if (ret < 0) {
		store_dealloc(st);
		return ret;
	}
	if (cache_bytes)
		sqlite3_soft_heap_limit64((sqlite3_int64)cache_bytes);
	*out = st;
	return ret;
}

void store_close(struct store *st)
{
	struct store_conn *c;

	if (!st)
		return;
	ckpt_stop(st);
	while (st->idle) {
		c = st->idle;
		st->idle = c->next;
		conn_close(c);
	}
	conn_close(st->writer);
	store_dealloc(st);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

/* The store's size on disk, its WAL included. */
uint64_t store_bytes(struct store *st)
{
	char *wal = g_strconcat(st->path, "-wal", NULL);
	struct stat sb;
	uint64_t n = 0;

	if (stat(st->path, &sb) == 0)
		n += (uint64_t)sb.st_size;
	if (stat(wal, &sb) == 0)
		n += (uint64_t)sb.st_size;
	g_free(wal);
	return n;
}
