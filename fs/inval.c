/*
 * inval.c - a queue of paths to invalidate and the thread that sends them.
 *
 * Concurrency: `lock` protects the queue (a small set of distinct paths) and
 * the running flag; the worker takes the whole queue under the lock and
 * notifies the kernel without it. Posting never blocks on the kernel.
 * Before inval_start() (and after inval_stop()) posts are dropped.
 *
 * A file whose bytes are a snapshot loses its name (the next lookup makes
 * the new snapshot, and the old one is forgotten once no reader has it
 * open); so does a profile, which has no inode in memory to find by path
 * (a reader that has it open keeps its pages; the next lookup gives the
 * kernel the new size and time, and the kernel then drops them). Anything
 * else loses its attributes and pages.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inodes.h"
#include "inval.h"

#define QUEUE_MAX 4096
#define PATH_MAX_LEN 512

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static char **queue;		/* protected by lock */
static size_t queued;		/* protected by lock */
static bool running;		/* protected by lock */
static pthread_t worker;
static struct fuse_session *target;

static void invalidate(const char *path)
{
	const char *name = strrchr(path, '/') + 1;
	fuse_ino_t parent, nodeid;
	bool snapshot;

	nodeid = ino_find_path(path, &parent, &snapshot);
	if ((snapshot || !nodeid) && parent)
		fuse_lowlevel_notify_inval_entry(target, parent, name,
						 strlen(name));
	else if (nodeid)
		fuse_lowlevel_notify_inval_inode(target, nodeid, 0, 0);
}

static void *invalidate_all(void *arg)
{
	char **batch;
	size_t n, i;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (running) {
		if (queued == 0) {
			pthread_cond_wait(&wake, &lock);
			continue;
		}
		batch = queue;
		n = queued;
		queue = calloc(QUEUE_MAX, sizeof(*queue));
		queued = 0;
		pthread_mutex_unlock(&lock);
		for (i = 0; i < n; i++) {
			invalidate(batch[i]);
			free(batch[i]);
		}
		free(batch);
		pthread_mutex_lock(&lock);
		if (!queue)
			running = false;
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int inval_start(struct fuse_session *se)
{
	queue = calloc(QUEUE_MAX, sizeof(*queue));
	if (!queue)
		return -1;
	target = se;
	running = true;
	if (pthread_create(&worker, NULL, invalidate_all, NULL) != 0) {
		running = false;
		free(queue);
		queue = NULL;
		return -1;
	}
	return 0;
}

void inval_stop(void)
{
	size_t i;

	pthread_mutex_lock(&lock);
	if (!queue && !running) {
		pthread_mutex_unlock(&lock);
		return;
	}
	running = false;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(worker, NULL);
	for (i = 0; i < queued; i++)
		free(queue[i]);
	free(queue);
	queue = NULL;
	queued = 0;
}

static bool already_queued(const char *path)
{
	size_t i;

	for (i = 0; i < queued; i++)
		if (strcmp(queue[i], path) == 0)
			return true;
	return false;
}

void inval_post(const char *fmt, ...)
{
	char path[PATH_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lock);
	if (running && queue && queued < QUEUE_MAX && !already_queued(path)) {
		queue[queued] = strdup(path);
		if (queue[queued])
			queued++;
		pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
}
