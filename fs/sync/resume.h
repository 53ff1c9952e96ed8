/*
 * resume.h - where a search (re)starts: resume points that always move.
 *
 * A resume point names what a listing already has, as a set that only
 * grows; the search that continues it asks for the rest. After every page
 * it moves (resume_advance); an expired cursor, a crash or the next
 * incremental sync restart from it (resume_query). See the essay in
 * resume.c for why a modifiedTime alone is not enough.
 */
#ifndef SPRINKLRFS_FS_SYNC_RESUME_H
#define SPRINKLRFS_FS_SYNC_RESUME_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* What is done, with t = ms; the values are stored ("part.K.phase"). */
enum resume_phase {
	RESUME_GTE = 0,		/* modifiedTime < t (t = -1: nothing yet) */
	RESUME_GT = 1,		/* modifiedTime <= t */
	RESUME_TIES = 2,	/* < t, and at t the ids up to `after` */
	RESUME_AFTER = 3,	/* as RESUME_TIES, asked in one query by time */
};

struct resume {
	enum resume_phase phase;
	int64_t ms;
	char *after;		/* an id, or NULL: none of the ties at t */
};

void resume_set(struct resume *at, enum resume_phase phase, int64_t ms,
		const char *after);
void resume_clear(struct resume *at);
bool resume_same(const struct resume *a, const struct resume *b);
bool resume_by_id(const struct resume *at);
char *resume_query(const struct resume *at, int64_t to, int page_size);
void resume_advance(struct resume *at, bool by_id, const cJSON *results);

#endif
