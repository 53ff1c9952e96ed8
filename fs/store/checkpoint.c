/*
 * checkpoint.c - copying the WAL into the database on a thread of its own.
 *
 * SQLite's own autocheckpoint copies the WAL in the thread that commits,
 * after its COMMIT and with the writer still held: at a million profiles
 * a page's write took 45 ms at the median and up to 250 ms with a copy,
 * and the next pages' writes waited behind it. Here the writer's commit
 * only says that the WAL has grown past where a copy starts (an eighth of
 * the database, below), and a worker thread (auth/base/worker.h) with a
 * connection of its own copies it in rounds:
 *
 * - a passive checkpoint, beside the writes (writers and readers do not
 *   wait for it);
 * - then, with the writer taken for a moment (between two batches), a
 *   second one that copies what the batches committed meanwhile. A WAL is
 *   started again from its beginning only by a write that begins when all
 *   of it is copied; without this step every write began while the copy
 *   of the one before was still going on, and the WAL never did.
 *
 * Should the thread fall behind (a slow disk), a commit that finds the
 * WAL past four times its start waits for the round in progress to end
 * before it returns, so the WAL stays bounded. A store whose thread cannot
 * be started copies in the committing thread, as SQLite would.
 *
 * Durability is SQLite's: with synchronous = NORMAL a checkpoint syncs the
 * WAL before it copies, so a power cut loses at most the commits since the
 * last round began. The thread starts at the first copy a store needs, and
 * store_close() stops it before the other connections are closed.
 */
#include <stdbool.h>
#include <sys/stat.h>

#include <glib.h>
#include <sqlite3.h>

#include "auth/base/worker.h"
#include "fs/store/conn.h"

/*
 * Pages (of 4 KiB) the WAL grows to before it is copied: an eighth of the
 * database, from 32 MiB to 128 MiB, rather than SQLite's 4 MiB. A round
 * copies a page once however many batches wrote it, and most of a batch's
 * pages are index pages its random ids touch (at a million profiles about
 * 2,800 a batch of 1000, of some 28,000 such pages), which the next
 * batches touch again: the longer the round, the fewer copies (README,
 * "Storing a listing"). A small store keeps a small WAL.
 */
#define CKPT_SHARE 8
#define CKPT_FRAMES_MIN 8192
#define CKPT_FRAMES_MAX 32768
/* times the start: the thread has fallen behind, a commit waits */
#define CKPT_BOUND 4
/* the thread's own connection reads little: its page cache in KiB */
#define CKPT_CACHE_KIB 256

/*
 * Whether it ran. What it could not copy is copied by the next one (busy:
 * another checkpoint, of this process or another, is on it).
 */
static bool checkpoint(sqlite3 *db)
{
	return sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE,
					 NULL, NULL) == SQLITE_OK;
}

/* With k->lock held: a round is over, or there will be none. */
static void round_over(struct store_ckpt *k)
{
	k->rounds++;
	k->behind = false;
	g_cond_broadcast(&k->over);
}

/* Where the next copy starts, from the database's size in pages of 4 KiB
 * (a failed stat keeps the last). */
static void measure(struct store *st)
{
	struct store_ckpt *k = &st->ckpt;
	uint64_t frames;
	struct stat sb;

	if (stat(st->path, &sb) < 0)
		return;
	frames = (uint64_t)sb.st_size / 4096 / CKPT_SHARE;
	g_mutex_lock(&k->lock);
	k->start = (int)CLAMP(frames, CKPT_FRAMES_MIN, CKPT_FRAMES_MAX);
	g_mutex_unlock(&k->lock);
}

/* A round, on the worker's thread: k->conn is its alone. */
static void ckpt_round(void *arg)
{
	struct store *st = arg;
	struct store_ckpt *k = &st->ckpt;
	bool failed = !k->conn &&
		      conn_open(st->path, CKPT_CACHE_KIB, &k->conn) < 0;

	if (!failed && checkpoint(k->conn->db)) {
		pthread_mutex_lock(&st->write_lock);
		checkpoint(k->conn->db);
		pthread_mutex_unlock(&st->write_lock);
		measure(st);
	}
	g_mutex_lock(&k->lock);
	k->failed = k->failed || failed;
	round_over(k);
	g_mutex_unlock(&k->lock);
}

/* With k->lock held: whether the thread runs (it is started once). */
static bool ckpt_running(struct store *st)
{
	struct store_ckpt *k = &st->ckpt;

	if (!k->worker && !k->failed) {
		k->worker = worker_start("checkpoint", ckpt_round, st, 0);
		k->failed = !k->worker;
	}
	return !k->failed;
}

/* After each commit of the writer, with the writer held: frames in the WAL. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)name;	/* "main": the store attaches no other database */
	struct store *st = arg;
	struct store_ckpt *k = &st->ckpt;
	bool copy, running;

	if (frames < CKPT_FRAMES_MIN)
		return SQLITE_OK;
	g_mutex_lock(&k->lock);
	copy = frames >= k->start;
	running = copy && ckpt_running(st);
	if (running) {
		k->behind = k->behind || frames >= CKPT_BOUND * k->start;
		worker_wake(k->worker);
	}
	g_mutex_unlock(&k->lock);
	if (copy && !running)
		checkpoint(db);
	return SQLITE_OK;
}

/*
 * After a commit, with the writer let go: when the WAL has passed its
 * bound, waits for the thread's round to end (its last step copies all
 * the WAL holds), so that the next write starts it again from its
 * beginning.
 */
void ckpt_keep_up(struct store *st)
{
	struct store_ckpt *k = &st->ckpt;
	uint64_t round;

	g_mutex_lock(&k->lock);
	round = k->rounds;
	while (k->behind && k->rounds == round && !k->failed && !k->stopping)
		g_cond_wait(&k->over, &k->lock);
	g_mutex_unlock(&k->lock);
}

void ckpt_init(struct store *st)
{
	g_mutex_init(&st->ckpt.lock);
	g_cond_init(&st->ckpt.over);
	st->ckpt.start = CKPT_FRAMES_MIN;
}

/* With the writer open: its commits call wal_hook from now on. */
void ckpt_install(struct store *st)
{
	measure(st);
	sqlite3_wal_hook(st->writer->db, wal_hook, st);
}

/* Stops the thread; the store's connections may then be closed. */
void ckpt_stop(struct store *st)
{
	struct store_ckpt *k = &st->ckpt;
	struct worker *w;

	g_mutex_lock(&k->lock);
	k->stopping = true;
	g_cond_broadcast(&k->over);
	w = k->worker;
	k->worker = NULL;
	g_mutex_unlock(&k->lock);
	worker_stop(w);
	conn_close(k->conn);
	k->conn = NULL;
}

void ckpt_clear(struct store *st)
{
	g_cond_clear(&st->ckpt.over);
	g_mutex_clear(&st->ckpt.lock);
}
