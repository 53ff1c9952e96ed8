/*
 * state.c - the sync engine's named integers in the store.
 */
#include <stdio.h>

#include "fs/sync/state.h"

/* A state value, or dflt when it is not there (or cannot be read). */
int64_t state_get(struct store *st, const char *key, int64_t dflt)
{
	int64_t v;

	return store_state_get(st, key, &v) == 0 ? v : dflt;
}

/* WHAT is one of from, to, resume, phase, done and K < 100: the key fits. */
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
