/*
 * backend.h - where the credentials of an environment are kept: the Secret
 * Service keyring (the default), or by explicit opt-in a file. People choose
 * between them with `-o store=keyring|file` and `--store keyring|file`.
 *
 * Each environment is one creds document (creds.h), replaced as a whole; the
 * set of environments is the set of documents. Every call checks the
 * environment name first, returns 0 or a negative errno and leaves its
 * outputs untouched on failure; creds_strerror() turns that errno into a
 * sentence that says what to do. Keyring calls are bounded by a timeout (an
 * unresponsive Secret Service fails with -ETIMEDOUT instead of hanging) and
 * fail with -EHOSTDOWN when no Secret Service is reachable.
 */
#ifndef SPRINKLRFS_CREDS_BACKEND_H
#define SPRINKLRFS_CREDS_BACKEND_H

#include <glib.h>

#include "auth/creds/creds.h"

enum creds_backend {
	CREDS_KEYRING,
	CREDS_FILE,
};

int creds_backend_parse(const char *name, enum creds_backend *backend);
const char *creds_backend_name(enum creds_backend backend);
int creds_load(enum creds_backend backend, const char *env, struct creds *out);
int creds_save(enum creds_backend backend, const struct creds *c);
int creds_delete(enum creds_backend backend, const char *env);
int creds_list(enum creds_backend backend, GStrv *envs);
const char *creds_strerror(enum creds_backend backend, int err);

#endif
