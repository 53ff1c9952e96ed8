/*
 * inval.c - a queue of entries to invalidate and the worker that sends
 * them.
 *
 * Concurrency: `lock` protects the queue (distinct requests, at most
 * QUEUE_MAX) and `worker`; the worker takes the whole queue under the lock
 * and notifies the kernel without it. Posting never blocks on the kernel.
 *
 * A file whose bytes are a snapshot loses its name (the next lookup makes
 * the new snapshot, and the old one is forgotten once no reader has it
 * open); so does a profile, which has no inode in memory (a reader that
 * has it open keeps its pages; the next lookup gives the kernel the new
 * size and time, and the kernel then drops them). A directory loses its
 * attributes and pages.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "auth/base/worker.h"
#include "fs/fuse/inodes.h"
#include "fs/fuse/inval.h"

#define QUEUE_MAX 4096

/* ENV[/DIR][/NAME]: what to invalidate. */
struct request {
	char *env;
	const char *dir;	/* a constant, or NULL */
	char *name;		/* or NULL */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *queue;	/* protected by lock */
static GHashTable *queued;	/* protected by lock: their keys */
static struct worker *worker;	/* protected by lock */
static struct fuse_session *target;
static uint64_t changes;	/* atomic */

static void request_free(gpointer p)
{
	struct request *r = p;

	g_free(r->env);
	g_free(r->name);
	g_free(r);
}

static void invalidate(const struct request *r)
{
	const char *names[4], *last;
	fuse_ino_t parent, nodeid;
	size_t n = 0;
	bool snapshot;

	names[n++] = r->env;
	if (r->dir)
		names[n++] = r->dir;
	if (r->name)
		names[n++] = r->name;
	names[n] = NULL;
	last = names[n - 1];
	nodeid = ino_walk(names, &parent, &snapshot);
	if ((snapshot || !nodeid) && parent)
		fuse_lowlevel_notify_inval_entry(target, parent, last,
						 strlen(last));
	else if (nodeid)
		fuse_lowlevel_notify_inval_inode(target, nodeid, 0, 0);
}

static void run(void *arg)
{
	GPtrArray *batch;
	guint i;

	(void)arg;
	pthread_mutex_lock(&lock);
	batch = queue;
	queue = g_ptr_array_new_with_free_func(request_free);
	g_hash_table_remove_all(queued);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < batch->len; i++)
		invalidate(g_ptr_array_index(batch, i));
	g_ptr_array_unref(batch);
}

int inval_start(struct fuse_session *se)
{
	target = se;
	pthread_mutex_lock(&lock);
	queue = g_ptr_array_new_with_free_func(request_free);
	queued = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	worker = worker_start("inval", run, NULL, 0);
	pthread_mutex_unlock(&lock);
	return worker ? 0 : -1;
}

void inval_stop(void)
{
	struct worker *w;

	pthread_mutex_lock(&lock);
	w = worker;
	worker = NULL;
	pthread_mutex_unlock(&lock);
	worker_stop(w);
	pthread_mutex_lock(&lock);
	if (queue)
		g_ptr_array_unref(queue);
	if (queued)
		g_hash_table_unref(queued);
	queue = NULL;
	queued = NULL;
	pthread_mutex_unlock(&lock);
}

static void post(const char *env, const char *dir, const char *name)
{
	char *key = g_strjoin("/", env, dir ? dir : "", name ? name : "",
			      NULL);
	struct request *r;

	pthread_mutex_lock(&lock);
	if (worker && queue->len < QUEUE_MAX &&
	    !g_hash_table_contains(queued, key)) {
		r = g_new0(struct request, 1);
		r->env = g_strdup(env);
		r->dir = dir;
		r->name = g_strdup(name);
		g_ptr_array_add(queue, r);
		g_hash_table_add(queued, key);
		key = NULL;
		worker_wake(worker);
	}
	pthread_mutex_unlock(&lock);
	g_free(key);
}

/* A profile changed or went: its entry, and profiles.ndjson and
 * profiles.csv, whose snapshots hold a read transaction that keeps the
 * store's WAL from being reset: they are let go at the first change (a
 * reader that has one open keeps it). A list's exports are let go at their
 * next lookup, or when the kernel forgets them. */
static void profile_changed(void *arg, const char *env, const char *id)
{
	char *name = tree_file_name(id);

	(void)arg;
	__atomic_add_fetch(&changes, 1, __ATOMIC_SEQ_CST);
	post(env, TREE_PROFILES, name);
	post(env, NULL, TREE_NDJSON);
	post(env, NULL, TREE_CSV);
	g_free(name);
}

static void profiles_changed(void *arg, const char *env)
{
	(void)arg;
	__atomic_add_fetch(&changes, 1, __ATOMIC_SEQ_CST);
	post(env, NULL, NULL);
	post(env, NULL, TREE_PROFILES);
	post(env, NULL, TREE_NDJSON);
	post(env, NULL, TREE_CSV);
}

static void status_changed(void *arg, const char *env)
{
	(void)arg;
	post(env, NULL, TREE_STATUS);
}

/* me.json, workspaces.json and custom-fields.json; a list.json shows its
 * new bytes after ttl, when the kernel looks it up again by itself. */
static void documents_changed(void *arg, const char *env)
{
	int kind;

	(void)arg;
	for (kind = 0; kind < DOC_COUNT; kind++)
		if (tree_doc_names[kind])
			post(env, NULL, tree_doc_names[kind]);
	post(env, NULL, TREE_CSV);	/* its header is custom-fields.json's */
}

uint64_t inval_changes(void)
{
	return __atomic_load_n(&changes, __ATOMIC_SEQ_CST);
}

void inval_hooks(struct sync_hooks *hooks)
{
	hooks->profile_changed = profile_changed;
	hooks->profiles_changed = profiles_changed;
	hooks->status_changed = status_changed;
	hooks->documents_changed = documents_changed;
}
