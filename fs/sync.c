/*
 * sync.c - the search API into the index: full listings, incremental syncs,
 * single profiles.
 *
 * Concurrency: sync_state.lock protects the decision of what to run and the
 * bookkeeping; it is not held during API calls. `running` makes a sync
 * single-flight per environment: a caller that finds one running waits on
 * `done` (until `runs` moves) and shares its outcome. The index has its own
 * lock; single-profile fetches are serialised by fs_env.fetch_lock, so
 * parallel readers of one unknown id cause one call.
 *
 * Ordering and resumption: searches sort by modifiedTime ascending. A cursor
 * that expires (400 on the next page) restarts the search with
 * modifiedTime >= the last one seen, never from the beginning; profiles with
 * that same time are fetched again and re-rendered identically. Incremental
 * syncs use >= the newest seen for the same reason (ties are common).
 * Deletions are only ever concluded from a complete full listing: items not
 * marked with that listing's pass number are swept at its end. Every run
 * has a pass number of its own, which also tells a profile seen before in
 * the same run (the cursor loop guard).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fuse.h>

#include "env.h"
#include "http.h"
#include "inval.h"
#include "page.h"
#include "log.h"
#include "sync.h"

#define SEARCH_PATH "/api/v2/search/PROFILE"
#define MAX_RESTARTS 5
#define MAX_STALE_PAGES 3

struct listing {
	struct fs_env *e;
	uint64_t pass;
	int64_t newest;		/* newest modifiedTime seen by this run */
	int64_t resume_ms;	/* where to restart after a dead cursor */
	size_t seen;
	size_t changed;		/* profiles whose bytes changed */
	size_t fresh;		/* profiles first seen by this run, this page */
	int stale_pages;	/* pages in a row with nothing fresh */
	char cursor[1024];	/* next page, "" when done */
};

void sync_init(struct sync_state *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->done, NULL);
}

void sync_destroy(struct sync_state *s)
{
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
}

/* {"filter": modifiedTime >= since (when since >= 0), "sorts", "page"} */
static char *search_body(int page_size, int64_t since)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *filter, *filters, *leaf, *values, *sort, *page;
	char *text = NULL;

	if (!root)
		return NULL;
	if (since >= 0) {
		filter = cJSON_AddObjectToObject(root, "filter");
		cJSON_AddStringToObject(filter, "type", "AND");
		filters = cJSON_AddArrayToObject(filter, "filters");
		leaf = cJSON_CreateObject();
		cJSON_AddItemToArray(filters, leaf);
		cJSON_AddStringToObject(leaf, "type", "GTE");
		cJSON_AddStringToObject(leaf, "key", "modifiedTime");
		values = cJSON_AddArrayToObject(leaf, "values");
		cJSON_AddItemToArray(values, cJSON_CreateNumber((double)since));
	}
	sort = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "sorts"), sort);
	cJSON_AddStringToObject(sort, "key", "modifiedTime");
	cJSON_AddStringToObject(sort, "order", "ASC");
	page = cJSON_AddObjectToObject(root, "page");
	cJSON_AddNumberToObject(page, "start", 0);
	cJSON_AddNumberToObject(page, "size", page_size);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* Puts one profile; a changed one is invalidated in the kernel's caches. */
static int put_profile(struct listing *l, const cJSON *profile, int64_t *mt)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(profile, "id");
	struct idx_item *before = NULL, *after = NULL;
	int res;

	if (cJSON_IsString(id) && idx_id_valid(id->valuestring))
		before = idx_find(l->e->idx, id->valuestring);
	if (!before || before->seen != l->pass)
		l->fresh++;
	res = idx_put(l->e->idx, profile, l->pass, mt);
	if (res == 0 && before) {
		after = idx_find(l->e->idx, before->id);
		if (after != before) {
			l->changed++;
			inval_post("/%s/profiles/%s.json", l->e->name, before->id);
		}
	} else if (res == 0) {
		l->changed++;
	}
	idx_item_unref(before);
	idx_item_unref(after);
	return res;
}

