/*
 * upkeep.c - the once-a-second worker (see upkeep.h).
 *
 * Concurrency: everything here but the SIGHUP flag is the worker's own,
 * set before it starts and read only by it.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/base/log.h"
#include "auth/base/worker.h"
#include "fs/fuse/inodes.h"
#include "fs/fuse/upkeep.h"

#define TICK_S 1.0
/* What an inode costs the daemon, about: the record, its name, malloc's
 * overhead and its share of the table. */
#define INODE_BYTES 192

static volatile sig_atomic_t hup_pending;
/* the worker a SIGHUP wakes: set while it runs */
static struct worker *volatile hup_worker;

struct upkeep {
	struct fuse_session *se;
	struct view *view;
	const char *mountpoint;
	long limit;		/* bytes: memory_limit */
	long threshold;		/* bytes: forget the kernel's entries above */
	bool trim;		/* entries were forgotten on the last tick */
	bool forgot;		/* entries were forgotten once */
	size_t inodes;		/* inodes held after that */
	struct worker *worker;
};

static struct upkeep upkeep;

static void on_sighup(int sig)
{
	(void)sig;
	hup_pending = 1;
	worker_wake(hup_worker);
}

int upkeep_install_sighup(void)
{
	struct sigaction sa = { .sa_handler = on_sighup };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGHUP, &sa, NULL) == 0 ? 0 : -errno;
}

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

/*
 * A process whose working directory is below (rsync's is the environment)
 * keeps a directory's dentry after it was invalidated, unhashed, and goes on
 * caching beneath it: the notification then finds no entry. A lookup by path
 * hashes that dentry again (the kernel moves a directory's only alias), and
 * a second notification reaches what is beneath.
 *
 * That lookup is the daemon's own request on its mount, and an unmount
 * while it lasts fails with EBUSY: it is made only while the kernel still
 * holds inodes beneath (a process sitting there keeps the mount busy
 * anyway). A directory never looked up finds no entry either, and has
 * nothing beneath.
 */
static void forget_dir(struct upkeep *u, const char *env, const char *dir)
{
	const char *names[] = { env, NULL }, *below[] = { env, dir, NULL };
	fuse_ino_t parent, nodeid;
	struct stat st;
	bool snapshot;
	char *path;

	nodeid = ino_walk(names, &parent, &snapshot);
	if (!nodeid ||
	    fuse_lowlevel_notify_inval_entry(u->se, nodeid, dir,
					     strlen(dir)) != -ENOENT ||
	    !u->mountpoint || ino_children_at(below) == 0)
		return;
	path = g_build_filename(u->mountpoint, env, dir, NULL);
	if (lstat(path, &st) == 0)
		fuse_lowlevel_notify_inval_entry(u->se, nodeid, dir,
						 strlen(dir));
	g_free(path);
}

/* Profiles have no inodes in memory (inodes.h): their pages stay. */
static void forget_entries(struct upkeep *u)
{
	size_t i;

	for (i = 0; i < view_env_count(u->view); i++) {
		forget_dir(u, view_env_at(u->view, i)->name, TREE_CHANNELS);
		forget_dir(u, view_env_at(u->view, i)->name, TREE_LISTS);
	}
}

static void keep_memory(struct upkeep *u)
{
	long rss = resident_bytes();

	if (rss < 0)
		return;
	if (u->trim) {
		/* the kernel's forgets have freed the inodes by now */
		malloc_trim(0);
		rss = resident_bytes();
		u->trim = false;
		u->threshold = rss + u->limit / 8;
		if (u->threshold < u->limit / 4 * 3)
			u->threshold = u->limit / 4 * 3;
		u->forgot = true;
		u->inodes = ino_count();
		log_debug("memory: %ld MiB resident after the kernel forgot "
			  "its entries (%zu inodes left)", rss >> 20,
			  ino_count());
		return;
	}
	if (rss <= u->threshold)
		return;
	/* A forget frees inodes only: once done, it is not worth the kernel
	 * looking everything up again until they are a part of the excess
	 * (profiles and links have none: inodes.h). */
	if (u->forgot && ino_count() < u->inodes + (size_t)(u->limit / 8) /
					      INODE_BYTES)
		return;
	log_debug("memory: %ld MiB resident, over %ld MiB: the kernel is told "
		  "to forget its entries (%zu inodes)", rss >> 20,
		  u->threshold >> 20, ino_count());
	forget_entries(u);
	u->trim = true;
}

static void full_syncs(struct upkeep *u)
{
	size_t i;

	log_info("SIGHUP: full sync of every environment");
	for (i = 0; i < view_env_count(u->view); i++)
		sync_start_full(view_env_at(u->view, i)->sync);
}

static void tick(void *arg)
{
	struct upkeep *u = arg;

	keep_memory(u);
	if (hup_pending) {
		hup_pending = 0;
		full_syncs(u);
	}
}

int upkeep_start(struct fuse_session *se, struct view *view,
		 const char *mountpoint, unsigned long memory_limit)
{
	upkeep.se = se;
	upkeep.view = view;
	upkeep.mountpoint = mountpoint;
	upkeep.limit = (long)memory_limit << 20;
	upkeep.threshold = upkeep.limit / 4 * 3;
	upkeep.worker = worker_start("upkeep", tick, &upkeep, TICK_S);
	hup_worker = upkeep.worker;
	return upkeep.worker ? 0 : -1;
}

/* From now on a SIGHUP is ignored: the worker it would wake goes. */
void upkeep_stop(void)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN };

	sigemptyset(&ignore.sa_mask);
	sigaction(SIGHUP, &ignore, NULL);
	hup_worker = NULL;
	worker_stop(upkeep.worker);
	upkeep.worker = NULL;
}
