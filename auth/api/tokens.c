/*
 * tokens.c - rotation-safe, single-flight token refresh.
 *
 * Sprinklr refresh tokens are single-use and rotate, and one key has one live
 * token set (API §2.2): a refresh token used twice, or lost, costs the user a
 * browser login. So a refresh is single-flight at two levels.
 *
 * Within the process, each environment has a mutex and a generation number
 * counting the token sets it has held. A request remembers the generation of
 * the token it sent (tokens_use()); on 401 it calls tokens_rejected() with
 * it. The first thread in refreshes; the others wait on the mutex, find the
 * generation moved on, and retry with the new token.
 *
 * A retry can meet 401 again when yet another refresh (say `auth refresh` in
 * a loop) killed the set we just adopted: as long as each refresh adopts a
 * set obtained elsewhere, the request tries again (api.c, MAX_ADOPTIONS
 * times); only a 401 right after a set we obtained ourselves means the
 * credentials themselves are refused.
 *
 * Across processes (two mounts, `auth` commands), a refresh holds the
 * environment's flock (lock.h) and first re-reads the stored credentials: if
 * they hold a token set other than ours, another process has refreshed, and
 * we adopt its set instead of spending our dead refresh token. A new set is
 * stored before the lock is released and before it is used. If that write
 * fails the set stays in memory (`unsaved`), and every later request retries
 * the write first: a rotated token is never dropped.
 *
 * An environment's mutex is held during a refresh, network included: the
 * other threads of that environment need its outcome anyway. Otherwise it is
 * held only while a request copies out what it needs (tokens_use()), so
 * requests run without any lock.
 *
 * Token calls leave one debug line each (trace_token()): method, path,
 * outcome and time, never the body, which holds the secret and the refresh
 * token.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "auth/api/lock.h"
#include "auth/api/tokens.h"
#include "auth/base/clock.h"
#include "auth/base/flock.h"
#include "auth/base/log.h"
#include "auth/base/msg.h"
#include "auth/base/retry.h"
#include "auth/net/endpoint.h"
#include "auth/oauth/oauth.h"

#define LOCK_TIMEOUT_MS 60000
#define RELOAD_INTERVAL_S 2
#define SAVE_ATTEMPTS 3
#define SAVE_PAUSE_S 0.1
#define GRANT_ATTEMPTS 3
#define GRANT_PAUSE_S 0.25

struct tokens_env {
	char name[EP_ENV_MAX + 1];
	enum creds_backend backend;
	int margin_s;			/* refresh this long before expiry */
	pthread_mutex_t lock;
	struct creds creds;		/* protected by lock */
	bool loaded;			/* protected by lock */
	bool unsaved;			/* protected by lock */
	unsigned int generation;	/* protected by lock */
	int64_t next_reload;		/* protected by lock */
};

/* Wall-clock seconds, as token times are kept. */
static int64_t now_s(void)
{
	return clock_wall_ms() / 1000;
}

/* env is a valid environment name (ep_env_valid()). */
struct tokens_env *tokens_env_new(const char *env, enum creds_backend backend,
				  int refresh_margin_s)
{
	struct tokens_env *e = g_new0(struct tokens_env, 1);

	g_strlcpy(e->name, env, sizeof(e->name));
	e->backend = backend;
	e->margin_s = refresh_margin_s;
	pthread_mutex_init(&e->lock, NULL);
	return e;
}

void tokens_env_free(struct tokens_env *e)
{
	if (!e)
		return;
	if (e->unsaved)
		log_error("%s: exiting with tokens that could not be stored",
			  e->name);
	creds_clear(&e->creds);
	pthread_mutex_destroy(&e->lock);
	g_free(e);
}

/* Stores the creds, a few times if need be; failing that, keeps them unsaved. */
static int save_locked(struct tokens_env *e)
{
	struct retry retry = { .pause = SAVE_PAUSE_S, .factor = 2,
			       .left = SAVE_ATTEMPTS - 1 };
	double pause;
	int res;

	for (;;) {
		res = creds_save(e->backend, &e->creds);
		if (res == 0)
			break;
		pause = retry_pause(&retry);
		if (pause < 0)
			break;
		clock_sleep(pause);
	}
	e->unsaved = res < 0;
	if (res < 0)
		log_error("%s: could not store the new tokens (%s); keeping them "
			  "in memory and retrying on the next request",
			  e->name, creds_strerror(e->backend, res));
	return res;
}

