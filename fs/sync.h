/*
 * sync.h - filling an environment's store from the search API (§4.3).
 *
 * A full listing follows cursors over every profile sorted by modifiedTime
 * and then drops what it did not see. It runs in a background thread and
 * commits page by page, with its progress, into the store: a crash or an
 * unmount loses at most the page in flight, and the next mount (of this or
 * any process) resumes it. With -o partitions=K it splits the modifiedTime
 * range and follows K cursors at once. An incremental sync asks only for
 * modifiedTime >= the newest seen, in the reader's thread, single-flight.
 *
 * sync_profiles() decides what is due: a full listing when the store has
 * none complete, when full_sync has elapsed or one was asked for; else an
 * incremental one after ttl. Before the first complete listing, a reader
 * waits for it at most read_timeout and then sees what is synced so far.
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
	SYNC_COMPLETE,		/* nothing, or the first full listing's end */
};

struct sync_state {
	pthread_mutex_t lock;
	pthread_cond_t done;
	/* the background full listing */
	pthread_t full_thread;		/* protected by lock */
	bool full_running;		/* protected by lock */
	bool full_joinable;		/* protected by lock */
	bool want_full;			/* protected by lock */
	bool stop;			/* protected by lock: unmounting */
	unsigned long full_runs;	/* protected by lock */
	int full_result;		/* protected by lock */
	double full_started_mono;	/* protected by lock */
	int64_t full_asked_ms;		/* protected by lock: epoch ms */
	unsigned long full_calls;	/* protected by lock: this listing's */
	/* incremental syncs */
	bool inc_running;		/* protected by lock */
	unsigned long inc_runs;		/* protected by lock */
	int inc_result;			/* protected by lock */
	double last_sync;		/* protected by lock (monotonic s) */
	time_t last_sync_wall;		/* protected by lock */
	bool synced;			/* protected by lock: one sync done */
	bool stale;			/* protected by lock: the last one failed */
	/* mirrored from the store by sync_reload */
	int64_t newest_ms;		/* protected by lock */
	time_t last_full_wall;		/* protected by lock: 0 = none */
	int64_t pass;			/* protected by lock: unfinished, or 0 */
	double fraction;		/* protected by lock: of that listing */
	double reloaded;		/* protected by lock (monotonic s) */
};

struct sync_info {
	const char *state;	/* never, listing, complete, stale, failed */
	time_t last_sync;
	time_t last_full;
	int64_t newest_ms;
	bool listing;		/* a full listing is running or unfinished */
	double fraction;	/* its progress, 0..1 */
	unsigned long calls;	/* calls it made in this process */
	double seconds_left;	/* estimated; < 0 when unknown */
};

void sync_init(struct sync_state *s);
void sync_stop(struct fs_env *e);
void sync_destroy(struct sync_state *s);
int sync_profiles(struct fs_env *e, enum sync_mode mode);
int sync_fetch_profile(struct fs_env *e, const char *id);
int sync_fetch_channel(struct fs_env *e, const char *type,
		       const char *channel_id);
void sync_info(struct fs_env *e, struct sync_info *info);
bool sync_complete(struct fs_env *e);

#endif
