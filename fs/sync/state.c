/*
 * state.c - the sync engine's named integers in the store.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/base/hash.h"
#include "fs/sync/state.h"

/* A state value, or dflt when it is not there (or cannot be read). */
int64_t state_get(struct store *st, const char *key, int64_t dflt)
{
	int64_t v;

	return store_state_get(st, key, &v) == 0 ? v : dflt;
}

/* WHAT is at most 10 characters (from, to, resume, phase, after,
 * after_hash, done) and K < 100: the key fits. */
void state_part_key(char key[STATE_KEY_MAX], int part, const char *what)
{
	snprintf(key, STATE_KEY_MAX, "part.%d.%s", part, what);
}

int64_t state_part_get(struct store *st, int part, const char *what,
		       int64_t dflt)
{
	char key[STATE_KEY_MAX];

	state_part_key(key, part, what);
	return state_get(st, key, dflt);
}

int state_part_set(struct store *st, int part, const char *what,
		   int64_t value)
{
	char key[STATE_KEY_MAX];

	state_part_key(key, part, what);
	return store_state_set(st, key, value);
}

static int64_t id_hash(const char *id)
{
	return (int64_t)hash_bytes(HASH_INIT, id, strlen(id));
}

/*
 * The id partition K resumes after inside a tie group (NULL: none). State
 * values are integers: the id is named by its profile's row in the store,
 * which the profile keeps for life, and checked by its hash, so a row that
 * another profile took over is not mistaken for it. In the batch that
 * stores the profile.
 */
int state_part_set_id(struct store *st, int part, const char *id)
{
	uint64_t size, pos = 0;
	int64_t mt;

	if (id && store_stat(st, id, &size, &mt, &pos) < 0)
		pos = 0;
	state_part_set(st, part, "after", (int64_t)pos);
	return state_part_set(st, part, "after_hash", pos ? id_hash(id) : 0);
}

/* That id, into id[ITEM_ID_MAX + 1]; -ENOENT when none is kept or its
 * profile is gone. */
int state_part_get_id(struct store *st, int part, char *id)
{
	int64_t pos = state_part_get(st, part, "after", 0);
	int64_t hash = state_part_get(st, part, "after_hash", 0);

	if (pos <= 0 || store_id_at(st, (uint64_t)pos, id) < 0 ||
	    id_hash(id) != hash)
		return -ENOENT;
	return 0;
}