/*
 * Replaces our creds with the stored ones when they differ: 1 then, 0 when
 * they are the same (or ours are newer and not yet stored), or the backend's
 * error: credentials we cannot read must never lead to spending a refresh
 * token that another process may already have spent.
 */
static int adopt_stored(struct tokens_env *e)
{
	struct creds stored = { 0 };
	const char *ours = e->creds.refresh_token;
	int res;

	if (e->unsaved)
		return 0;
	res = creds_load(e->backend, e->name, &stored);
	if (res < 0)
		return res;
	if (stored.refresh_token && ours &&
	    strcmp(stored.refresh_token, ours) == 0 &&
	    stored.needs_login == e->creds.needs_login) {
		creds_clear(&stored);
		return 0;
	}
	creds_clear(&e->creds);
	e->creds = stored;
	e->generation++;
	return 1;
}

static int load_locked(struct tokens_env *e, char **why)
{
	int res;

	if (e->loaded)
		return 0;
	res = creds_load(e->backend, e->name, &e->creds);
	if (res < 0) {
		msg_set(why, "%s: %s", e->name,
			res == -ENOENT ? "not logged in; run: sprinklrfs auth login"
				       : creds_strerror(e->backend, res));
		return res;
	}
	e->loaded = true;
	e->generation++;
	return 0;
}

static void apply_tokens(struct tokens_env *e, struct oauth_tokens *t)
{
	creds_free_secret_string(e->creds.access_token);
	creds_free_secret_string(e->creds.refresh_token);
	e->creds.access_token = t->access_token;
	e->creds.refresh_token = t->refresh_token;
	e->creds.refreshed_at = now_s();
	e->creds.expires_at = e->creds.refreshed_at + t->expires_in;
	e->creds.needs_login = false;
	t->access_token = t->refresh_token = NULL;
	e->generation++;
}

/* The trace line of a token call: never its body, which holds secrets. */
static void trace_token(const char *env, int res, const char *why,
			double started, int retry)
{
	char again[32] = "";

	if (retry > 0)
		snprintf(again, sizeof(again), " (retry %d)", retry);
	log_debug("%s: POST /oauth/token %s %.0f ms%s%s%s", env,
		  res == 0 ? "200" : "failed", (clock_now() - started) * 1000,
		  again, res < 0 ? ": " : "", res < 0 ? msg_text(why) : "");
}

/* A refresh grant, tried again after failures other than a rejection. */
static int grant_with_retries(struct tokens_env *e, char **why)
{
	struct retry retry = { .pause = GRANT_PAUSE_S, .factor = 4,
			       .left = GRANT_ATTEMPTS - 1 };
	struct oauth_tokens t = { 0 };
	double started, pause;
	int attempt, res;

	for (attempt = 0;; attempt++) {
		started = clock_now();
		res = oauth_refresh(&e->creds, &t, why);
		trace_token(e->name, res, *why, started, attempt);
		if (res == 0 || res == -EACCES)
			break;
		pause = retry_pause(&retry);
		if (pause < 0)
			break;
		clock_sleep(pause);
	}
	if (res == 0)
		apply_tokens(e, &t);
	oauth_tokens_clear(&t);
	return res;
}

/* With the environment's flock held: adopt another process's set, or grant. */
static int refresh_holding_flock(struct tokens_env *e, char **why)
{
	int res = adopt_stored(e);

	if (res < 0) {
		msg_set(why, "%s: cannot read the stored credentials before "
			"refreshing: %s", e->name,
			creds_strerror(e->backend, res));
		return -EIO;
	}
	if (res == 1)
		return TOKENS_REFRESHED_ELSEWHERE;
	if (e->creds.needs_login)
		return 0;
	res = grant_with_retries(e, why);
	if (res == -EACCES) {
		e->creds.needs_login = true;
		msg_set(why, "%s: the refresh token was rejected; run: "
			"sprinklrfs auth login %s", e->name, e->name);
	} else if (res < 0) {
		return res == -EAGAIN ? -EAGAIN : -EIO;
	}
	save_locked(e);
	return res;
}

/*
 * Called with e->lock held, after the token of generation `failed` was
 * rejected or found about to expire. See the top of this file.
 */
