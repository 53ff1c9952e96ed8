/*
 * store.h - where credentials live: the Secret Service, or an opt-in file.
 *
 * One item per environment (attributes: service=sprinklrfs, env=NAME), whose
 * secret is the creds JSON. The set of environments is the set of items. Every
 * keyring call is bounded by a timeout: an unresponsive Secret Service fails
 * with -ETIMEDOUT instead of hanging. Without a reachable Secret Service calls
 * fail with -EHOSTDOWN; store_strerror() names the way out.
 *
 * The file store (--store=file) keeps $XDG_CONFIG_HOME/sprinklrfs/ENV.json,
 * mode 0600, and refuses a file that group or others can read.
 */
#ifndef SPRINKLRFS_STORE_H
#define SPRINKLRFS_STORE_H

#include <stddef.h>

#include "creds.h"

enum store_kind {
	STORE_KEYRING,
	STORE_FILE,
};

int store_parse_kind(const char *name, enum store_kind *kind);
const char *store_kind_name(enum store_kind kind);
int store_load(enum store_kind kind, const char *env, struct creds *out);
int store_save(enum store_kind kind, const struct creds *c);
int store_delete(enum store_kind kind, const char *env);
int store_list(enum store_kind kind, char ***envs, size_t *count);
void store_list_free(char **envs, size_t count);
const char *store_strerror(enum store_kind kind, int err);

#endif
