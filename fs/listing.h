/*
 * listing.h - following search cursors into the store (private to sync.c).
 *
 * A listing asks for the profiles with from <= modifiedTime < to (either
 * bound may be absent), sorted by modifiedTime, and follows the cursors to
 * the last page. Each page is one batch in the store together with where the
 * listing would resume: a crash loses at most the page in flight. A cursor
 * that expires restarts the search from the last modifiedTime seen.
 */
#ifndef SPRINKLRFS_LISTING_H
#define SPRINKLRFS_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fs_env;

struct listing {
	struct fs_env *e;
	uint64_t pass;		/* marks every profile it sees */
	int part;		/* partition of a full listing; -1: incremental */
	int64_t from;		/* modifiedTime >= from; -1: no bound */
	int64_t to;		/* modifiedTime < to; -1: no bound */
	int64_t resume_ms;	/* where the search (re)starts; -1: from */
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
	char cursor[1024];
};

int listing_run(struct listing *l);
int listing_probe(struct fs_env *e, int64_t *oldest_ms);
void listing_state_key(char *buf, size_t size, int part, const char *what);

/* in sync.c */
bool sync_stopping(struct fs_env *e);
void sync_page_done(struct fs_env *e, const struct listing *l);

#endif
