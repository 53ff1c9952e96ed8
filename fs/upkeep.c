/*
 * upkeep.c - the once-a-second thread (see upkeep.h).
 *
 * Concurrency: `lock` guards `running`; the thread sleeps on `wake` so that
 * upkeep_stop() ends it at once. Everything else is the thread's own.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "auth/base/log.h"
#include "env.h"
#include "inodes.h"
#include "upkeep.h"

#define TICK_S 1

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static bool running;		/* protected by lock */
static pthread_t worker;
static struct fuse_session *target;
static struct fs *target_fs;

static long resident_bytes(void)
{
	long pages = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%*d %ld", &pages) != 1)
		pages = -1;
	fclose(f);
	return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

struct memory {
	long limit;		/* bytes: memory_limit */
	long threshold;		/* bytes: forget the kernel's entries above */
	bool trim;		/* entries were forgotten on the last tick */
};

/*
 * A process whose working directory is below (rsync's is the environment)
 * keeps a directory's dentry after it was invalidated, unhashed, and goes on
 * caching beneath it: the notification then finds no entry. A lookup by path
 * hashes that dentry again (the kernel moves a directory's only alias), and
 * a second notification reaches what is beneath.
 */
static void forget_dir(struct fs *fs, struct fuse_session *se,
		       const char *env, const char *dir)
{
	char path[4096];
	fuse_ino_t parent, nodeid;
	bool snapshot;
	struct stat st;

	snprintf(path, sizeof(path), "/%s", env);
	nodeid = ino_find_path(path, &parent, &snapshot);
	if (!nodeid ||
	    fuse_lowlevel_notify_inval_entry(se, nodeid, dir,
					     strlen(dir)) != -ENOENT ||
	    !fs->mountpoint)
		return;
	snprintf(path, sizeof(path), "%s/%s/%s", fs->mountpoint, env, dir);
	if (lstat(path, &st) == 0)
		fuse_lowlevel_notify_inval_entry(se, nodeid, dir, strlen(dir));
}

/* Profiles have no inodes in memory (inodes.h): their pages stay. */
static void forget_entries(struct fs *fs)
{
	size_t i;

	for (i = 0; i < fs->n_envs; i++) {
		forget_dir(fs, target, fs->envs[i]->name, "channels");
		forget_dir(fs, target, fs->envs[i]->name, "lists");
	}
}

static void keep_memory(struct fs *fs, struct memory *m)
{
	long rss = resident_bytes();

	if (rss < 0)
		return;
	if (m->trim) {
		/* the kernel's forgets have freed the inodes by now */
		malloc_trim(0);
		rss = resident_bytes();
		m->trim = false;
		m->threshold = rss + m->limit / 8;
		if (m->threshold < m->limit / 4 * 3)
			m->threshold = m->limit / 4 * 3;
		log_debug("memory: %ld MiB resident after the kernel forgot "
			  "its entries (%zu inodes left)", rss >> 20,
			  ino_count());
		return;
	}
	if (rss <= m->threshold)
		return;
	log_debug("memory: %ld MiB resident, over %ld MiB: the kernel is told "
		  "to forget its entries (%zu inodes)", rss >> 20,
		  m->threshold >> 20, ino_count());
	forget_entries(fs);
	m->trim = true;
}

static void *tick(void *arg)
{
	struct fs *fs = target_fs;
	struct memory m = { .limit = (long)fs->opts.memory_limit << 20 };
	struct timespec until;

	(void)arg;
	m.threshold = m.limit / 4 * 3;
	pthread_mutex_lock(&lock);
	while (running) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += TICK_S;
		pthread_cond_timedwait(&wake, &lock, &until);
		if (!running)
			break;
		pthread_mutex_unlock(&lock);
		keep_memory(fs, &m);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int upkeep_start(struct fuse_session *se, struct fs *fs)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &attr);
	pthread_condattr_destroy(&attr);
	target = se;
	target_fs = fs;
	running = true;
	if (pthread_create(&worker, NULL, tick, NULL) != 0) {
		running = false;
		pthread_cond_destroy(&wake);
		return -1;
	}
	return 0;
}

void upkeep_stop(void)
{
	pthread_mutex_lock(&lock);
	if (!running) {
		pthread_mutex_unlock(&lock);
		return;
	}
	running = false;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(worker, NULL);
	pthread_cond_destroy(&wake);
}
