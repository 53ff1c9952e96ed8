/*
 * env.h - the mounted environments and what each one has: its store, its
 * counted calls, its sync engine, its documents, its single fetches, and
 * the last rendering of its .status.json with when its bytes last changed. The environments are added
 * before the first request and stay until the view is freed.
 */
#ifndef SPRINKLRFS_FS_VIEW_ENV_H
#define SPRINKLRFS_FS_VIEW_ENV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "auth/net/endpoint.h"
#include "auth/api/api.h"
#include "fs/store/store.h"
#include "fs/sync/docs.h"
#include "fs/sync/fetch.h"
#include "fs/sync/hooks.h"
#include "fs/sync/remote.h"
#include "fs/sync/sync.h"

struct view_config {
	const char *cache_dir;		/* absolute; one store per environment */
	unsigned long memory_limit;	/* MiB: half for the stores' caches */
	uid_t uid;			/* of every file */
	gid_t gid;
	mode_t umask;
	struct sync_config sync;
};

struct view;

struct view_env {
	char name[EP_ENV_MAX + 1];
	size_t index;			/* in the view, from 0 */
	struct view *view;
	struct store *store;
	struct remote *remote;
	struct sync *sync;
	struct docs *docs;
	struct fetch *fetch;
	pthread_mutex_t lock;
	GBytes *status;			/* protected by lock: .status.json */
	int64_t status_mtime_ms;	/* protected by lock: its bytes' */
	double status_at;		/* protected by lock (monotonic s) */
	bool status_stale;		/* protected by lock: moved on since */
};

struct view {
	struct view_config cfg;
	struct api *api;
	struct sync_hooks upper;	/* the layer above's */
	struct sync_hooks hooks;	/* what the sync layer calls */
	GPtrArray *envs;		/* struct view_env */
	int64_t started_ms;		/* the mount's start: the root's times */
};

struct view *view_new(const struct view_config *cfg, struct api *api,
		      const struct sync_hooks *hooks);
int view_add_env(struct view *v, const char *name);
void view_free(struct view *v);
struct view_env *view_find_env(const struct view *v, const char *name,
			       size_t len);
int view_sync_env(struct view_env *e, enum sync_mode mode, size_t *profiles);
size_t view_env_count(const struct view *v);
struct view_env *view_env_at(const struct view *v, size_t i);

#endif
