/*
 * hooks.h - how the sync layer tells the layers above it that something
 * changed, and asks whether the reader it waits for gave up. The layer
 * above sets them at start-up; any may be NULL. They are called from any
 * thread, never with a lock of the sync layer held, and must not block.
 */
#ifndef SPRINKLRFS_FS_SYNC_HOOKS_H
#define SPRINKLRFS_FS_SYNC_HOOKS_H

#include <stdbool.h>

struct sync_hooks {
	/* a profile's bytes changed, or it was removed */
	void (*profile_changed)(void *arg, const char *env, const char *id);
	/* profiles were added, changed or removed: the listing as a whole */
	void (*profiles_changed)(void *arg, const char *env);
	/* what .status.json shows moved on */
	void (*status_changed)(void *arg, const char *env);
	/* the documents were fetched again before their time (docs.h) */
	void (*documents_changed)(void *arg, const char *env);
	/* the request the calling thread serves was interrupted */
	bool (*interrupted)(void *arg);
	void *arg;
};

#endif