static int refresh_locked(struct tokens_env *e, unsigned int failed,
			  char **why)
{
	int fd, res;

	if (e->generation != failed)
		return TOKENS_REFRESHED_ELSEWHERE;
	res = lock_env(e->name, LOCK_TIMEOUT_MS, &fd);
	if (res < 0) {
		msg_set(why, "%s: cannot take the refresh lock: %s", e->name,
			strerror(-res));
		return -EIO;
	}
	res = refresh_holding_flock(e, why);
	flock_release(fd);
	if (res >= 0 && e->creds.needs_login) {
		msg_set(why, "%s: needs a new login; run: sprinklrfs auth "
			"login %s", e->name, e->name);
		res = -EACCES;
	}
	return res;
}

static bool expiring(const struct tokens_env *e)
{
	const struct creds *c = &e->creds;
	int64_t lifetime = c->expires_at - c->refreshed_at;
	int64_t margin = e->margin_s;

	if (c->expires_at <= 0)
		return false;
	if (lifetime > 0 && margin > lifetime / 4)
		margin = lifetime / 4;
	return now_s() >= c->expires_at - margin;
}

/* A login made by another process while we need one is picked up here. */
static int check_login_locked(struct tokens_env *e, char **why)
{
	if (!e->creds.needs_login)
		return 0;
	if (now_s() >= e->next_reload) {
		e->next_reload = now_s() + RELOAD_INTERVAL_S;
		adopt_stored(e);
	}
	if (!e->creds.needs_login)
		return 0;
	msg_set(why, "%s: needs a new login; run: sprinklrfs auth login %s",
		e->name, e->name);
	return -EACCES;
}

/* Loaded, stored, not waiting for a login, and not about to expire. */
static int ready_locked(struct tokens_env *e, char **why)
{
	int res = load_locked(e, why);

	if (res == 0 && e->unsaved)
		save_locked(e);
	if (res == 0)
		res = check_login_locked(e, why);
	if (res == 0 && expiring(e))
		res = refresh_locked(e, e->generation, why);
	return res == TOKENS_REFRESHED_ELSEWHERE ? 0 : res;
}

/*
 * Makes the credentials ready for a request and runs use() on them, with
 * the generation of their token set, under the lock: use() copies out what
 * the request needs. Returns what use() returns, or why they are not ready.
 */
int tokens_use(struct tokens_env *e,
	       int (*use)(const struct creds *c, unsigned int generation,
			  void *arg),
	       void *arg, char **why)
{
	int res;

	pthread_mutex_lock(&e->lock);
	res = ready_locked(e, why);
	if (res == 0)
		res = use(&e->creds, e->generation, arg);
	pthread_mutex_unlock(&e->lock);
	return res;
}

/*
 * The token of `generation` was rejected (401): 0 when we refreshed,
 * TOKENS_REFRESHED_ELSEWHERE when a newer set came from elsewhere, or an
 * error.
 */
int tokens_rejected(struct tokens_env *e, unsigned int generation, char **why)
{
	int res;

	pthread_mutex_lock(&e->lock);
	res = refresh_locked(e, generation, why);
	pthread_mutex_unlock(&e->lock);
	return res;
}

/* A new token set now, even after a rejection: what `auth refresh` asks. */
int tokens_refresh(struct tokens_env *e, char **why)
{
	int res;

	pthread_mutex_lock(&e->lock);
	res = load_locked(e, why);
	if (res == 0) {
		e->creds.needs_login = false;
		res = refresh_locked(e, e->generation, why);
		if (res == TOKENS_REFRESHED_ELSEWHERE)
			res = 0;
	}
	if (res == 0 && e->unsaved) {
		msg_set(why, "%s: the new tokens could not be stored", e->name);
		res = -EIO;
	}
	pthread_mutex_unlock(&e->lock);
	return res;
}

/* Runs look() on the credentials, loaded if need be, under the lock. */
int tokens_inspect(struct tokens_env *e,
		   void (*look)(const struct creds *c, void *arg), void *arg)
{
	char *why = NULL;
	int res;

	pthread_mutex_lock(&e->lock);
	res = load_locked(e, &why);
	if (res == 0)
		look(&e->creds, arg);
	pthread_mutex_unlock(&e->lock);
	g_free(why);
	return res;
}

/* The application key when the credentials are loaded, else NULL; g_free it. */
char *tokens_key(struct tokens_env *e)
{
	char *key = NULL;

	pthread_mutex_lock(&e->lock);
	if (e->loaded && e->creds.key)
		key = g_strdup(e->creds.key);
	pthread_mutex_unlock(&e->lock);
	return key;
}
