/*
 * api.c - the authenticated call: pacing, retries and the call trace.
 *
 * A request runs without any lock, on a private copy of what it needs
 * (struct ticket) made from the environment's credentials in tokens_use().
 * tokens.c owns those credentials, their refresh and its locking (the essay
 * on single-flight refresh is there): on 401 a request hands the generation
 * of its token set back to tokens_rejected() and, once the set has moved on,
 * tries again.
 *
 * Every API request waits for its key's pacer (pacer.h) and is retried after
 * transient failures (transport errors, 5xx, a 200 that is not JSON) with
 * capped exponential backoff and jitter (base/retry.h); throttling answers
 * block the key and are retried too. None of this waits past read_timeout_s
 * in total, except a background call's wait for quota: it waits until its
 * share frees up or it is cancelled, and read_timeout_s counts from then.
 *
 * At log level debug every HTTP exchange leaves one line (trace_call()):
 * environment, method, path with its query string (this API never puts a
 * secret there), HTTP status or "failed", milliseconds, and which retry it
 * was. Never a header or a body: they carry the token and the key.
 *
 * The environments are a hash table under api->lock; an environment, once
 * in it, lives until api_free().
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "auth/api/api.h"
#include "auth/api/tokens.h"
#include "auth/base/clock.h"
#include "auth/base/log.h"
#include "auth/base/msg.h"
#include "auth/base/retry.h"
#include "auth/base/secret.h"
#include "auth/net/answer.h"
#include "auth/net/endpoint.h"
#include "auth/net/http.h"
#include "auth/net/pacer.h"

#define MAX_ADOPTIONS 5
#define BACKOFF_FIRST_S 0.25
#define BACKOFF_CAP_S 8.0
#define TRANSFER_RESERVE_S 10.0

struct api {
	struct api_options opts;
	pthread_mutex_t lock;
	GHashTable *envs;		/* name -> tokens_env; protected by lock */
};

/* What one request needs, copied out of the environment's credentials. */
struct ticket {
	char *url;
	const char *env;		/* for the trace */
	const char *path;		/* for the trace: the caller's */
	char *ca_file;
	char *bearer;			/* "Authorization: Bearer ..." */
	char *key;			/* "Key: ..." */
	struct pacer *pacer;		/* NULL: not paced */
	unsigned int generation;
};

static void reply_reset(struct api_reply *reply)
{
	free(reply->body);
	g_free(reply->error);
	memset(reply, 0, sizeof(*reply));
}

void api_reply_free(struct api_reply *reply)
{
	if (reply)
		reply_reset(reply);
}

static void env_free(gpointer e)
{
	tokens_env_free(e);
}

struct api *api_new(const struct api_options *opts)
{
	struct api *api = g_new0(struct api, 1);

	api->opts = *opts;
	pthread_mutex_init(&api->lock, NULL);
	api->envs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  env_free);
	return api;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	g_hash_table_destroy(api->envs);
	pthread_mutex_destroy(&api->lock);
	g_free(api);
}

static struct tokens_env *env_get(struct api *api, const char *name)
{
	struct tokens_env *e;

	if (!ep_env_valid(name))
		return NULL;
	pthread_mutex_lock(&api->lock);
	e = g_hash_table_lookup(api->envs, name);
	if (!e) {
		e = tokens_env_new(name, api->opts.creds,
				   api->opts.refresh_margin_s);
		g_hash_table_insert(api->envs, g_strdup(name), e);
	}
	pthread_mutex_unlock(&api->lock);
	return e;
}

static void ticket_clear(struct ticket *t)
{
	secret_free(t->bearer);
	secret_free(t->key);
	g_free(t->ca_file);
	g_free(t->url);
	memset(t, 0, sizeof(*t));
}

static int ticket_fill(struct ticket *t, const struct creds *c,
		       const char *path)
{
	int res;

	memset(t, 0, sizeof(*t));
	if (!c->access_token)
		return -EACCES;
	res = ep_url(c->api_url, c->env, path, &t->url);
	if (res < 0)
		return res;
	t->env = c->env;
	t->path = path;
	t->bearer = g_strconcat("Authorization: Bearer ", c->access_token,
				NULL);
	t->key = g_strconcat("Key: ", c->key, NULL);
	t->ca_file = g_strdup(c->ca_file);
	return 0;
}

