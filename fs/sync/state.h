/*
 * state.h - the sync engine's state in the store: its keys, and reading
 * one with a default. The store is the truth every mount of an environment
 * shares (see the essay in sync.c).
 */
#ifndef SPRINKLRFS_FS_SYNC_STATE_H
#define SPRINKLRFS_FS_SYNC_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "fs/store/store.h"

#define STATE_PASS "pass"		/* the newest pass number */
#define STATE_NEWEST "newest_ms"	/* the newest modifiedTime stored */
#define STATE_FULL_PASS "full.pass"	/* the unfinished listing's, or 0 */
#define STATE_FULL_PARTS "full.parts"	/* its partitions */
#define STATE_FULL_STARTED "full.started"	/* when it began (epoch s) */
#define STATE_FULL_OLDEST "full.oldest"	/* the oldest modifiedTime seen */
#define STATE_FULL_DONE "full.done_ms"	/* when one last completed */
#define STATE_PAGE_SIZE "page_size"	/* what page_size=auto learned */

#define STATE_KEY_MAX 32

int64_t state_get(struct store *st, const char *key, int64_t dflt);
/* "part.K.WHAT": where partition K of a full listing is: its range (from,
 * to), its resume point (resume: a time, phase: enum resume_phase, after:
 * an id, see state_part_set_id), done */
void state_part_key(char key[STATE_KEY_MAX], int part, const char *what);
int64_t state_part_get(struct store *st, int part, const char *what,
		       int64_t dflt);
int state_part_set(struct store *st, int part, const char *what,
		   int64_t value);
int state_part_set_id(struct store *st, int part, const char *id);
int state_part_get_id(struct store *st, int part, char *id);

#endif
