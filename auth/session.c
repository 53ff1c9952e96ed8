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
 * A retry can meet 401 again when yet another refresh (say `auth refresh` in
 * a loop) killed the set we just adopted: as long as each refresh adopts a
 * set obtained elsewhere, the request tries again (MAX_ADOPTIONS times);
 * only a 401 right after a set we obtained ourselves means the credentials
 * themselves are refused.
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
 *
 * Every API request waits for its key's pacer (pacer.h) and is retried after
 * transient failures (transport errors, 5xx, a 200 that is not JSON) with
 * capped exponential backoff and jitter; throttling answers block the key
 * and are retried too. None of this waits past read_timeout_s in total.
 *
 * At log level debug every HTTP exchange leaves one line (trace_call()):
 * environment, method, path with its query string (this API never puts a
 * secret there), HTTP status or "failed", milliseconds, and which retry it
 * was. Token calls (grant_with_retries()) leave method, path, outcome and
 * time. Never a header or a body: they carry the token, the key and, for
 * token calls, the secret and the refresh token.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <glib.h>

#include "auth/base/clock.h"
#include "auth/base/msg.h"
#include "auth/net/answer.h"
#include "auth/net/endpoint.h"
#include "auth/net/http.h"
#include "auth/net/pacer.h"
#include "lock.h"
#include "log.h"
#include "auth/oauth/oauth.h"
#include "session.h"

#define LOCK_TIMEOUT_MS 60000
#define REFRESH_ATTEMPTS 3
#define RELOAD_INTERVAL_S 2
#define MAX_ADOPTIONS 5
/* refresh_locked(): the new token set came from another thread or process */
#define REFRESHED_ELSEWHERE 1
#define BACKOFF_FIRST_S 0.25
#define TRANSFER_RESERVE_S 10.0
#define BACKOFF_CAP_S 8.0

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
	char *url;
	const char *env;		/* for the trace: api_env.name or the creds' */
	const char *path;		/* for the trace: the caller's */
	char *ca_file;
	char *bearer;			/* "Authorization: Bearer ..." */
	char *key;			/* "Key: ..." */
	struct pacer *pacer;		/* NULL: not paced */
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
		res = creds_save(api->opts.creds, &e->creds);
		if (res == 0)
			break;
		usleep(100000u << i);
	}
	e->unsaved = res < 0;
	if (res < 0)
		log_error("%s: could not store the new tokens (%s); keeping them "
			  "in memory and retrying on the next request",
			  e->name, creds_strerror(api->opts.creds, res));
	return res;
}

/*
 * Replaces our creds with the stored ones when they differ: 1 then, 0 when
 * they are the same (or ours are newer and not yet stored), or the store's
 * error: a store we cannot read must never lead to spending a refresh token
 * that another process may already have spent.
 */
