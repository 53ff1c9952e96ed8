/*
 * env.c - making and finding the mounted environments.
 *
 * The sync layer's hooks go to the layer above, except that a change of
 * status also marks the environment's .status.json for a new rendering
 * here first (its bytes are kept: their time stays if nothing changed).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/base/clock.h"
#include "auth/base/log.h"
#include "fs/view/env.h"

static void status_changed(void *arg, const char *name)
{
	struct view *v = arg;
	struct view_env *e = view_find_env(v, name, strlen(name));

	if (e) {
		pthread_mutex_lock(&e->lock);
		e->status_stale = true;
		pthread_mutex_unlock(&e->lock);
	}
	if (v->upper.status_changed)
		v->upper.status_changed(v->upper.arg, name);
}

/* The sync layer calls the view's hooks, which call the layer above's. */
static void forward_profile(void *arg, const char *env, const char *id)
{
	struct view *v = arg;

	v->upper.profile_changed(v->upper.arg, env, id);
}

static void forward_profiles(void *arg, const char *env)
{
	struct view *v = arg;

	v->upper.profiles_changed(v->upper.arg, env);
}

static void forward_documents(void *arg, const char *env)
{
	struct view *v = arg;

	v->upper.documents_changed(v->upper.arg, env);
}

static bool forward_interrupted(void *arg)
{
	struct view *v = arg;

	return v->upper.interrupted(v->upper.arg);
}

static void set_forwards(struct view *v)
{
	v->hooks.profile_changed = v->upper.profile_changed ? forward_profile
							     : NULL;
	v->hooks.profiles_changed = v->upper.profiles_changed ?
				    forward_profiles : NULL;
	v->hooks.documents_changed = v->upper.documents_changed ?
				     forward_documents : NULL;
	v->hooks.interrupted = v->upper.interrupted ? forward_interrupted
						     : NULL;
}

struct view *view_new(const struct view_config *cfg, struct api *api,
		      const struct sync_hooks *hooks)
{
	struct view *v = g_new0(struct view, 1);

	v->cfg = *cfg;
	v->api = api;
	if (hooks)
		v->upper = *hooks;
	v->hooks.status_changed = status_changed;
	set_forwards(v);
	v->hooks.arg = v;
	v->envs = g_ptr_array_new();
	v->started_ms = clock_wall_ms();
	return v;
}

/* The environment's store, CACHE_DIR/ENV.sqlite, opened or created. */
static int open_store(struct view *v, struct view_env *e)
{
	char *path;
	int res;

	res = g_mkdir_with_parents(v->cfg.cache_dir, 0700) < 0 ? -errno : 0;
	if (res < 0) {
		log_error("%s: cannot create %s: %s", e->name, v->cfg.cache_dir,
			  strerror(-res));
		return res;
	}
	path = g_strdup_printf("%s/%s.sqlite", v->cfg.cache_dir, e->name);
	res = store_open(path, v->cfg.memory_limit << 19, &e->store);
	if (res < 0)
		log_error("%s: cannot open the store %s: %s", e->name, path,
			  strerror(-res));
	else if (res > 0)
		log_warn("%s: %s was not a usable store; it was moved to "
			 "%s.broken and is rebuilt", e->name, path, path);
	g_free(path);
	return res < 0 ? res : 0;
}

/* Adds the environment name (a valid one, not there yet). */
int view_add_env(struct view *v, const char *name)
{
	struct view_env *e = g_new0(struct view_env, 1);
	int res;

	g_strlcpy(e->name, name, sizeof(e->name));
	e->index = v->envs->len;
	e->view = v;
	res = open_store(v, e);
	if (res < 0) {
		g_free(e);
		return res;
	}
	e->remote = remote_new(v->api, name, &v->hooks);
	e->sync = sync_new(e->remote, e->store, &v->cfg.sync, &v->hooks);
	e->docs = docs_new(e->remote, e->store, v->cfg.sync.doc_ttl,
			   &v->hooks);
	e->fetch = fetch_new(e->remote, e->store, v->cfg.sync.ttl);
	pthread_mutex_init(&e->lock, NULL);
	g_ptr_array_add(v->envs, e);
	return 0;
}

static void env_free(struct view_env *e)
{
	sync_stop(e->sync);
	fetch_free(e->fetch);
	docs_free(e->docs);
	sync_free(e->sync);
	remote_free(e->remote);
	store_close(e->store);
	if (e->status)
		g_bytes_unref(e->status);
	pthread_mutex_destroy(&e->lock);
	g_free(e);
}

/* Stops every environment's listing and frees everything; accepts NULL. */
void view_free(struct view *v)
{
	guint i;

	if (!v)
		return;
	for (i = 0; i < v->envs->len; i++)
		sync_stop(view_env_at(v, i)->sync);
	for (i = 0; i < v->envs->len; i++)
		env_free(view_env_at(v, i));
	g_ptr_array_unref(v->envs);
	g_free(v);
}

struct view_env *view_find_env(const struct view *v, const char *name,
			       size_t len)
{
	struct view_env *e;
	guint i;

	for (i = 0; i < v->envs->len; i++) {
		e = view_env_at(v, i);
		if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
			return e;
	}
	return NULL;
}

/*
 * What `sprinklrfs sync` asks of an environment (fs/fuse/control.h): the
 * sync of mode, then the documents again for SYNC_NOW and SYNC_FULL
 * (nothing else refreshes them before doc_ttl); the number of profiles
 * stored goes in *profiles.
 */
int view_sync_env(struct view_env *e, enum sync_mode mode, size_t *profiles)
{
	int res = sync_profiles(e->sync, mode);

	if (res == 0 && mode != SYNC_COMPLETE)
		res = docs_refresh(e->docs);
	if (res == 0)
		*profiles = store_count(e->store);
	return res;
}

size_t view_env_count(const struct view *v)
{
	return v->envs->len;
}

struct view_env *view_env_at(const struct view *v, size_t i)
{
	return g_ptr_array_index(v->envs, i);
}