/* What prepare() asks of the environment's credentials. */
struct ticket_order {
	const struct api *api;
	const char *env;
	const char *path;
	struct ticket *ticket;
};

static void limits_of(const struct api_options *o, struct pacer_limits *lim)
{
	lim->per_second = o->rate_per_second;
	lim->per_window = o->rate_per_hour;
	lim->window_s = o->rate_window_s;
	lim->background_share = o->background_share;
}

static struct pacer *pacer_of(const struct api *api, const char *key)
{
	struct pacer_limits lim;

	limits_of(&api->opts, &lim);
	return pacer_get(key, &lim);
}

/* Called by tokens_use() with the credentials locked. */
static int ticket_take(const struct creds *c, unsigned int generation,
		       void *arg)
{
	const struct ticket_order *o = arg;
	struct ticket *t = o->ticket;
	int res = ticket_fill(t, c, o->path);

	if (res < 0)
		return res;
	t->env = o->env;	/* the caller's: outlives the credentials */
	t->generation = generation;
	t->pacer = pacer_of(o->api, c->key);
	return 0;
}

/* The ticket for one request on env, with its token's generation. */
static int prepare(const struct api *api, struct tokens_env *e,
		   const char *env, const char *path, struct ticket *t,
		   char **why)
{
	struct ticket_order order = { .api = api, .env = env, .path = path,
				      .ticket = t };

	return tokens_use(e, ticket_take, &order, why);
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
	int res = http_perform(&req, &resp);

	g_free(reply->error);
	reply->error = resp.error;	/* NULL on success */
	resp.error = NULL;
	if (res < 0)
		return res;
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
	char status[24] = "failed", again[32] = "";

	if (res == 0)
		snprintf(status, sizeof(status), "%ld", reply->status);
	if (retry > 0)
		snprintf(again, sizeof(again), " (retry %u)", retry);
	log_debug("%s: %s %s %s %.0f ms%s%s%s%s", t->env, method, t->path,
		  status, ms, again, res < 0 ? ": " : "",
		  res < 0 ? msg_text(reply->error) : "", next);
}

static void trace_retry(const struct ticket *t, const char *method, int res,
			const struct api_reply *reply, double ms,
			unsigned int retry, double pause)
{
	char *next = g_strdup_printf("%s; retrying in %.2f s",
				     res == 0 && reply->status < 500 ?
				     ", not JSON" : "", pause);

	trace_call(t, method, res, reply, ms, retry, next);
	g_free(next);
}

/* Worth retrying: a transport error, a 5xx, or a 2xx that is not JSON
 * (the reader's parse tells, when there is one). */
static bool transient(int res, const struct api_reply *reply,
		      const struct api_reader *reader)
{
	if (res < 0)
		return res != -EFBIG;	/* it would be as big again */
	if (reader && reply->status >= 200 && reply->status < 300)
		return !reader->read(reader->arg, reply->body, reply->len);
	return answer_transient(reply->status, reply->body, reply->len);
}

/*
 * Waits for a slot of the key's pacer: 0, -EAGAIN when none comes in time,
 * -ECANCELED. A background call waits as long as its share takes, and its
 * deadline moves on by as much.
 */
static int pace(const struct api *api, const struct ticket *t,
		const struct pacer_wait *wait, double *deadline,
		struct api_reply *reply)
{
	double timeout = api->opts.read_timeout_s, started = clock_now();
	double reserve = timeout / 2 < TRANSFER_RESERVE_S ? timeout / 2
							  : TRANSFER_RESERVE_S;
	bool background = wait && wait->background;
	int res;

	if (!t->pacer)
		return 0;
	/* a slot so late that no time is left for the transfer is none */
	res = pacer_acquire(t->pacer, wait, background ? HUGE_VAL
						       : *deadline - reserve);
	if (res == 0 && background)
		*deadline += clock_now() - started;
	if (res == -EAGAIN)
		msg_set(&reply->error, "rate limited: no call allowed within "
			"%.0f s", timeout);
	else if (res == -ECANCELED)
		msg_set(&reply->error, "stopped while waiting for quota");
	return res;
}

/* One exchange until the deadline; *ms is how long it took. */
static int exchange(const struct api *api, const struct ticket *t,
		    const char *method, const char *body, double deadline,
		    struct api_reply *reply, double *ms)
{
	double started = clock_now();
	int res = send_ticket(t, method, body, &api->opts, deadline - started,
			      reply);

