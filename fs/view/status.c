/*
 * status.c - render .status.json from the environment's bookkeeping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "auth/base/clock.h"
#include "fs/store/render.h"
#include "fs/view/status.h"

#define FRESH_S 1.0

static void add_time(cJSON *obj, const char *name, int64_t t)
{
	time_t tt = (time_t)t;
	char buf[32];
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	cJSON_AddStringToObject(obj, name, buf);
}

static void add_credentials(cJSON *root, struct view_env *e)
{
	struct api_env_info info = { 0 };

	if (api_env_info(e->view->api, e->name, &info) < 0) {
		cJSON_AddNullToObject(root, "user");
		cJSON_AddNullToObject(root, "token_expires_at");
		cJSON_AddNullToObject(root, "last_refresh");
		cJSON_AddBoolToObject(root, "needs_login", 1);
		return;
	}
	cJSON_AddStringToObject(root, "user", info.user_name);
	add_time(root, "token_expires_at", info.expires_at);
	add_time(root, "last_refresh", info.refreshed_at);
	cJSON_AddBoolToObject(root, "needs_login", info.needs_login);
	api_env_info_clear(&info);
}

static void add_calls(cJSON *root, struct view_env *e)
{
	cJSON *calls = cJSON_AddObjectToObject(root, "calls");
	GArray *counts = remote_counts(e->remote);
	const struct remote_count *c;
	char status[24];
	cJSON *by_status;
	guint i;

	for (i = 0; i < counts->len; i++) {
		c = &g_array_index(counts, struct remote_count, i);
		by_status = cJSON_GetObjectItemCaseSensitive(calls, c->endpoint);
		if (!by_status)
			by_status = cJSON_AddObjectToObject(calls, c->endpoint);
		snprintf(status, sizeof(status), "%ld", c->status);
		cJSON_AddNumberToObject(by_status, status, (double)c->count);
	}
	g_array_unref(counts);
}

static void add_progress(cJSON *sync, const struct sync_info *info,
			 size_t profiles)
{
	cJSON *p;

	if (!info->listing) {
		cJSON_AddNullToObject(sync, "progress");
		return;
	}
	p = cJSON_AddObjectToObject(sync, "progress");
	cJSON_AddNumberToObject(p, "profiles_synced", (double)profiles);
	cJSON_AddNumberToObject(p, "calls", (double)info->calls);
	cJSON_AddNumberToObject(p, "fraction",
				(double)(long)(info->fraction * 1000) / 1000);
	add_time(p, "estimated_end", info->estimated_end);
}

static void add_sync(cJSON *root, struct view_env *e)
{
	cJSON *sync = cJSON_AddObjectToObject(root, "sync");
	size_t profiles = store_count(e->store);
	struct sync_info info;

	sync_info(e->sync, &info);
	cJSON_AddStringToObject(sync, "state", info.state);
	cJSON_AddNumberToObject(sync, "profiles", (double)profiles);
	add_time(sync, "last_sync", info.last_sync);
	add_time(sync, "last_full_sync", info.last_full);
	cJSON_AddNumberToObject(sync, "newest_modified", (double)info.newest_ms);
	add_progress(sync, &info, profiles);
	cJSON_AddNumberToObject(sync, "page_size", info.page_size);
	add_time(sync, "waits_for_quota_until", info.quota_until);
	add_time(sync, "next_full_sync", info.next_full);
	if (info.full_cost)
		cJSON_AddNumberToObject(sync, "full_sync_cost",
					(double)info.full_cost);
	else
		cJSON_AddNullToObject(sync, "full_sync_cost");
	cJSON_AddStringToObject(sync, "store", store_path(e->store));
	cJSON_AddNumberToObject(sync, "store_bytes",
				(double)store_bytes(e->store));
}

static void add_last_error(cJSON *root, struct view_env *e)
{
	char *error = remote_last_error(e->remote);

	if (error)
		cJSON_AddStringToObject(root, "last_error", error);
	else
		cJSON_AddNullToObject(root, "last_error");
	g_free(error);
}

/* The key's budget: its window, the calls in it by class, the reserve. */
static void add_quota(cJSON *root, const struct api_pacing *pacing)
{
	cJSON *quota = cJSON_AddObjectToObject(root, "quota");
	cJSON *calls;

	cJSON_AddNumberToObject(quota, "limit", (double)pacing->limit);
	cJSON_AddNumberToObject(quota, "window_seconds", pacing->window_s);
	calls = cJSON_AddObjectToObject(quota, "calls_this_window");
	cJSON_AddNumberToObject(calls, "foreground",
				(double)(pacing->calls_this_hour -
					 pacing->background_calls));
	cJSON_AddNumberToObject(calls, "background",
				(double)pacing->background_calls);
	cJSON_AddNumberToObject(quota, "foreground_reserve",
				(double)pacing->reserve);
	cJSON_AddNumberToObject(quota, "background_limit",
				(double)pacing->background_cap);
	add_time(quota, "background_waits_until", pacing->background_until);
}

