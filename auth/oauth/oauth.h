/*
 * oauth.h - Sprinklr's OAuth 2.0 authorization code grant (API §2).
 *
 * Builds the authorize URL, exchanges a code or a refresh token at the token
 * endpoint and parses its answer. Outcomes: 0; -EACCES when the token endpoint
 * rejected the grant (a login is needed); -EAGAIN when it throttled us; another
 * negative errno for transport failures, 5xx and unreadable answers, which
 * leave every token as it was. A failed grant says why in *why (msg.h).
 */
#ifndef SPRINKLRFS_OAUTH_OAUTH_H
#define SPRINKLRFS_OAUTH_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "auth/creds/creds.h"

#define OAUTH_DEFAULT_REDIRECT_URI "http://localhost:8123/sprinklr/callback"
#define OAUTH_DEFAULT_API_URL "https://api3.sprinklr.com"
#define OAUTH_LIFETIME_MAX (100LL * 366 * 24 * 3600)	/* a century */
#define OAUTH_STATE_SIZE 33	/* 32 hex digits and a NUL */

struct oauth_tokens {
	char *access_token;
	char *refresh_token;
	int64_t expires_in;	/* seconds */
};

/* Strings g_free'd by oauth_redirect_clear(). */
struct oauth_redirect {
	char *host;		/* as written in the URI, without brackets */
	unsigned short port;
	char *path;
};

int oauth_parse_redirect_uri(const char *uri, struct oauth_redirect *out);
void oauth_redirect_clear(struct oauth_redirect *r);
int oauth_check_api_url(const char *url);
int oauth_new_state(char state[OAUTH_STATE_SIZE]);
int oauth_authorize_url(const struct creds *c, const char *state, char **url);
int oauth_exchange_code(const struct creds *c, const char *code,
			struct oauth_tokens *t, char **why);
int oauth_refresh(const struct creds *c, struct oauth_tokens *t, char **why);
int oauth_parse_tokens(const char *body, size_t len, struct oauth_tokens *t);
void oauth_tokens_clear(struct oauth_tokens *t);

#endif