	*ms = (clock_now() - started) * 1000;
	return res;
}

/* A throttling answer: the key waits, and the call is made again. */
static bool throttled(const struct ticket *t, const char *method, int res,
		      struct api_reply *reply, double ms, unsigned int attempt)
{
	if (res < 0 || !answer_throttled(reply->status, reply->body))
		return false;
	trace_call(t, method, res, reply, ms, attempt, "; throttled");
	if (t->pacer)
		pacer_throttled(t->pacer, reply->retry_after);
	reply_reset(reply);
	return true;
}

/*
 * One request with pacing and retries. 0 when an answer arrived that is not
 * worth retrying (or the retries are spent: then the last answer stays in
 * reply); -EAGAIN when the rate limits left no slot in time; -ECANCELED
 * when the wait for one was cancelled; else the last transport error.
 */
static int perform(struct api *api, const struct ticket *t,
		   const struct pacer_wait *wait,
		   const struct api_reader *reader, const char *method,
		   const char *body, struct api_reply *reply)
{
	double deadline = clock_now() + api->opts.read_timeout_s;
	struct retry retry = {
		.pause = BACKOFF_FIRST_S, .factor = 2, .cap = BACKOFF_CAP_S,
		.left = api->opts.retries, .deadline = deadline, .jitter = true,
	};
	unsigned int attempt;
	double ms, pause;
	int res;

	for (attempt = 0;; attempt++) {
		res = pace(api, t, wait, &deadline, reply);
		if (res < 0)
			return res;
		retry.deadline = deadline;
		res = exchange(api, t, method, body, deadline, reply, &ms);
		if (throttled(t, method, res, reply, ms, attempt))
			continue;
		if (res == 0 && t->pacer)
			pacer_succeeded(t->pacer, reply->rate_remaining,
					reply->rate_reset);
		pause = transient(res, reply, reader) ? retry_pause(&retry)
						      : -1;
		if (pause < 0) {
			trace_call(t, method, res, reply, ms, attempt, "");
			return res;
		}
		trace_retry(t, method, res, reply, ms, attempt, pause);
		if (res == 0)
			reply_reset(reply);
		clock_sleep(pause);
	}
}

/* Sends until the answer is not a 401 to a token set since replaced. */
static int call_tokens(struct api *api, struct tokens_env *e, const char *env,
		       const struct pacer_wait *wait,
		       const struct api_reader *reader, const char *method,
		       const char *path, const char *body,
		       struct api_reply *reply)
{
	unsigned int generation;
	int adoptions = 0;
	bool retry = true;
	struct ticket t;
	int res;

	for (;;) {
		res = prepare(api, e, env, path, &t, &reply->error);
		if (res < 0)
			return res == -ENOENT ? -EACCES : res;
		generation = t.generation;
		res = perform(api, &t, wait, reader, method, body, reply);
		ticket_clear(&t);
		if (res < 0)
			return res == -EAGAIN || res == -ECANCELED ? res : -EIO;
		if (reply->status != 401 || !retry)
			return 0;
		reply_reset(reply);
		res = tokens_rejected(e, generation, &reply->error);
		if (res < 0)
			return res;
		retry = res == TOKENS_REFRESHED_ELSEWHERE &&
			++adoptions < MAX_ADOPTIONS;
	}
}

/* The answer's errno, and what it means for the logs. */
static int judge(const char *env, const char *method, const char *path,
		 struct api_reply *reply)
{
	int res = api_errno(reply->status, reply->body);

	if (reply->status == 401)
		msg_set(&reply->error, "%s: the API rejected fresh credentials; "
			"run: sprinklrfs auth login %s", env, env);
	else if (res == -EACCES)
		msg_set(&reply->error, "%s: the API refused the application key "
			"(HTTP %ld%s); check the key and environment, then run: "
			"sprinklrfs auth login %s", env, reply->status,
			reply->status == 421 ? ": key of another environment"
			: answer_refusal_note(reply->status, reply->body), env);
	else if (res < 0)
		msg_set(&reply->error, "%s %s: HTTP %ld", method, path,
			reply->status);
	return res;
}

/* A foreground call. */
int api_call(struct api *api, const char *env, const char *method,
	     const char *path, const char *body, struct api_reply *reply)
{
	return api_call_as(api, env, NULL, NULL, method, path, body, reply);
}

