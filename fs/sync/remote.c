/*
 * remote.c - the counted call (see remote.h).
 *
 * Concurrency: `lock` protects the counters and the last error; it is never
 * held across an API call or a hook.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/base/log.h"
#include "fs/sync/remote.h"

struct remote {
	char *env;
	struct api *api;
	const struct sync_hooks *hooks;
	pthread_mutex_t lock;
	GArray *counts;			/* protected by lock */
	char *last_error;		/* protected by lock */
};

struct remote *remote_new(struct api *api, const char *env,
			  const struct sync_hooks *hooks)
{
	struct remote *r = g_new0(struct remote, 1);

	r->env = g_strdup(env);
	r->api = api;
	r->hooks = hooks;
	r->counts = g_array_new(FALSE, FALSE, sizeof(struct remote_count));
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

/* Accepts NULL. */
void remote_free(struct remote *r)
{
	if (!r)
		return;
	g_array_unref(r->counts);
	pthread_mutex_destroy(&r->lock);
	g_free(r->last_error);
	g_free(r->env);
	g_free(r);
}

const char *remote_env(const struct remote *r)
{
	return r->env;
}

/* .status.json is out of date. */
void remote_changed(struct remote *r)
{
	if (r->hooks && r->hooks->status_changed)
		r->hooks->status_changed(r->hooks->arg, r->env);
}

/* Whether the reader this thread serves gave up. */
bool remote_interrupted(struct remote *r)
{
	return r->hooks && r->hooks->interrupted &&
	       r->hooks->interrupted(r->hooks->arg);
}

static void count_call(struct remote *r, const char *endpoint, long status)
{
	struct remote_count *c, fresh = { endpoint, status, 1 };
	guint i;

	for (i = 0; i < r->counts->len; i++) {
		c = &g_array_index(r->counts, struct remote_count, i);
		if (c->status == status && strcmp(c->endpoint, endpoint) == 0) {
			c->count++;
			return;
		}
	}
	g_array_append_val(r->counts, fresh);
}

/* Records a problem; logs it when it differs from the previous one. */
void remote_note_error(struct remote *r, const char *fmt, ...)
{
	bool repeated;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->lock);
	repeated = g_strcmp0(text, r->last_error) == 0;
	g_free(r->last_error);
	r->last_error = g_strdup(text);
	pthread_mutex_unlock(&r->lock);
	remote_changed(r);
	if (!repeated)
		log_error("%s", text);
	g_free(text);
}

/* Records a failed call the way remote_call does. */
void remote_failed(struct remote *r, const char *endpoint,
		   const char *method, int res, const struct api_reply *reply)
{
	const char *why = reply->error && reply->error[0] ? reply->error
							 : strerror(-res);

	if (res == -ECANCELED)
		return;		/* stopped on purpose (an unmount) */
	if (res == -EACCES && strstr(why, "sprinklrfs auth login"))
		remote_note_error(r, "%s", why);
	else
		remote_note_error(r, "%s: %s %s failed: %s", r->env, method,
				  endpoint, why);
}

int remote_try(struct remote *r, const struct pacer_wait *wait,
	       const struct api_reader *reader, const char *endpoint,
	       const char *method, const char *path, const char *body,
	       struct api_reply *reply)
{
	int res = api_call_as(r->api, r->env, wait, reader, method, path, body,
			      reply);

	pthread_mutex_lock(&r->lock);
	if (reply->status)
		count_call(r, endpoint, reply->status);
	pthread_mutex_unlock(&r->lock);
	remote_changed(r);
	return res;
}

/* 0 or -errno; a failure other than ENOENT is the last error. */
int remote_call(struct remote *r, const struct pacer_wait *wait,
		const char *endpoint, const char *method, const char *path,
		const char *body, struct api_reply *reply)
{
	int res = remote_try(r, wait, NULL, endpoint, method, path, body,
			     reply);

	if (res < 0 && res != -ENOENT)
		remote_failed(r, endpoint, method, res, reply);
	return res;
}

/* A copy of the counters (struct remote_count); g_array_unref it. */
GArray *remote_counts(struct remote *r)
{
	GArray *copy;

	pthread_mutex_lock(&r->lock);
	copy = g_array_copy(r->counts);
	pthread_mutex_unlock(&r->lock);
	return copy;
}

/* The key's budget (api_pacing). */
int remote_pacing(struct remote *r, struct api_pacing *out)
{
	return api_pacing(r->api, r->env, out);
}

/* A copy of the last error, or NULL; g_free it. */
char *remote_last_error(struct remote *r)
{
	char *copy;

	pthread_mutex_lock(&r->lock);
	copy = g_strdup(r->last_error);
	pthread_mutex_unlock(&r->lock);
	return copy;
}
