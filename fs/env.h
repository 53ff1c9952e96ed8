/*
 * env.h - one mounted environment: its index, sync state, cached documents,
 * API call counters and last error; and the mount that holds them.
 *
 * Every request of the filesystem goes through env_call(), which counts it by
 * endpoint and status (for .status.json) and logs a failure once when it
 * differs from the previous one.
 */
#ifndef SPRINKLRFS_ENV_H
#define SPRINKLRFS_ENV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/api/api.h"
#include "auth/net/endpoint.h"
#include "blob.h"
#include "docs.h"
#include "index.h"
#include "options.h"
#include "sync.h"

struct fuse_session;

struct env_count {
	char endpoint[32];
	long status;
	unsigned long count;
};

struct env_missing {
	char id[IDX_ID_MAX + 1];
	double until;		/* monotonic seconds */
};

struct fs_env {
	char name[EP_ENV_MAX + 1];
	struct fs *fs;
	struct idx *idx;
	struct sync_state sync;
	struct docs docs;
	pthread_mutex_t lock;
	struct env_count *counts;	/* protected by lock */
	size_t n_counts;		/* protected by lock */
	struct env_missing *missing;	/* protected by lock */
	size_t n_missing;		/* protected by lock */
	char last_error[256];		/* protected by lock */
	struct blob *status;		/* protected by lock */
	double status_at;		/* protected by lock */
	pthread_mutex_t fetch_lock;	/* one single-profile fetch at a time */
};

struct fs {
	struct fs_options opts;
	const char *mountpoint;		/* absolute */
	struct fuse_session *se;
	struct api *api;
	struct fs_env **envs;
	size_t n_envs;
};

double env_now(void);
int64_t env_wall_ms(void);
struct fs_env *env_new(struct fs *fs, const char *name);
void env_free(struct fs_env *e);
int env_call(struct fs_env *e, const char *endpoint, const char *method,
	     const char *path, const char *body, struct api_reply *reply);
void env_status_changed(struct fs_env *e);
void env_note_error(struct fs_env *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool env_is_missing(struct fs_env *e, const char *id);
void env_set_missing(struct fs_env *e, const char *id);
struct fs_env *fs_find_env(struct fs *fs, const char *name, size_t len);

#endif
