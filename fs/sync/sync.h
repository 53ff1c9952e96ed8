/*
 * sync.h - filling an environment's store from the search API (§4.3).
 *
 * A full listing follows cursors over every profile sorted by modifiedTime
 * and then drops what it did not see. It runs in a background thread and
 * commits page by page, with its progress, into the store: a crash or an
 * unmount loses at most the page in flight, and the next mount (of this or
 * any process) resumes it. With partitions it splits the modifiedTime
 * range and follows several cursors at once. An incremental sync asks only
 * for modifiedTime >= the newest seen, in the reader's thread,
 * single-flight.
 *
 * sync_profiles() decides what is due: a full listing when the store has
 * none complete, when full_sync has elapsed or one was asked for; else an
 * incremental one after ttl. Before the first complete listing, a reader
 * waits for it at most read_timeout and then sees what is synced so far.
 */
#ifndef SPRINKLRFS_FS_SYNC_SYNC_H
#define SPRINKLRFS_FS_SYNC_SYNC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fs/store/store.h"
#include "fs/sync/hooks.h"
#include "fs/sync/remote.h"

enum sync_mode {
	SYNC_IF_DUE,		/* whatever is due, else nothing */
	SYNC_NOW,		/* an incremental sync now (full if none yet) */
	SYNC_FULL,		/* a full listing now */
	SYNC_COMPLETE,		/* nothing, or the first full listing's end */
};

struct sync_config {
	double ttl;		/* seconds between incremental syncs */
	double doc_ttl;		/* seconds a document is trusted (docs.h) */
	double full_sync;	/* seconds between full listings */
	double read_timeout;	/* a reader's longest wait for a first listing */
	int page_size;		/* profiles per page; PAGESIZE_AUTO: learned */
	int partitions;		/* cursors of a full listing */
	unsigned int rate_per_second;	/* the key's, for estimates */
	unsigned int rate_per_hour;	/* per rate_window seconds */
	double rate_window;
	unsigned int background_share;	/* percent full listings may use */
};

struct sync_info {
	const char *state;	/* never, listing, complete, stale, failed */
	time_t last_sync;
	time_t last_full;
	int64_t newest_ms;
	bool listing;		/* a full listing is running or unfinished */
	double fraction;	/* its progress, 0..1 */
	unsigned long calls;	/* calls it made in this process */
	time_t estimated_end;	/* of the listing: epoch s; 0 when unknown */
	time_t quota_until;	/* its calls wait for quota until; 0: they do not */
	time_t next_full;	/* the next full listing's time; 0: now or running */
	unsigned long full_cost;	/* its calls; 0: unknown before one */
	int page_size;		/* what the next search asks for */
};

struct sync;

struct sync *sync_new(struct remote *r, struct store *st,
		      const struct sync_config *cfg,
		      const struct sync_hooks *hooks);
void sync_stop(struct sync *s);
void sync_free(struct sync *s);
int sync_profiles(struct sync *s, enum sync_mode mode);
void sync_start_full(struct sync *s);
void sync_info(struct sync *s, struct sync_info *info);
bool sync_complete(struct sync *s);

#endif