static void put_results(struct listing *l, const cJSON *results)
{
	const cJSON *profile;
	size_t skipped = 0;
	int64_t mt;

	cJSON_ArrayForEach(profile, results) {
		if (put_profile(l, profile, &mt) < 0) {
			skipped++;
			continue;
		}
		l->seen++;
		if (mt > l->newest)
			l->newest = mt;
		if (mt > l->resume_ms)
			l->resume_ms = mt;
	}
	if (skipped)
		log_warn("%s: skipping %zu profile(s) whose id cannot be a file "
			 "name", l->e->name, skipped);
}

/*
 * A cursor that repeats, or pages that bring nothing new again and again,
 * would make a listing run forever: it stops with EIO instead.
 */
static int check_loop(struct listing *l, const char *previous, size_t results)
{
	l->stale_pages = results && !l->fresh ? l->stale_pages + 1 : 0;
	if ((l->cursor[0] && strcmp(l->cursor, previous) == 0) ||
	    l->stale_pages >= MAX_STALE_PAGES) {
		env_note_error(l->e, "%s: the search API's cursor loop: the "
			       "same pages again and again; listing stopped",
			       l->e->name);
		return -EIO;
	}
	return 0;
}

static int ingest_page(struct listing *l, struct api_reply *reply)
{
	const cJSON *results;
	char previous[sizeof(l->cursor)];
	cJSON *root;
	int res;

	res = page_parse(reply->body, reply->len, &root, &results);
	if (res < 0) {
		env_note_error(l->e, "%s: unusable search page (%s)", l->e->name,
			       res == -EBADMSG ? "an errors array" : "not a page");
		return -EIO;
	}
	snprintf(previous, sizeof(previous), "%s", l->cursor);
	l->fresh = 0;
	put_results(l, results);
	page_cursor(root, l->cursor, sizeof(l->cursor));
	res = check_loop(l, previous, (size_t)cJSON_GetArraySize(results));
	cJSON_Delete(root);
	return res;
}

static int first_page(struct listing *l, int64_t since, struct api_reply *reply)
{
	char *body = search_body(l->e->fs->opts.page_size, since);
	int res;

	if (!body)
		return -ENOMEM;
	res = env_call(l->e, "search", "POST", SEARCH_PATH, body, reply);
	free(body);
	return res;
}

static int next_page(struct listing *l, struct api_reply *reply)
{
	char *esc = http_escape(l->cursor);
	char path[2048];
	int res;

	if (!esc)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s?id=%s", SEARCH_PATH, esc);
	free(esc);
	res = env_call(l->e, "search-next", "GET", path, NULL, reply);
	return res;
}

/* Follows cursors from a search for modifiedTime >= since (all: -1). */
static int run_listing(struct listing *l, int64_t since)
{
	struct api_reply reply;
	int restarts = 0;
	int res;

	res = first_page(l, since, &reply);
	for (;;) {
		if (res == 0)
			res = ingest_page(l, &reply);
		else if (reply.status == 400 && l->cursor[0] &&
			 restarts++ < MAX_RESTARTS) {
			log_info("%s: search cursor expired; resuming from "
				 "modifiedTime %lld", l->e->name,
				 (long long)l->resume_ms);
			api_reply_free(&reply);
			l->cursor[0] = '\0';
			res = first_page(l, l->resume_ms, &reply);
			continue;
		}
		api_reply_free(&reply);
		if (res < 0 || !l->cursor[0])
			return res;
		res = next_page(l, &reply);
	}
}

