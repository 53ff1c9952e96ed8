/*
 * api.h - "perform this API request for ENV".
 *
 * The rest of the program names an environment, a method, a path and a JSON
 * body; this module supplies the Bearer and Key headers, refreshes tokens that
 * are about to expire or were rejected, and maps the outcome to an errno in
 * one table (api_errno). No caller ever sees a token.
 */
#ifndef SPRINKLRFS_API_API_H
#define SPRINKLRFS_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/creds/backend.h"
#include "auth/creds/creds.h"
#include "auth/net/pacer.h"

#define API_REFRESH_MARGIN_DEFAULT 300
#define API_BACKGROUND_SHARE_DEFAULT 80

struct api;

struct api_options {
	enum creds_backend creds;	/* where credentials are kept */
	int refresh_margin_s;	/* refresh this long before expiry */
	unsigned int rate_per_second;	/* per API key; 0: unlimited */
	unsigned int rate_per_hour;	/* per window of rate_window_s */
	double rate_window_s;
	unsigned int background_share;	/* percent of each window, 1..100 */
	double read_timeout_s;	/* one foreground call, waits and retries */
	unsigned int retries;	/* more attempts after a transient failure */
	long connect_timeout_s;
	long stall_timeout_s;
	size_t max_body;
};

#define API_OPTIONS_DEFAULT(backend) { \
	.creds = (backend), .refresh_margin_s = API_REFRESH_MARGIN_DEFAULT, \
	.rate_per_second = 10, .rate_per_hour = 1000, .rate_window_s = 3600, \
	.background_share = API_BACKGROUND_SHARE_DEFAULT, .read_timeout_s = 60, \
	.retries = 4, .connect_timeout_s = 10, .stall_timeout_s = 30, \
	.max_body = 64u << 20 }

/* The key's budget: calls this window, and time spent waiting for it. */
struct api_pacing {
	unsigned long limit;		/* rate_per_hour */
	double window_s;		/* its window */
	unsigned long calls_this_hour;	/* both classes, this window */
	unsigned long background_calls;	/* of those, background */
	unsigned long reserve;		/* per window, for foreground calls */
	unsigned long background_cap;	/* per window, for background calls */
	unsigned long waits;
	double waited_s;
	int64_t background_until;	/* epoch s background waits for; 0 */
};

/*
 * How a caller that parses the answers itself reads them: read() is given
 * the body of each 2xx answer as it arrives, before the call decides
 * whether to ask again, and says whether it is JSON (keeping what it made
 * of it; body is the reply's, which it may change in place). One that is
 * not is asked again, like a cut transfer. Without a reader the call
 * parses each 2xx body to tell, and throws the tree away.
 */
struct api_reader {
	bool (*read)(void *arg, char *body, size_t len);
	void *arg;
};

/* Filled by api_call(); free with api_reply_free(). */
struct api_reply {
	long status;		/* HTTP status, 0 when none arrived */
	long retry_after;	/* seconds, -1 when absent */
	long rate_remaining;	/* X-RateLimit-Remaining, -1 when absent */
	long rate_reset;	/* X-RateLimit-Reset, -1 when absent */
	char *body;		/* NUL-terminated */
	size_t len;
	char *error;		/* NULL, or what went wrong, for logs; never a secret */
};

/* What `auth status` and .status.json may show: nothing secret. */
struct api_env_info {
	char *user_name;	/* "" when unknown; api_env_info_clear() */
	char *user_type;
	char *api_url;
	int64_t expires_at;
	int64_t refreshed_at;
	bool needs_login;
};

struct api *api_new(const struct api_options *opts);
void api_free(struct api *api);
int api_call(struct api *api, const char *env, const char *method,
	     const char *path, const char *body, struct api_reply *reply);
int api_call_as(struct api *api, const char *env,
		const struct pacer_wait *wait, const struct api_reader *reader,
		const char *method, const char *path, const char *body,
		struct api_reply *reply);
int api_refresh(struct api *api, const char *env, char **why);
int api_env_info(struct api *api, const char *env, struct api_env_info *info);
void api_env_info_clear(struct api_env_info *info);
int api_pacing(struct api *api, const char *env, struct api_pacing *out);
void api_reply_free(struct api_reply *reply);
int api_errno(long status, const char *body);
int api_whoami(const struct creds *c, char **name, char **type, char **why);

#endif
