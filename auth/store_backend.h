/*
 * store_backend.h - the two credential stores behind store.h.
 *
 * store.c validates the environment name and dispatches here; each backend
 * returns 0 or a negative errno and leaves its outputs untouched on failure.
 */
#ifndef SPRINKLRFS_STORE_BACKEND_H
#define SPRINKLRFS_STORE_BACKEND_H

#include <stddef.h>

#include "creds.h"

int kr_load(const char *env, struct creds *out);
int kr_save(const struct creds *c);
int kr_delete(const char *env);
int kr_list(char ***envs, size_t *count);
const char *kr_strerror(int err);

int sf_load(const char *env, struct creds *out);
int sf_save(const struct creds *c);
int sf_delete(const char *env);
int sf_list(char ***envs, size_t *count);
const char *sf_strerror(int err);

/* Sort, drop duplicates; returns the new count. */
size_t store_envs_normalize(char **envs, size_t count);

#endif
