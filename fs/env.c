/*
 * env.c - per-environment state shared by the filesystem's layers.
 *
 * Concurrency: the index, the sync state and the documents have locks of
 * their own (index.h, sync.h, docs.h). `lock` here protects only the small
 * bookkeeping below: call counters, the negative cache of ids the API said
 * do not exist, the last error, and the current .status.json rendering. It is
 * never held across an API call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/base/log.h"
#include "env.h"
#include "inval.h"

#define MISSING_MAX 1024

double env_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Epoch milliseconds: the times the store keeps, which other mounts read. */
int64_t env_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mkdir -p, private: the stores hold the tenant's profiles. */
static int make_dirs(const char *dir)
{
	char path[4096];
	char *p, c;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* The environment's store, CACHE_DIR/ENV.sqlite, opened or created. */
static int open_store(struct fs_env *e)
{
	const struct fs_options *o = &e->fs->opts;
	char path[4096];
	int res;

	res = make_dirs(o->cache_dir);
	if (res < 0) {
		log_error("%s: cannot create %s: %s", e->name, o->cache_dir,
			  strerror(-res));
		return res;
	}
	snprintf(path, sizeof(path), "%s/%s.sqlite", o->cache_dir, e->name);
	res = idx_open(e->name, path, o->memory_limit << 19, &e->idx);
	if (res < 0)
		log_error("%s: cannot open the store %s: %s", e->name, path,
			  strerror(-res));
	else if (res > 0)
		log_warn("%s: %s was not a usable store; it was moved to "
			 "%s.broken and is rebuilt", e->name, path, path);
	return res < 0 ? res : 0;
}

struct fs_env *env_new(struct fs *fs, const char *name)
{
	struct fs_env *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->fs = fs;
	if (open_store(e) < 0) {
		free(e);
		return NULL;
	}
	sync_init(&e->sync);
	docs_init(&e->docs);
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->fetch_lock, NULL);
	return e;
}

void env_free(struct fs_env *e)
{
	if (!e)
		return;
	sync_stop(e);
	idx_close(e->idx);
	sync_destroy(&e->sync);
	docs_destroy(&e->docs);
	blob_unref(e->status);
	free(e->counts);
	free(e->missing);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->fetch_lock);
	free(e);
}

static void count_call(struct fs_env *e, const char *endpoint, long status)
{
	struct env_count *grown;
	size_t i;

	for (i = 0; i < e->n_counts; i++) {
		if (e->counts[i].status == status &&
		    strcmp(e->counts[i].endpoint, endpoint) == 0) {
			e->counts[i].count++;
			return;
		}
	}
	grown = realloc(e->counts, (e->n_counts + 1) * sizeof(*grown));
	if (!grown)
		return;
	e->counts = grown;
	snprintf(grown[e->n_counts].endpoint, sizeof(grown->endpoint), "%s",
		 endpoint);
	grown[e->n_counts].status = status;
	grown[e->n_counts].count = 1;
	e->n_counts++;
}

/* .status.json is rendered anew on its next read, and the kernel told so. */
void env_status_changed(struct fs_env *e)
{
	pthread_mutex_lock(&e->lock);
	blob_unref(e->status);
	e->status = NULL;
	pthread_mutex_unlock(&e->lock);
	inval_post("/%s/.status.json", e->name);
}

/* Records a problem; logs it when it differs from the previous one. */
void env_note_error(struct fs_env *e, const char *fmt, ...)
{
	char text[sizeof(e->last_error)];
	bool repeated;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&e->lock);
	repeated = strcmp(text, e->last_error) == 0;
	snprintf(e->last_error, sizeof(e->last_error), "%s", text);
	pthread_mutex_unlock(&e->lock);
	env_status_changed(e);
	if (!repeated)
		log_error("%s", text);
}

int env_call(struct fs_env *e, const char *endpoint, const char *method,
	     const char *path, const char *body, struct api_reply *reply)
{
	int res = api_call(e->fs->api, e->name, method, path, body, reply);

	pthread_mutex_lock(&e->lock);
	if (reply->status)
		count_call(e, endpoint, reply->status);
	pthread_mutex_unlock(&e->lock);
	env_status_changed(e);
	/* an expired cursor is expected: the listing resumes (sync.c) */
	if (reply->status == 400 && strcmp(endpoint, "search-next") == 0)
		return res;
	if (res < 0 && res != -ENOENT) {
		if (res == -EACCES && reply->error &&
		    strstr(reply->error, "sprinklrfs auth login"))
			env_note_error(e, "%s", reply->error);
		else
			env_note_error(e, "%s: %s %s failed: %s", e->name, method,
				       endpoint, reply->error && reply->error[0] ?
				       reply->error : strerror(-res));
	}
	return res;
}

bool env_is_missing(struct fs_env *e, const char *id)
{
	double now = env_now();
	bool missing = false;
	size_t i;

	pthread_mutex_lock(&e->lock);
	for (i = 0; i < e->n_missing; i++) {
		if (strcmp(e->missing[i].id, id) == 0) {
			missing = e->missing[i].until > now;
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
	return missing;
}

/* Remembers a confirmed 404 for ttl; the oldest entry gives way when full. */
void env_set_missing(struct fs_env *e, const char *id)
{
	struct env_missing *slot = NULL;
	size_t i;

	pthread_mutex_lock(&e->lock);
	for (i = 0; i < e->n_missing && !slot; i++)
		if (strcmp(e->missing[i].id, id) == 0 ||
		    e->missing[i].until <= env_now())
			slot = &e->missing[i];
	if (!slot && e->n_missing < MISSING_MAX) {
		struct env_missing *grown = realloc(e->missing,
			(e->n_missing + 1) * sizeof(*grown));

		if (grown) {
			e->missing = grown;
			slot = &grown[e->n_missing++];
		}
	}
	if (!slot && e->n_missing > 0)
		slot = &e->missing[0];
	if (slot) {
		snprintf(slot->id, sizeof(slot->id), "%s", id);
		slot->until = env_now() + e->fs->opts.ttl;
	}
	pthread_mutex_unlock(&e->lock);
}

struct fs_env *fs_find_env(struct fs *fs, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < fs->n_envs; i++)
		if (strlen(fs->envs[i]->name) == len &&
		    memcmp(fs->envs[i]->name, name, len) == 0)
			return fs->envs[i];
	return NULL;
}