/* A call that waits for quota as `wait` says (NULL: foreground), its
 * answers read by `reader` (NULL: parsed here to tell they are JSON). */
int api_call_as(struct api *api, const char *env,
		const struct pacer_wait *wait, const struct api_reader *reader,
		const char *method, const char *path, const char *body,
		struct api_reply *reply)
{
	struct tokens_env *e = env_get(api, env);
	int res;

	memset(reply, 0, sizeof(*reply));
	if (!e)
		return -EINVAL;
	res = call_tokens(api, e, env, wait, reader, method, path, body,
			  reply);
	if (res < 0)
		return res;
	return judge(env, method, path, reply);
}

/* A new token set now; why may be NULL. */
int api_refresh(struct api *api, const char *env, char **why)
{
	struct tokens_env *e = env_get(api, env);
	char *reason = NULL;
	int res;

	if (!e)
		return -EINVAL;
	res = tokens_refresh(e, &reason);
	if (res < 0)
		msg_set(why, "%s", msg_text(reason));
	g_free(reason);
	return res;
}

/* Accepts a zeroed or cleared info. */
void api_env_info_clear(struct api_env_info *info)
{
	g_free(info->user_name);
	g_free(info->user_type);
	g_free(info->api_url);
	memset(info, 0, sizeof(*info));
}

/* Fills a zeroed info, or replaces what a previous fill left. */
static void env_info_fill(const struct creds *c, void *arg)
{
	struct api_env_info *info = arg;

	api_env_info_clear(info);
	info->user_name = g_strdup(c->user_name ? c->user_name : "");
	info->user_type = g_strdup(c->user_type ? c->user_type : "");
	info->api_url = g_strdup(c->api_url ? c->api_url : "");
	info->expires_at = c->expires_at;
	info->refreshed_at = c->refreshed_at;
	info->needs_login = c->needs_login;
}

int api_env_info(struct api *api, const char *env, struct api_env_info *info)
{
	struct tokens_env *e = env_get(api, env);

	if (!e)
		return -EINVAL;
	return tokens_inspect(e, env_info_fill, info);
}

int api_pacing(struct api *api, const char *env, struct api_pacing *out)
{
	struct tokens_env *e = env_get(api, env);
	struct pacer_stats st;
	struct pacer *p = NULL;
	char *key;

	if (!e)
		return -EINVAL;
	key = tokens_key(e);
	if (key)
		p = pacer_of(api, key);
	g_free(key);
	if (!p)
		return -ENOENT;
	pacer_stats(p, &st);
	out->limit = api->opts.rate_per_hour;
	out->window_s = api->opts.rate_window_s;
	out->calls_this_hour = st.calls_this_hour;
	out->background_calls = st.background_calls;
	out->reserve = st.reserve;
	out->background_cap = pacer_background_cap(api->opts.rate_per_hour,
						   api->opts.background_share);
	out->waits = st.waits;
	out->waited_s = st.waited_s;
	out->background_until = st.background_until;
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

/*
 * GET /api/v2/me with exactly these credentials: nothing is loaded or
 * stored, nothing refreshed.
 * *name and *type are malloc'd; why may be NULL.
 */
int api_whoami(const struct creds *c, char **name, char **type, char **why)
{
	const struct api_options defaults = API_OPTIONS_DEFAULT(CREDS_KEYRING);
	struct api_reply reply = { 0 };
	struct ticket t;
	double started;
	int res = ticket_fill(&t, c, "/api/v2/me");

	if (res < 0)
		return res;
	started = clock_now();
	res = send_ticket(&t, "GET", NULL, &defaults, defaults.read_timeout_s,
			  &reply);
	trace_call(&t, "GET", res, &reply, (clock_now() - started) * 1000, 0, "");
	ticket_clear(&t);
	if (res < 0) {
		msg_set(why, "%s", msg_text(reply.error));
		goto out_free_reply;
	}
	res = api_errno(reply.status, reply.body);
	if (res == 0)
		res = parse_me(&reply, name, type);
	if (res < 0)
		msg_set(why, "GET /api/v2/me answered HTTP %ld%s", reply.status,
			res == -EPROTO ? " with an unreadable body"
			: answer_refusal_note(reply.status, reply.body));
out_free_reply:
	reply_reset(&reply);
	return res;
}
