/*
 * fetch.c - one profile by id or by channel (see fetch.h).
 *
 * Concurrency: `lock` is held across a fetch, network included, so that
 * parallel readers of one unknown id cause one call; it also protects the
 * negative cache of ids the API said do not exist.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "auth/base/clock.h"
#include "auth/net/http.h"
#include "fs/store/render.h"
#include "fs/sync/fetch.h"
#include "fs/sync/state.h"

#define MISSING_MAX 1024

struct fetch {
	struct remote *remote;
	struct store *store;
	double ttl;
	pthread_mutex_t lock;		/* held across a fetch */
	GHashTable *missing;		/* protected by lock: key -> until */
};

struct fetch *fetch_new(struct remote *r, struct store *st, double ttl)
{
	struct fetch *f = g_new0(struct fetch, 1);

	f->remote = r;
	f->store = st;
	f->ttl = ttl;
	pthread_mutex_init(&f->lock, NULL);
	f->missing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   g_free);
	return f;
}

/* Accepts NULL. */
void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	g_hash_table_unref(f->missing);
	pthread_mutex_destroy(&f->lock);
	g_free(f);
}

/* With the lock held: whether the API said key does not exist, lately. */
static bool is_missing(struct fetch *f, const char *key)
{
	const double *until = g_hash_table_lookup(f->missing, key);

	return until && *until > clock_now();
}

static gboolean expired(gpointer key, gpointer value, gpointer now)
{
	(void)key;
	return *(double *)value <= *(double *)now;
}

/* With the lock held: remembers a confirmed 404 for ttl. When the cache is
 * full, expired entries go, and if none has, any one. */
static void set_missing(struct fetch *f, const char *key)
{
	double now = clock_now();
	GHashTableIter it;
	gpointer any;

	if (g_hash_table_size(f->missing) >= MISSING_MAX)
		g_hash_table_foreach_remove(f->missing, expired, &now);
	if (g_hash_table_size(f->missing) >= MISSING_MAX) {
		g_hash_table_iter_init(&it, f->missing);
		if (g_hash_table_iter_next(&it, &any, NULL))
			g_hash_table_iter_remove(&it);
	}
	g_hash_table_replace(f->missing, g_strdup(key),
			     g_memdup2(&(double){ now + f->ttl },
				       sizeof(double)));
}

/* With the lock held: GET one profile into the store. */
static int fetch_one(struct fetch *f, const char *endpoint, const char *path,
		     const char *missing_key)
{
	struct api_reply reply;
	const cJSON *data;
	bool changed;
	cJSON *root;
	int64_t mt;
	int res;

	if (is_missing(f, missing_key))
		return -ENOENT;
	res = remote_call(f->remote, NULL, endpoint, "GET", path, NULL,
			  &reply);
	if (res == -ENOENT)
		set_missing(f, missing_key);
	if (res < 0)
		goto out_free;
	render_fix_nul_escapes(reply.body, reply.len);
	root = cJSON_ParseWithLength(reply.body, reply.len);
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	res = cJSON_IsObject(data) ?
	      store_put(f->store, data, (uint64_t)state_get(f->store,
			STATE_PASS, 0), &mt, &changed) : -EIO;
	if (res < 0)
		remote_note_error(f->remote, "%s: unusable answer from %s",
				  remote_env(f->remote), endpoint);
	cJSON_Delete(root);
out_free:
	api_reply_free(&reply);
	if (res == -ENOENT || res == -EACCES || res == -EAGAIN)
		return res;
	return res < 0 ? -EIO : res;
}

/* 0 when the store has the profile now, -ENOENT when Sprinklr has none. */
int fetch_profile(struct fetch *f, const char *id)
{
	struct item *item;
	char *path;
	int res = 0;

	pthread_mutex_lock(&f->lock);
	item = store_find(f->store, id);
	if (!item && errno != ENOENT) {
		res = -EIO;	/* the store failed: a GET would not help */
	} else if (!item) {
		path = g_strdup_printf("/api/v2/profile/%s", id);
		res = fetch_one(f, "profile", path, id);
		g_free(path);
	}
	item_unref(item);
	pthread_mutex_unlock(&f->lock);
	return res;
}

static int fetch_by_channel(struct fetch *f, const char *type,
			    const char *channel_id)
{
	char *esc_type = http_escape(type);
	char *esc_id = http_escape(channel_id);
	char *path, *key;
	int res = -ENOMEM;

	if (esc_type && esc_id) {
		path = g_strdup_printf("/api/v2/profile?snType=%s&snUserId=%s",
				       esc_type, esc_id);
		key = g_strdup_printf("%s/%s", type, channel_id);
		res = fetch_one(f, "profile-by-channel", path, key);
		g_free(key);
		g_free(path);
	}
	free(esc_type);
	free(esc_id);
	return res;
}

int fetch_channel(struct fetch *f, const char *type, const char *channel_id)
{
	struct item *item;
	int res = 0;

	pthread_mutex_lock(&f->lock);
	item = store_find_channel(f->store, type, channel_id);
	if (!item && errno != ENOENT)
		res = -EIO;	/* the store failed: a GET would not help */
	else if (!item)
		res = fetch_by_channel(f, type, channel_id);
	item_unref(item);
	pthread_mutex_unlock(&f->lock);
	return res;
}