static int adopt_stored(struct api *api, struct api_env *e)
{
	struct creds stored = { 0 };
	const char *ours = e->creds.refresh_token;
	int res;

	if (e->unsaved)
		return 0;
	res = creds_load(api->opts.creds, e->name, &stored);
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

static int load_locked(struct api *api, struct api_env *e, char *why,
		       size_t why_size)
{
	int res;

	if (e->loaded)
		return 0;
	res = creds_load(api->opts.creds, e->name, &e->creds);
	if (res < 0) {
		snprintf(why, why_size, "%s: %s", e->name,
			 res == -ENOENT ? "not logged in; run: sprinklrfs auth login"
				        : creds_strerror(api->opts.creds, res));
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

/* The trace line of a token call: never its body, which holds secrets. */
static void trace_token(const char *env, int res, const char *why,
			double started, int retry)
{
	char again[32] = "";

	if (retry > 0)
		snprintf(again, sizeof(again), " (retry %d)", retry);
	log_debug("%s: POST /oauth/token %s %.0f ms%s%s%s", env,
		  res == 0 ? "200" : "failed", (clock_now() - started) * 1000,
		  again, res < 0 ? ": " : "", res < 0 ? why : "");
}

static int grant_with_retries(struct api_env *e, char *why, size_t why_size)
{
	struct oauth_tokens t = { 0 };
	char *reason = NULL;
	double started;
	int res = -EIO;
	int i;

	for (i = 0; i < REFRESH_ATTEMPTS; i++) {
		if (i > 0)
			usleep(250000u << (2 * (i - 1)));
		started = clock_now();
		res = oauth_refresh(&e->creds, &t, &reason);
		snprintf(why, why_size, "%s", msg_text(reason));
		trace_token(e->name, res, why, started, i);
		if (res == 0 || res == -EACCES)
			break;
	}
	if (res == 0)
		apply_tokens(e, &t);
	oauth_tokens_clear(&t);
	g_free(reason);
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
		return REFRESHED_ELSEWHERE;
	res = lock_env(e->name, LOCK_TIMEOUT_MS, &fd);
	if (res < 0) {
		snprintf(why, why_size, "%s: cannot take the refresh lock: %s",
			 e->name, strerror(-res));
		return -EIO;
	}
	res = adopt_stored(api, e);
	if (res < 0) {
		snprintf(why, why_size, "%s: cannot read the stored credentials "
			 "before refreshing: %s", e->name,
			 creds_strerror(api->opts.creds, res));
		res = -EIO;
		goto out_release;
	}
	if (res == 1 || e->creds.needs_login) {
		res = res == 1 ? REFRESHED_ELSEWHERE : 0;
		goto out_release;
	}
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
	if (res >= 0 && e->creds.needs_login) {
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
	g_free(t->url);
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
	res = ep_url(c->api_url, c->env, path, &t->url);
	if (res < 0)
		return res;
	t->env = c->env;
	t->path = path;
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
	if (res == REFRESHED_ELSEWHERE)
		res = 0;
	if (res == 0)
		res = ticket_fill(t, &e->creds, path);
	if (res == 0) {
		t->env = e->name;	/* immutable, unlike the creds */
		t->generation = e->generation;
		t->pacer = pacer_get(e->creds.key, api->opts.rate_per_second,
				     api->opts.rate_per_hour);
	}
	pthread_mutex_unlock(&e->lock);
	return res;
}

static int send_ticket(const struct ticket *t, const char *method,
		       const char *body, const struct api_options *opts,
		       double timeout_s, struct api_reply *reply)
{
	const char *headers[] = { t->bearer, t->key, "Accept: application/json",
				  body ? "Content-Type: application/json" : NULL,
				  NULL };
	struct http_request req = {
		.method = method, .url = t->url, .headers = headers,
		.body = body, .body_len = body ? strlen(body) : 0,
		.ca_file = t->ca_file,
		.timeout_ms = timeout_s > 0.001 ? (long)(timeout_s * 1000) : 1,
		.connect_timeout_ms = opts->connect_timeout_s * 1000,
		.stall_timeout_s = opts->stall_timeout_s,
		.max_body = opts->max_body,
	};
	struct http_response resp = { 0 };
	int res;

	res = http_perform(&req, &resp);
	if (res < 0) {
		snprintf(reply->error, sizeof(reply->error), "%s", resp.error);
		http_response_free(&resp);
		return res;
	}
	reply->status = resp.status;
	reply->body = resp.body;
	reply->len = resp.body_len;
	reply->retry_after = resp.retry_after;
	reply->rate_remaining = resp.rate_remaining;
	reply->rate_reset = resp.rate_reset;
	return 0;
}

/* One line of the call trace; next says what happens after it. */
static void trace_call(const struct ticket *t, const char *method, int res,
		       const struct api_reply *reply, double ms,
		       unsigned int retry, const char *next)
{
	char status[16] = "failed", again[32] = "";

	if (res == 0)
		snprintf(status, sizeof(status), "%ld", reply->status);
	if (retry > 0)
		snprintf(again, sizeof(again), " (retry %u)", retry);
	log_debug("%s: %s %s %s %.0f ms%s%s%s%s", t->env, method, t->path,
		  status, ms, again, res < 0 ? ": " : "",
		  res < 0 ? reply->error : "", next);
}

/* Worth retrying: a transport error, a 5xx, or a 2xx that is not JSON. */
static bool transient(int res, const struct api_reply *reply)
{
	if (res < 0)
		return res != -EFBIG;	/* it would be as big again */
	return answer_transient(reply->status, reply->body, reply->len);
}

/*
 * One request with pacing and retries. 0 when an answer arrived that is not
 * worth retrying (or the retries are spent: then the last answer stays in
 * reply); -EAGAIN when the rate limits left no slot in time; else the last
 * transport error.
 */
static int perform(struct api *api, const struct ticket *t, const char *method,
		   const char *body, struct api_reply *reply)
{
	double deadline = clock_now() + api->opts.read_timeout_s;
	double reserve = api->opts.read_timeout_s / 2 < TRANSFER_RESERVE_S ?
			 api->opts.read_timeout_s / 2 : TRANSFER_RESERVE_S;
	double backoff = BACKOFF_FIRST_S, pause, started, ms;
	unsigned int failures = 0, attempt;
	char next[64];
	int res;

	for (attempt = 0;; attempt++) {
		/* a slot so late that no time is left for the transfer is none */
		if (t->pacer && pacer_acquire(t->pacer, deadline - reserve) < 0) {
			snprintf(reply->error, sizeof(reply->error),
				 "rate limited: no call allowed within %.0f s",
				 api->opts.read_timeout_s);
			return -EAGAIN;
		}
		started = clock_now();
		res = send_ticket(t, method, body, &api->opts, deadline - started,
				  reply);
		ms = (clock_now() - started) * 1000;
		if (res == 0 && answer_throttled(reply->status, reply->body)) {
			trace_call(t, method, res, reply, ms, attempt, "; throttled");
			if (t->pacer)
				pacer_throttled(t->pacer, reply->retry_after);
			reply_reset(reply);
			continue;
		}
		if (res == 0 && t->pacer)
			pacer_succeeded(t->pacer, reply->rate_remaining,
					reply->rate_reset);
		pause = backoff * (0.5 + (double)random() / RAND_MAX);
		if (!transient(res, reply) || failures++ >= api->opts.retries ||
		    clock_now() + pause > deadline) {
			trace_call(t, method, res, reply, ms, attempt, "");
			return res;
		}
		snprintf(next, sizeof(next), "%s; retrying in %.2f s",
			 res == 0 && reply->status < 500 ? ", not JSON" : "", pause);
		trace_call(t, method, res, reply, ms, attempt, next);
		if (res == 0)
			reply_reset(reply);
		clock_sleep(pause);
		backoff = backoff * 2 < BACKOFF_CAP_S ? backoff * 2 : BACKOFF_CAP_S;
	}
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
	int adoptions = 0;
	bool retry = true;
	struct ticket t;
	int res;

	memset(reply, 0, sizeof(*reply));
	if (!e)
		return -EINVAL;
	for (;;) {
		res = prepare(api, e, path, &t, reply->error, sizeof(reply->error));
		if (res < 0)
			return res == -ENOENT ? -EACCES : res;
		generation = t.generation;
		res = perform(api, &t, method, body, reply);
		ticket_clear(&t);
		if (res < 0)
			return res == -EAGAIN ? -EAGAIN : -EIO;
		if (reply->status != 401 || !retry)
			break;
		reply_reset(reply);
		res = refresh_env(api, e, generation, reply->error,
				  sizeof(reply->error));
		if (res < 0)
			return res;
		retry = res == REFRESHED_ELSEWHERE && ++adoptions < MAX_ADOPTIONS;
	}
	res = api_errno(reply->status, reply->body);
	if (reply->status == 401)
		snprintf(reply->error, sizeof(reply->error),
			 "%s: the API rejected fresh credentials; "
			 "run: sprinklrfs auth login %s", env, env);
	else if (res == -EACCES)
		snprintf(reply->error, sizeof(reply->error),
			 "%s: the API refused the application key (HTTP %ld%s); "
			 "check the key and environment, then run: sprinklrfs "
			 "auth login %s", env, reply->status,
			 reply->status == 421 ? ": key of another environment"
					      : "", env);
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
		if (res == REFRESHED_ELSEWHERE)
			res = 0;
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

int api_pacing(struct api *api, const char *env, struct api_pacing *out)
{
	struct api_env *e = env_get(api, env);
	struct pacer_stats st;
	struct pacer *p = NULL;

	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	if (e->loaded && e->creds.key)
		p = pacer_get(e->creds.key, api->opts.rate_per_second,
			      api->opts.rate_per_hour);
	pthread_mutex_unlock(&e->lock);
	if (!p)
		return -ENOENT;
	pacer_stats(p, &st);
	out->calls_this_hour = st.calls_this_hour;
	out->waits = st.waits;
	out->waited_s = st.waited_s;
	return 0;
}

/* The one table from HTTP outcomes to errno (net/answer.c); default EIO. */
int api_errno(long status, const char *body)
{
	return answer_errno(status, body);
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
	const struct api_options defaults = API_OPTIONS_DEFAULT(CREDS_KEYRING);
	struct api_reply reply = { 0 };
	struct ticket t;
	double started;
	int res;

	res = ticket_fill(&t, c, "/api/v2/me");
	if (res < 0)
		return res;
	started = clock_now();
	res = send_ticket(&t, "GET", NULL, &defaults, defaults.read_timeout_s,
			  &reply);
	trace_call(&t, "GET", res, &reply, (clock_now() - started) * 1000, 0, "");
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
