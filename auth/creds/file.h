/*
 * file.h - credentials in $XDG_CONFIG_HOME/sprinklrfs/ENV.json, mode 0600
 * (private to auth/creds: backend.c validates the environment name and calls
 * here). A file that group or others can read is refused.
 *
 * cf_list() adds the names it finds to envs (g_free'd strings), unsorted.
 */
#ifndef SPRINKLRFS_CREDS_FILE_H
#define SPRINKLRFS_CREDS_FILE_H

#include <glib.h>

#include "auth/creds/creds.h"

int cf_load(const char *env, struct creds *out);
int cf_save(const struct creds *c);
int cf_delete(const char *env);
int cf_list(GPtrArray *envs);
const char *cf_strerror(int err);

#endif
