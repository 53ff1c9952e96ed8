/*
 * index_db.h - private to index*.c and lines.c: the index's
 * connections, their cached statements and the schema's names.
 *
 * idx_stmt() hands out the prepared statement for an SQL text (a string
 * constant: the cache is keyed by its address), from the connection's cache
 * when that entry is free, else freshly prepared; idx_stmt_done() resets it
 * back into the cache or finalizes it. idx_read_acquire() gives the
 * connection a reading call uses (see the essay in index.c) and
 * idx_read_release() gives it back. idx_holds_writer() says whether the
 * calling thread holds the index's writer (a batch, or a write in progress).
 */
#ifndef SPRINKLRFS_INDEX_DB_H
#define SPRINKLRFS_INDEX_DB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "index.h"

#define IDX_STMT_CACHE 24

struct idx_cached_stmt {
	const char *sql;
	sqlite3_stmt *stmt;
	bool used;
};

/* Used by one thread at a time: whoever acquired it. */
struct idx_conn {
	sqlite3 *db;
	struct idx_cached_stmt cache[IDX_STMT_CACHE];
	int n_cached;
	struct idx_conn *next;		/* in idx->idle */
};

struct idx {
	char *env;
	char *path;
	int cache_kib;			/* page cache per connection; 0: default */
	pthread_mutex_t write_lock;	/* held from BEGIN to COMMIT */
	struct idx_conn *writer;	/* protected by write_lock */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	struct idx_conn *idle;		/* protected by pool_lock */
	int n_readers;			/* protected by pool_lock; open ones */
};

int idx_sqlite_errno(int rc);
int idx_conn_open(const char *path, int cache_kib, struct idx_conn **out);
void idx_conn_close(struct idx_conn *c);
int idx_exec(struct idx_conn *c, const char *sql);
int idx_stmt(struct idx_conn *c, const char *sql, sqlite3_stmt **out);
void idx_stmt_done(struct idx_conn *c, sqlite3_stmt *stmt);
int idx_step_row(sqlite3_stmt *stmt);

bool idx_holds_writer(const struct idx *idx);
struct idx_conn *idx_read_acquire(struct idx *idx);
void idx_read_release(struct idx *idx, struct idx_conn *c);
/* Runs sql on a reader, ?1 bound to text (or, when NULL, to number), and
 * hands its first row to take(); -ENOENT when there is none. */
int idx_read_row(struct idx *idx, const char *sql, const char *text,
		 int64_t number, void (*take)(sqlite3_stmt *stmt, void *arg),
		 void *arg);

#endif
