/*
 * session.c - authenticated requests and rotation-safe token refresh.
 *
 * Sprinklr refresh tokens are single-use and rotate, and one key has one live
 * token set (API §2.2): a refresh token used twice, or lost, costs the user a
 * browser login. So a refresh is single-flight at two levels.
 *
 * Within the process, each environment has a mutex and a generation number
 * counting the token sets it has held. A request remembers the generation of
 * the token it sent; on 401 it calls refresh_locked() with it. The first
 * thread in refreshes; the others wait on the mutex, find the generation moved
 * on, and retry with the new token.
 *
 * Across processes (two mounts, `auth` commands), a refresh holds the
 * environment's flock (lock.h) and first re-reads the store: if that holds a
 * token set other than ours, another process has refreshed, and we adopt its
 * set instead of spending our dead refresh token. A new set is written to the
 * store before the lock is released and before it is used. If that write
 * fails the set stays in memory (`unsaved`), and every later request retries
 * the write first: a rotated token is never dropped.
 *
 * An environment's mutex is held during a refresh, network included: the
 * other threads of that environment need its outcome anyway. Requests run
 * without any lock, on a private copy of the headers (struct ticket).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "endpoint.h"
#include "http.h"
#include "lock.h"
#include "log.h"
#include "oauth.h"
#include "session.h"

#define LOCK_TIMEOUT_MS 60000
#define REFRESH_ATTEMPTS 3
#define RELOAD_INTERVAL_S 2

struct api_env {
	struct api_env *next;		/* immutable once linked */
	char name[EP_ENV_MAX + 1];
	pthread_mutex_t lock;
	struct creds creds;		/* protected by lock */
	bool loaded;			/* protected by lock */
	bool unsaved;			/* protected by lock */
	unsigned int generation;	/* protected by lock */
	int64_t next_reload;		/* protected by lock */
};

struct api {
	struct api_options opts;
	pthread_mutex_t lock;
	struct api_env *envs;		/* protected by lock */
};

/* What one request needs, copied out of the environment under its lock. */
struct ticket {
	char url[2048];
	char *ca_file;
	char *bearer;			/* "Authorization: Bearer ..." */
	char *key;			/* "Key: ..." */
	unsigned int generation;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void reply_reset(struct api_reply *reply)
{
	free(reply->body);
	memset(reply, 0, sizeof(*reply));
}

void api_reply_free(struct api_reply *reply)
{
	if (reply)
		reply_reset(reply);
}

struct api *api_new(const struct api_options *opts)
{
	struct api *api = calloc(1, sizeof(*api));

	if (!api)
		return NULL;
	api->opts = *opts;
	pthread_mutex_init(&api->lock, NULL);
	return api;
}

void api_free(struct api *api)
{
	struct api_env *e, *next;

	if (!api)
		return;
	for (e = api->envs; e; e = next) {
		next = e->next;
		if (e->unsaved)
			log_error("%s: exiting with tokens that could not be stored",
				  e->name);
		creds_clear(&e->creds);
		pthread_mutex_destroy(&e->lock);
		free(e);
	}
	pthread_mutex_destroy(&api->lock);
	free(api);
}

static struct api_env *env_get(struct api *api, const char *name)
{
	struct api_env *e;