static void add_pacing(cJSON *root, struct view_env *e)
{
	struct api_pacing pacing;
	cJSON *waits;

	waits = cJSON_AddObjectToObject(root, "rate_limit_waits");
	if (api_pacing(e->view->api, e->name, &pacing) < 0)
		memset(&pacing, 0, sizeof(pacing));
	cJSON_AddNumberToObject(waits, "count", (double)pacing.waits);
	cJSON_AddNumberToObject(waits, "seconds",
				(double)(long)(pacing.waited_s * 1000) / 1000);
	cJSON_AddNumberToObject(root, "calls_this_hour",
				(double)pacing.calls_this_hour);
	add_quota(root, &pacing);
}

static GBytes *render(struct view_env *e)
{
	cJSON *root = cJSON_CreateObject();
	char *data = NULL;
	size_t size = 0;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "env", e->name);
	add_credentials(root, e);
	add_calls(root, e);
	add_pacing(root, e);
	add_sync(root, e);
	add_last_error(root, e);
	if (render_json(root, &data, &size) < 0)
		data = NULL;
	cJSON_Delete(root);
	return data ? g_bytes_new_take(data, size) : NULL;
}

/* The last rendering and its time, while fresh; with e->lock held. */
static bool reuse(struct view_env *e, double now, GBytes **out,
		  int64_t *mtime_ms)
{
	if (!e->status || e->status_stale || now - e->status_at >= FRESH_S)
		return false;
	*out = g_bytes_ref(e->status);
	*mtime_ms = e->status_mtime_ms;
	return true;
}

/* Keeps b as the last rendering, unless it holds the same bytes: then the
 * old ones stay, with their time. With e->lock held; takes b. */
static void keep(struct view_env *e, GBytes *b, double now)
{
	if (e->status && g_bytes_equal(e->status, b)) {
		g_bytes_unref(b);
	} else {
		if (e->status)
			g_bytes_unref(e->status);
		e->status = b;
		e->status_mtime_ms = clock_wall_ms();
	}
	e->status_at = now;
}

/* The current .status.json and when its bytes last changed. */
int status_get(struct view_env *e, GBytes **out, int64_t *mtime_ms)
{
	double now = clock_now();
	GBytes *b;
	bool fresh;

	pthread_mutex_lock(&e->lock);
	fresh = reuse(e, now, out, mtime_ms);
	if (!fresh)
		e->status_stale = false;	/* a change from now on is seen */
	pthread_mutex_unlock(&e->lock);
	if (fresh)
		return 0;
	b = render(e);
	if (!b)
		return -ENOMEM;
	pthread_mutex_lock(&e->lock);
	keep(e, b, now);
	*out = g_bytes_ref(e->status);
	*mtime_ms = e->status_mtime_ms;
	pthread_mutex_unlock(&e->lock);
	return 0;
}