/* Drops what a full listing did not see; each removal is invalidated. */
static size_t sweep(struct fs_env *e, uint64_t pass)
{
	struct idx_snapshot *before = idx_snapshot(e->idx);
	size_t i, removed = idx_sweep(e->idx, pass);
	struct idx_item *item;

	for (i = 0; removed && before && i < idx_snapshot_count(before); i++) {
		const char *id = idx_snapshot_item(before, i)->id;

		item = idx_find(e->idx, id);
		if (!item)
			inval_post("/%s/profiles/%s.json", e->name, id);
		idx_item_unref(item);
	}
	idx_snapshot_unref(before);
	if (removed)
		log_info("%s: %zu profile(s) deleted at Sprinklr", e->name, removed);
	return removed;
}

static int run_sync(struct fs_env *e, bool full, uint64_t pass, int64_t since)
{
	struct listing l = { .e = e, .pass = pass, .newest = since,
			     .resume_ms = since < 0 ? 0 : since };
	size_t removed;
	int res;

	res = run_listing(&l, full ? -1 : since);
	if (res < 0)
		return res;
	removed = full ? sweep(e, pass) : 0;
	if (l.changed || removed) {
		inval_post("/%s", e->name);
		inval_post("/%s/profiles", e->name);
		inval_post("/%s/profiles.ndjson", e->name);
	}
	pthread_mutex_lock(&e->sync.lock);
	if (l.newest > e->sync.newest_ms)
		e->sync.newest_ms = l.newest;
	pthread_mutex_unlock(&e->sync.lock);
	return 0;
}

/* With s->lock held: 2 for a full listing, 1 for an incremental one, 0. */
static int due(const struct fs_env *e, enum sync_mode mode)
{
	const struct sync_state *s = &e->sync;
	double now = env_now();

	if (!s->complete || s->want_full || mode == SYNC_FULL ||
	    now - s->last_full >= e->fs->opts.full_sync)
		return 2;
	if (mode == SYNC_NOW || now - s->last_sync >= e->fs->opts.ttl)
		return 1;
	return 0;
}

static void finish(struct fs_env *e, bool full, int res)
{
	struct sync_state *s = &e->sync;

	pthread_mutex_lock(&s->lock);
	s->running = false;
	s->runs++;
	s->last_result = res;
	s->last_sync = env_now();
	s->last_sync_wall = time(NULL);
	s->stale = res < 0;
	if (res == 0 && full) {
		s->complete = true;
		s->last_full = s->last_sync;
		s->last_full_wall = s->last_sync_wall;
	} else if (res < 0 && full) {
		s->want_full = s->complete;
	}
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
	env_status_changed(e);
}

/* Stale-if-error: with a complete index, a failed sync serves what we have. */
static int outcome(struct fs_env *e, int res)
{
	bool usable;

	pthread_mutex_lock(&e->sync.lock);
	usable = e->sync.complete;
	pthread_mutex_unlock(&e->sync.lock);
	if (res < 0 && usable && res != -EACCES)
		return 0;
	return res;
}

/* A reader asked to stop (a signal) leaves; the sync it waited for goes on. */
static bool interrupted(void)
{
	return fuse_get_context() && fuse_interrupted();
}

/* With s->lock held: waits until run number `runs` has finished. */
static int wait_for_run(struct sync_state *s, unsigned long runs)
{
	struct timespec until;

	while (s->runs == runs) {
		if (interrupted())
			return -EINTR;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->done, &s->lock, &until);
	}
	return 0;
}

int sync_profiles(struct fs_env *e, enum sync_mode mode)
{
	struct sync_state *s = &e->sync;
	unsigned long runs;
	int64_t since;
	uint64_t pass;
	int kind, res;

	pthread_mutex_lock(&s->lock);
	while (s->running) {
		runs = s->runs;
		if (wait_for_run(s, runs) < 0) {
			pthread_mutex_unlock(&s->lock);
			return -EINTR;
		}
		if (mode == SYNC_IF_DUE) {
			res = s->last_result;
			pthread_mutex_unlock(&s->lock);
			return outcome(e, res);
		}
	}
	kind = due(e, mode);
	if (kind == 0) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	s->running = true;
	if (kind == 2)
		s->want_full = false;
	pass = ++s->pass;
	since = s->newest_ms;
	pthread_mutex_unlock(&s->lock);
	res = run_sync(e, kind == 2, pass, since);
	finish(e, kind == 2, res);
	return mode == SYNC_IF_DUE ? outcome(e, res) : res;
}

