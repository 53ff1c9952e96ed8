/*
 * sync.h - filling an environment's index from the search API (§4.3).
 *
 * A full listing follows cursors over every profile sorted by modifiedTime
 * and then drops what it did not see; an incremental sync asks only for
 * modifiedTime >= the newest seen. sync_profiles() decides what is due (no
 * listing yet, full_sync elapsed or requested, ttl elapsed) and is
 * single-flight: concurrent callers wait for the running sync and share its
 * outcome.
 */
#ifndef SPRINKLRFS_SYNC_H
#define SPRINKLRFS_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct fs_env;

enum sync_mode {
	SYNC_IF_DUE,		/* whatever is due, else nothing */
	SYNC_NOW,		/* an incremental sync now (full if none yet) */
	SYNC_FULL,		/* a full listing now */
};

struct sync_state {
	pthread_mutex_t lock;
	pthread_cond_t done;
	bool running;		/* protected by lock */
	bool complete;		/* protected by lock: a full listing finished */
	bool want_full;		/* protected by lock */
	bool stale;		/* protected by lock: the last sync failed */
	uint64_t pass;		/* protected by lock */
	int64_t newest_ms;	/* protected by lock */
	double last_sync;	/* protected by lock (monotonic s) */
	double last_full;	/* protected by lock (monotonic s) */
	time_t last_sync_wall;	/* protected by lock */
	time_t last_full_wall;	/* protected by lock */
	unsigned long runs;	/* protected by lock */
	int last_result;	/* protected by lock */
};

struct sync_info {
	const char *state;	/* never, listing, complete, stale */
	time_t last_sync;
	time_t last_full;
	int64_t newest_ms;
};

void sync_init(struct sync_state *s);
void sync_destroy(struct sync_state *s);
int sync_profiles(struct fs_env *e, enum sync_mode mode);
int sync_fetch_profile(struct fs_env *e, const char *id);
int sync_fetch_channel(struct fs_env *e, const char *type,
		       const char *channel_id);
void sync_request_full(struct fs_env *e);
void sync_info(struct fs_env *e, struct sync_info *info);

#endif
