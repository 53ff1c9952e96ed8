/*
 * creds.h - the credentials of one environment and their serialized form.
 *
 * Everything sprinklrfs knows about an environment travels as one JSON
 * document (the keyring item's secret, or the credentials file), so one
 * write updates all of it at once. Strings are heap-owned; creds_clear() wipes
 * and frees them and accepts a zeroed or already cleared struct.
 */
#ifndef SPRINKLRFS_CREDS_CREDS_H
#define SPRINKLRFS_CREDS_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/net/endpoint.h"

struct creds {
	char env[EP_ENV_MAX + 1];
	char *api_url;		/* e.g. https://api3.sprinklr.com */
	char *ca_file;		/* NULL: the system's trust store */
	char *key;		/* application key (client_id) */
	char *secret;		/* application secret */
	char *redirect_uri;
	char *access_token;
	char *refresh_token;
	int64_t expires_at;	/* Unix seconds */
	int64_t refreshed_at;	/* Unix seconds of the last token grant */
	char *user_name;	/* from /api/v2/me, for status lines */
	char *user_type;
	bool needs_login;	/* the token endpoint rejected the refresh token */
};

int creds_to_json(const struct creds *c, char **json);
int creds_from_json(const char *json, size_t len, struct creds *c);
int creds_copy(const struct creds *src, struct creds *dst);
void creds_clear(struct creds *c);
void creds_free_secret_string(char *s);

#endif