void sync_request_full(struct fs_env *e)
{
	pthread_mutex_lock(&e->sync.lock);
	e->sync.want_full = true;
	pthread_mutex_unlock(&e->sync.lock);
}

static uint64_t current_pass(struct fs_env *e)
{
	uint64_t pass;

	pthread_mutex_lock(&e->sync.lock);
	pass = e->sync.pass;
	pthread_mutex_unlock(&e->sync.lock);
	return pass;
}

/* GET one profile (by id or by channel) into the index. */
static int fetch_one(struct fs_env *e, const char *endpoint, const char *path,
		     const char *missing_key)
{
	struct api_reply reply;
	const cJSON *data;
	cJSON *root;
	int64_t mt;
	int res;

	if (env_is_missing(e, missing_key))
		return -ENOENT;
	res = env_call(e, endpoint, "GET", path, NULL, &reply);
	if (res == -ENOENT)
		env_set_missing(e, missing_key);
	if (res < 0)
		goto out_free;
	render_fix_nul_escapes(reply.body, reply.len);
	root = cJSON_ParseWithLength(reply.body, reply.len);
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	res = cJSON_IsObject(data) ? idx_put(e->idx, data, current_pass(e), &mt)
				   : -EIO;
	if (res < 0)
		env_note_error(e, "%s: unusable answer from %s", e->name, endpoint);
	cJSON_Delete(root);
out_free:
	api_reply_free(&reply);
	return res < 0 && res != -ENOENT && res != -EACCES ? -EIO : res;
}

int sync_fetch_profile(struct fs_env *e, const char *id)
{
	struct idx_item *item;
	char path[64 + IDX_ID_MAX];
	int res = 0;

	pthread_mutex_lock(&e->fetch_lock);
	item = idx_find(e->idx, id);
	if (!item) {
		snprintf(path, sizeof(path), "/api/v2/profile/%s", id);
		res = fetch_one(e, "profile", path, id);
	}
	idx_item_unref(item);
	pthread_mutex_unlock(&e->fetch_lock);
	return res;
}

int sync_fetch_channel(struct fs_env *e, const char *type,
		       const char *channel_id)
{
	char *esc_type = http_escape(type);
	char *esc_id = http_escape(channel_id);
	char path[1024], key[IDX_ID_MAX + 1];
	struct idx_item *item;
	int res = -ENOMEM;

	pthread_mutex_lock(&e->fetch_lock);
	item = idx_find_channel(e->idx, type, channel_id);
	if (item) {
		res = 0;
	} else if (esc_type && esc_id) {
		snprintf(path, sizeof(path),
			 "/api/v2/profile?snType=%s&snUserId=%s", esc_type, esc_id);
		snprintf(key, sizeof(key), "%s/%s", type, channel_id);
		res = fetch_one(e, "profile-by-channel", path, key);
	}
	idx_item_unref(item);
	pthread_mutex_unlock(&e->fetch_lock);
	free(esc_type);
	free(esc_id);
	return res;
}

void sync_info(struct fs_env *e, struct sync_info *info)
{
	struct sync_state *s = &e->sync;

	pthread_mutex_lock(&s->lock);
	if (s->stale)
		info->state = "stale";
	else if (s->complete)
		info->state = "complete";
	else if (s->running)
		info->state = "listing";
	else
		info->state = "never";
	info->last_sync = s->last_sync_wall;
	info->last_full = s->last_full_wall;
	info->newest_ms = s->newest_ms;
	pthread_mutex_unlock(&s->lock);
}
