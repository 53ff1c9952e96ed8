/*
 * conn.h - private to the store: its connections, their cached
 * statements, and the struct store they belong to.
 *
 * conn_stmt() hands out the prepared statement for an SQL text (a string
 * constant: the cache is keyed by its address), from the connection's cache
 * when that entry is free, else freshly prepared; conn_stmt_done() resets it
 * back into the cache or finalizes it. conn_read_acquire() gives the
 * connection a reading call uses (see the essay in conn.c) and
 * conn_read_release() gives it back. conn_holds_writer() says whether the
 * calling thread holds the store's writer (a batch, or a write in progress);
 * conn_set_batch() says which store's writer it holds from now on (NULL:
 * none).
 */
#ifndef SPRINKLRFS_FS_STORE_CONN_H
#define SPRINKLRFS_FS_STORE_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <sqlite3.h>

#include "auth/base/worker.h"

#define CONN_STMT_CACHE 32
#define CONN_READERS 4

struct conn_cached_stmt {
	const char *sql;
	sqlite3_stmt *stmt;
	bool used;
};

/* Used by one thread at a time: whoever acquired it. */
struct store_conn {
	sqlite3 *db;
	struct conn_cached_stmt cache[CONN_STMT_CACHE];
	int n_cached;
	struct store_conn *next;	/* in st->idle */
};

/*
 * What a batch's writes add to the total row and to the count of profiles
 * per custom field (the field table), kept here and written once, at the
 * batch's commit: a trigger per row cost a third of a listing's writing.
 */
struct store_sums {
	int64_t profiles, ndjson, csv;
	GHashTable *fields;	/* space -> (key -> int64_t *, the change) */
};

/* The checkpoints' thread (checkpoint.c). */
struct store_ckpt {
	GMutex lock;
	GCond over;		/* a round over, failed or stopping */
	bool behind;		/* protected by lock; past its bound */
	bool stopping;		/* protected by lock */
	bool failed;		/* protected by lock; no thread: the writer
				   copies */
	uint64_t rounds;	/* protected by lock; rounds over */
	int start;		/* protected by lock; frames a copy starts at */
	struct worker *worker;	/* protected by lock; NULL until needed */
	struct store_conn *conn;	/* the worker's own */
};

struct store {
	char *path;
	int cache_kib;			/* page cache per connection; 0: default */
	pthread_mutex_t write_lock;	/* held from BEGIN to COMMIT */
	struct store_conn *writer;	/* protected by write_lock */
	bool spoiled;			/* protected by write_lock; the batch
					   holds a put half done: roll back */
	struct store_sums sums;		/* protected by write_lock */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	struct store_conn *idle;	/* protected by pool_lock */
	int n_readers;			/* protected by pool_lock; open ones */
	struct store_ckpt ckpt;
};

int conn_errno(int rc);
int conn_open(const char *path, int cache_kib, struct store_conn **out);
void conn_close(struct store_conn *c);
int conn_exec(struct store_conn *c, const char *sql);
int conn_stmt(struct store_conn *c, const char *sql, sqlite3_stmt **out);
void conn_stmt_done(struct store_conn *c, sqlite3_stmt *stmt);
int conn_step(sqlite3_stmt *stmt);

bool conn_holds_writer(const struct store *st);
bool conn_holds_any_writer(void);
void conn_set_batch(struct store *st);
struct store_conn *conn_read_acquire(struct store *st);
void conn_read_release(struct store *st, struct store_conn *c);
/* Runs sql on a reader, ?1 (if it has one) bound to text (or, when NULL,
 * to number), and hands its first row to take(); -ENOENT when there is
 * none. */
int conn_read_row(struct store *st, const char *sql, const char *text,
		  int64_t number, void (*take)(sqlite3_stmt *stmt, void *arg),
		  void *arg);

void ckpt_init(struct store *st);
void ckpt_install(struct store *st);
void ckpt_keep_up(struct store *st);
void ckpt_stop(struct store *st);
void ckpt_clear(struct store *st);

void sums_init(struct store_sums *s);
void sums_clear(struct store_sums *s);
void sums_free(struct store_sums *s);
/* write.c, for the schema's upgrade: every stored profile's cells for
 * profiles.csv and their sums, in the transaction in progress. */
int write_fill_csv(struct store_conn *c);

#endif