	if (!ep_env_valid(name))
		return NULL;
	pthread_mutex_lock(&api->lock);
	for (e = api->envs; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			goto out_unlock;
	e = calloc(1, sizeof(*e));
	if (e) {
		snprintf(e->name, sizeof(e->name), "%s", name);
		pthread_mutex_init(&e->lock, NULL);
		e->next = api->envs;
		api->envs = e;
	}
out_unlock:
	pthread_mutex_unlock(&api->lock);
	return e;
}

static int save_locked(struct api *api, struct api_env *e)
{
	int res = 0;
	int i;

	for (i = 0; i < 3; i++) {
		res = store_save(api->opts.store, &e->creds);
		if (res == 0)
			break;
		usleep(100000u << i);
	}
	e->unsaved = res < 0;
	if (res < 0)
		log_error("%s: could not store the new tokens (%s); keeping them "
			  "in memory and retrying on the next request",
			  e->name, store_strerror(api->opts.store, res));
	return res;
}

/* Replaces our creds with the stored ones when they differ; returns 1 then. */
static int adopt_stored(struct api *api, struct api_env *e)
{
	struct creds stored = { 0 };
	const char *ours = e->creds.refresh_token;

	if (e->unsaved || store_load(api->opts.store, e->name, &stored) < 0)
		return 0;
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

static int load_locked(struct api *api, struct api_env *e, char *why,
		       size_t why_size)
{
	int res;

	if (e->loaded)
		return 0;
	res = store_load(api->opts.store, e->name, &e->creds);
	if (res < 0) {
		snprintf(why, why_size, "%s: %s", e->name,
			 res == -ENOENT ? "not logged in; run: sprinklrfs auth login"
				        : store_strerror(api->opts.store, res));
		return res;
	}
	e->loaded = true;
	e->generation++;
	return 0;
}

static void apply_tokens(struct api_env *e, struct oauth_tokens *t)
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

static int grant_with_retries(struct api_env *e, char *why, size_t why_size)
{
	struct oauth_tokens t = { 0 };
	int res = -EIO;
	int i;

	for (i = 0; i < REFRESH_ATTEMPTS; i++) {
		if (i > 0)
			usleep(250000u << (2 * (i - 1)));
		res = oauth_refresh(&e->creds, &t, why, why_size);
		if (res == 0 || res == -EACCES)
			break;
	}
	if (res == 0)
		apply_tokens(e, &t);
	oauth_tokens_clear(&t);
	return res;
}

/*
 * Called with e->lock held, after the token of generation `failed` was
 * rejected or found about to expire. See the top of this file.
 */
static int refresh_locked(struct api *api, struct api_env *e,
			  unsigned int failed, char *why, size_t why_size)
{
	int fd, res;

	if (e->generation != failed)
		return 0;
	res = lock_env(e->name, LOCK_TIMEOUT_MS, &fd);
	if (res < 0) {
		snprintf(why, why_size, "%s: cannot take the refresh lock: %s",
			 e->name, strerror(-res));
		return -EIO;
	}
	if (adopt_stored(api, e) || e->creds.needs_login)
		goto out_release;
	res = grant_with_retries(e, why, why_size);
	if (res == -EACCES) {
		e->creds.needs_login = true;
		snprintf(why, why_size, "%s: the refresh token was rejected; "
			 "run: sprinklrfs auth login %s", e->name, e->name);
	} else if (res < 0) {
		res = res == -EAGAIN ? -EAGAIN : -EIO;
		goto out_release;
	}
	save_locked(api, e);
out_release:
	lock_release(fd);
	if (res == 0 && e->creds.needs_login) {
		snprintf(why, why_size, "%s: needs a new login; "
			 "run: sprinklrfs auth login %s", e->name, e->name);
		res = -EACCES;
	}
	return res;
}

static bool expiring(const struct api *api, const struct creds *c)
{
	int64_t lifetime = c->expires_at - c->refreshed_at;
	int64_t margin = api->opts.refresh_margin_s;

	if (c->expires_at <= 0)
		return false;
	if (lifetime > 0 && margin > lifetime / 4)
		margin = lifetime / 4;
	return now_s() >= c->expires_at - margin;
}

/* A login made by another process while we need one is picked up here. */
static int check_login_locked(struct api *api, struct api_env *e, char *why,
			      size_t why_size)
{
	if (!e->creds.needs_login)
		return 0;
	if (now_s() >= e->next_reload) {
		e->next_reload = now_s() + RELOAD_INTERVAL_S;
		adopt_stored(api, e);
	}
	if (!e->creds.needs_login)
		return 0;
	snprintf(why, why_size, "%s: needs a new login; run: sprinklrfs auth login %s",
		 e->name, e->name);
	return -EACCES;
}

static char *header(const char *name, const char *value)
{
	size_t size = strlen(name) + 2 + strlen(value) + 1;
	char *h = malloc(size);

	if (h)
		snprintf(h, size, "%s: %s", name, value);
	return h;
}

static void ticket_clear(struct ticket *t)
{
	creds_free_secret_string(t->bearer);
	creds_free_secret_string(t->key);
	free(t->ca_file);
	memset(t, 0, sizeof(*t));
}

static int ticket_fill(struct ticket *t, const struct creds *c,
		       const char *path)
{
	char bearer[16 + 4096];
	int res;

	memset(t, 0, sizeof(*t));
	if (!c->access_token || strlen(c->access_token) > 4096)
		return -EACCES;
	res = ep_url(t->url, sizeof(t->url), c->api_url, c->env, path);
	if (res < 0)
		return res;
	snprintf(bearer, sizeof(bearer), "Bearer %s", c->access_token);
	t->bearer = header("Authorization", bearer);
	explicit_bzero(bearer, sizeof(bearer));
	t->key = header("Key", c->key);
	t->ca_file = c->ca_file ? strdup(c->ca_file) : NULL;
	if (!t->bearer || !t->key || (c->ca_file && !t->ca_file)) {
		ticket_clear(t);
		return -ENOMEM;
	}
	return 0;
}

static int prepare(struct api *api, struct api_env *e, const char *path,
		   struct ticket *t, char *why, size_t why_size)
{
	int res;

	pthread_mutex_lock(&e->lock);
	res = load_locked(api, e, why, why_size);
	if (res == 0 && e->unsaved)
		save_locked(api, e);
	if (res == 0)
		res = check_login_locked(api, e, why, why_size);
	if (res == 0 && expiring(api, &e->creds))
		res = refresh_locked(api, e, e->generation, why, why_size);
	if (res == 0)
		res = ticket_fill(t, &e->creds, path);
	if (res == 0)
		t->generation = e->generation;
	pthread_mutex_unlock(&e->lock);
	return res;
}

static int send_ticket(const struct ticket *t, const char *method,
		       const char *body, long timeout_ms,
		       struct api_reply *reply)
{
	const char *headers[] = { t->bearer, t->key, "Accept: application/json",
				  body ? "Content-Type: application/json" : NULL,
				  NULL };
	struct http_request req = {
		.method = method, .url = t->url, .headers = headers,
		.body = body, .body_len = body ? strlen(body) : 0,
		.ca_file = t->ca_file, .timeout_ms = timeout_ms,
	};
	struct http_response resp = { 0 };
	int res;

	res = http_perform(&req, &resp);
	if (res < 0) {
		snprintf(reply->error, sizeof(reply->error), "%s", resp.error);
		return res;
	}
	reply->status = resp.status;
	reply->body = resp.body;
	reply->len = resp.body_len;
	return 0;
}

static int refresh_env(struct api *api, struct api_env *e, unsigned int failed,
		       char *why, size_t why_size)
{
	int res;

	pthread_mutex_lock(&e->lock);
	res = refresh_locked(api, e, failed, why, why_size);
	pthread_mutex_unlock(&e->lock);
	return res;
}

int api_call(struct api *api, const char *env, const char *method,
	     const char *path, const char *body, struct api_reply *reply)
{
	struct api_env *e = env_get(api, env);
	unsigned int generation;
	struct ticket t;
	int attempt, res;

	memset(reply, 0, sizeof(*reply));
	if (!e)
		return -EINVAL;
	for (attempt = 0;; attempt++) {
		res = prepare(api, e, path, &t, reply->error, sizeof(reply->error));
		if (res < 0)
			return res == -ENOENT ? -EACCES : res;
		generation = t.generation;
		res = send_ticket(&t, method, body, api->opts.timeout_ms, reply);
		ticket_clear(&t);
		if (res < 0)
			return -EIO;
		if (reply->status != 401 || attempt == 1)
			break;
		reply_reset(reply);
		res = refresh_env(api, e, generation, reply->error,
				  sizeof(reply->error));
		if (res < 0)
			return res;
	}
	res = api_errno(reply->status, reply->body);
	if (reply->status == 401)
		snprintf(reply->error, sizeof(reply->error),
			 "%s: the API rejected fresh credentials; "
			 "run: sprinklrfs auth login %s", env, env);
	else if (res < 0)
		snprintf(reply->error, sizeof(reply->error), "%s %s: HTTP %ld",
			 method, path, reply->status);
	return res;
}

int api_refresh(struct api *api, const char *env, char *why, size_t why_size)
{
	struct api_env *e = env_get(api, env);
	int res;

	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	res = load_locked(api, e, why, why_size);
	if (res == 0) {
		e->creds.needs_login = false;
		res = refresh_locked(api, e, e->generation, why, why_size);
	}
	if (res == 0 && e->unsaved) {
		snprintf(why, why_size, "%s: the new tokens could not be stored",
			 e->name);
		res = -EIO;
	}
	pthread_mutex_unlock(&e->lock);
	return res;
}

int api_env_info(struct api *api, const char *env, struct api_env_info *info)
{
	struct api_env *e = env_get(api, env);
	char why[256];
	int res;

	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	res = load_locked(api, e, why, sizeof(why));
	if (res == 0) {
		memset(info, 0, sizeof(*info));
		snprintf(info->user_name, sizeof(info->user_name), "%s",
			 e->creds.user_name ? e->creds.user_name : "");
		snprintf(info->user_type, sizeof(info->user_type), "%s",
			 e->creds.user_type ? e->creds.user_type : "");
		snprintf(info->api_url, sizeof(info->api_url), "%s",
			 e->creds.api_url);
		info->expires_at = e->creds.expires_at;
		info->refreshed_at = e->creds.refreshed_at;
		info->needs_login = e->creds.needs_login;
	}
	pthread_mutex_unlock(&e->lock);
	return res;
}

/* The one table from HTTP outcomes to errno; the default is EIO. */
int api_errno(long status, const char *body)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 401:
	case 421:
		return -EACCES;
	case 403:
		if (body && strncmp(body, "Developer Over", 14) == 0)
			return -EAGAIN;
		return -EACCES;
	case 404:
		return -ENOENT;
	case 429:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static char *json_string(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? strdup(item->valuestring) : NULL;
}

static int parse_me(const struct api_reply *reply, char **name, char **type)
{
	cJSON *root = cJSON_ParseWithLength(reply->body, reply->len);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	char *n = json_string(data, "name");
	char *t = json_string(data, "type");
	int res = -EPROTO;

	if (n && t) {
		*name = n;
		*type = t;
		n = t = NULL;
		res = 0;
	}
	free(n);
	free(t);
	cJSON_Delete(root);
	return res;
}

/* GET /api/v2/me with exactly these credentials: no store, no refresh. */
int api_whoami(const struct creds *c, char **name, char **type, char *why,
	       size_t why_size)
{
	struct api_reply reply = { 0 };
	struct ticket t;
	int res;

	res = ticket_fill(&t, c, "/api/v2/me");
	if (res < 0)
		return res;
	res = send_ticket(&t, "GET", NULL, 0, &reply);
	ticket_clear(&t);
	if (res < 0) {
		snprintf(why, why_size, "%s", reply.error);
		return res;
	}
	res = api_errno(reply.status, reply.body);
	if (res == 0)
		res = parse_me(&reply, name, type);
	if (res < 0)
		snprintf(why, why_size, "GET /api/v2/me answered HTTP %ld%s",
			 reply.status, res == -EPROTO ? " with an unreadable body" : "");
	reply_reset(&reply);
	return res;
}
