/*
 * listing.h - following search cursors into the store.
 *
 * A listing asks for the profiles with from <= modifiedTime < to (either
 * bound may be absent), sorted by modifiedTime, and follows the cursors to
 * the last page. Each page is one batch in the store together with where the
 * listing would resume (resume.h), in the order the pages came: a crash
 * loses at most the pages in flight (listing.c: up to three).
 * A cursor that expires (any 4xx but the gateway's) restarts the search
 * from the resume point, which every page moves. The first page of a
 * search asks for the environment's page size, and a 400 to it may make
 * that smaller (pagesize.h).
 *
 * The caller fills in the first part of struct listing; stopping() is
 * asked between pages and while a call waits for quota (true: the listing
 * ends with -ECANCELED), and page_done() is told after each page is stored,
 * on the thread that stored it.
 * A background listing's calls wait for quota within the background share
 * for as long as it takes (pacer.h).
 */
#ifndef SPRINKLRFS_FS_SYNC_LISTING_H
#define SPRINKLRFS_FS_SYNC_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/store/store.h"
#include "fs/sync/hooks.h"
#include "fs/sync/page.h"
#include "fs/sync/pagesize.h"
#include "fs/sync/remote.h"
#include "fs/sync/resume.h"

struct listing {
	struct remote *remote;
	struct store *store;
	const struct sync_hooks *hooks;	/* profile_changed */
	struct pagesize *page_size;	/* the environment's */
	bool background;	/* a full listing's: see pacer.h */
	bool (*stopping)(void *arg);
	void (*page_done)(void *arg, const struct listing *l);
	void *arg;
	uint64_t pass;		/* marks every profile it sees */
	int part;		/* partition of a full listing; -1: incremental */
	int64_t from;		/* modifiedTime >= from; -1: no bound */
	int64_t to;		/* modifiedTime < to; -1: no bound */
	struct resume at;	/* where the search (re)starts; freed by
				   listing_run */
	bool quiet;		/* a first listing: nothing cached to invalidate */
	/* results */
	int64_t newest;		/* newest modifiedTime seen */
	int64_t oldest;		/* oldest seen; -1: none yet */
	size_t seen;
	size_t changed;		/* profiles whose bytes changed */
	bool distrust;		/* it failed on pages that cannot be trusted */
	/* private */
	uint64_t page_hash;
	int stale_pages;
	bool by_id;		/* the search in flight is sorted by id */
	struct resume restarted;	/* the last restart's point */
	char *cursor;		/* the next page's, NULL on the last */
	struct page parsed;	/* the last answer's, parsed as it came */
	int parsed_res;		/* page_parse()'s; -ENODATA: none came */
};

int listing_run(struct listing *l);
int listing_probe(const struct listing *like, int64_t *oldest_ms);

#endif
