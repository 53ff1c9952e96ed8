/*
 * harness.c - the per-process store of a fuzz target (harness.h).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define CACHE_BYTES (16u << 20)

static struct store *store;
static char db_dir[256];
static char db_path[300];

static void unlink_suffixed(const char *suffix)
{
	char name[320];

	snprintf(name, sizeof(name), "%s%s", db_path, suffix);
	unlink(name);
}

static void remove_files(void)
{
	unlink_suffixed("");
	unlink_suffixed("-wal");
	unlink_suffixed("-shm");
	unlink_suffixed("-journal");
	rmdir(db_dir);
}

static void db_remove(void)
{
	store_close(store);
	store = NULL;
	remove_files();
}

/* A crash exits without atexit: removes what dead processes left in parent. */
static void remove_stale(const char *parent, const char *prefix)
{
	DIR *dir = opendir(parent);
	struct dirent *d;
	char *end;
	long pid;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, prefix, strlen(prefix)) != 0)
			continue;
		pid = strtol(d->d_name + strlen(prefix), &end, 10);
		if (*end != '.' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(db_dir, sizeof(db_dir), "%s/%s", parent,
			 d->d_name);
		snprintf(db_path, sizeof(db_path), "%s/prod2.sqlite",
			 db_dir);
		remove_files();
	}
	closedir(dir);
}

/* PARENT/TARGET.PID.XXXXXX: the PID tells whose it is. */
static bool make_dir(const char *parent, const char *target)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%s.", target);
	remove_stale(parent, prefix);
	snprintf(db_dir, sizeof(db_dir), "%s/%s%ld.XXXXXX", parent,
		 prefix, (long)getpid());
	return mkdtemp(db_dir) != NULL;
}

struct store *fuzz_store_open(const char *target)
{
	int ret;

	if (!make_dir("/dev/shm", target) && !make_dir("/tmp", target)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(db_path, sizeof(db_path), "%s/prod2.sqlite", db_dir);
	ret = store_open(db_path, CACHE_BYTES, &store);
	if (ret < 0) {
		fprintf(stderr, "%s: store_open %s: %d\n", target, db_path,
			ret);
		remove_files();
		abort();
	}
	atexit(db_remove);
	return store;
}
