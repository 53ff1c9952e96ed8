/*
 * tokens.h - one environment's credentials in memory, kept in step with
 * where they are stored and refreshed single-flight (the essay is in
 * tokens.c). Private to auth/api: api.c keeps one per environment.
 *
 * A failure says why in *why (base/msg.h), which must not be NULL.
 */
#ifndef SPRINKLRFS_API_TOKENS_H
#define SPRINKLRFS_API_TOKENS_H

#include "auth/creds/backend.h"
#include "auth/creds/creds.h"

/* tokens_rejected(): the new token set came from another thread or process */
#define TOKENS_REFRESHED_ELSEWHERE 1

struct tokens_env;

struct tokens_env *tokens_env_new(const char *env, enum creds_backend backend,
				  int refresh_margin_s);
void tokens_env_free(struct tokens_env *e);
int tokens_use(struct tokens_env *e,
	       int (*use)(const struct creds *c, unsigned int generation,
			  void *arg),
	       void *arg, char **why);
int tokens_rejected(struct tokens_env *e, unsigned int generation, char **why);
int tokens_refresh(struct tokens_env *e, char **why);
int tokens_inspect(struct tokens_env *e,
		   void (*look)(const struct creds *c, void *arg), void *arg);
char *tokens_key(struct tokens_env *e);

#endif
