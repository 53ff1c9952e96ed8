/*
 * keyring.h - credentials in the Secret Service (private to auth/creds:
 * backend.c validates the environment name and calls here).
 *
 * kr_list() adds the names it finds to envs (g_free'd strings), unsorted.
 */
#ifndef SPRINKLRFS_CREDS_KEYRING_H
#define SPRINKLRFS_CREDS_KEYRING_H

#include <glib.h>

#include "auth/creds/creds.h"

int kr_load(const char *env, struct creds *out);
int kr_save(const struct creds *c);
int kr_delete(const char *env);
int kr_list(GPtrArray *envs);
const char *kr_strerror(int err);

#endif
