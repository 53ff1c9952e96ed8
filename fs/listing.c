/*
 * listing.c - the search API's cursors into the store.
 *
 * Ordering and resumption: searches sort by modifiedTime ascending. A cursor
 * that expires (400 on the next page) restarts the search with
 * modifiedTime >= the last one seen, never from the beginning; profiles with
 * that same time are fetched again and stored identically. The same point is
 * committed with every page (state "part.K.resume"), so a listing cut short
 * by a crash or an unmount resumes there.
 *
 * A listing may run in several threads at once (partitions): each has its
 * own struct listing; the store serialises their batches.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/base/log.h"
#include "auth/net/http.h"
#include "env.h"
#include "inval.h"
#include "listing.h"
#include "page.h"

#define SEARCH_PATH "/api/v2/search/PROFILE"
#define MAX_RESTARTS 5
#define MAX_STALE_PAGES 3
#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

void listing_state_key(char *buf, size_t size, int part, const char *what)
{
	snprintf(buf, size, "part.%d.%s", part, what);
}

static void add_bound(cJSON *filters, const char *type, int64_t value)
{
	cJSON *leaf = cJSON_CreateObject();
	cJSON *values;

	cJSON_AddItemToArray(filters, leaf);
	cJSON_AddStringToObject(leaf, "type", type);
	cJSON_AddStringToObject(leaf, "key", "modifiedTime");
	values = cJSON_AddArrayToObject(leaf, "values");
	cJSON_AddItemToArray(values, cJSON_CreateNumber((double)value));
}

/* {"filter": since <= modifiedTime < until, "sorts", "page"} */
static char *search_body(int page_size, int64_t since, int64_t until)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *filter, *filters, *sort, *page;
	char *text;

	if (!root)
		return NULL;
	if (since >= 0 || until >= 0) {
		filter = cJSON_AddObjectToObject(root, "filter");
		cJSON_AddStringToObject(filter, "type", "AND");
		filters = cJSON_AddArrayToObject(filter, "filters");
		if (since >= 0)
			add_bound(filters, "GTE", since);
		if (until >= 0)
			add_bound(filters, "LT", until);
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

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	return h * FNV_PRIME;
}

/* One page on its way to the store, while the next one is fetched. */
struct page_job {
	struct listing *l;
	cJSON *root;
	const cJSON *results;
	int64_t resume_ms;	/* the listing resumes here once it is stored */
	pthread_t thread;
	bool running;
	int res;
};

static void put_profile(struct listing *l, const cJSON *profile,
			size_t *skipped)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(profile, "id");
	bool changed;
	int64_t mt;

	if (idx_put(l->e->idx, profile, l->pass, &mt, &changed) < 0) {
		(*skipped)++;
		return;
	}
	l->seen++;
	if (l->oldest < 0 || mt < l->oldest)
		l->oldest = mt;
	if (mt > l->newest)
		l->newest = mt;
	if (!changed)
		return;
	l->changed++;
	if (l->quiet)
		return;
	inval_post("/%s/profiles/%s.json", l->e->name, id->valuestring);
	/* a snapshot of profiles.ndjson holds a read transaction, which
	 * keeps the WAL from being reset: let it go at the first change
	 * (a reader that has it open keeps it) */
	inval_post("/%s/profiles.ndjson", l->e->name);
}

/* With a batch open: where to resume, the range's start, the newest time. */
static void store_progress(struct listing *l, int64_t resume_ms)
{
	struct idx *idx = l->e->idx;
	char key[64];
	int64_t v;

	if (l->part >= 0) {
		listing_state_key(key, sizeof(key), l->part, "resume");
		idx_state_set(idx, key, resume_ms);
	}
	/* the start of the range, for the progress of a single cursor */
	if (l->part == 0 && l->oldest >= 0 &&
	    (idx_state_get(idx, "full.oldest", &v) < 0 || v < 0))
		idx_state_set(idx, "full.oldest", l->oldest);
	if (idx_state_get(idx, "newest_ms", &v) < 0 || l->newest > v)
		idx_state_set(idx, "newest_ms", l->newest);
}

/* Stores one page and where to resume, in one batch (a thread of its own). */
static void *store_page(void *arg)
{
	struct page_job *job = arg;
	struct listing *l = job->l;
	const cJSON *profile;
	size_t skipped = 0;

	job->res = idx_begin(l->e->idx);
	if (job->res < 0)
		return NULL;
	cJSON_ArrayForEach(profile, job->results)
		put_profile(l, profile, &skipped);
	store_progress(l, job->resume_ms);
	job->res = idx_commit(l->e->idx);
	if (skipped)
		log_warn("%s: skipping %zu profile(s) whose id cannot be a file "
			 "name", l->e->name, skipped);
	if (job->res == 0)
		sync_page_done(l->e, l);
	return NULL;
}

/* Waits for the page being stored; its outcome. */
static int finish_store(struct listing *l, struct page_job *job)
{
	if (!job->running)
		return 0;
	pthread_join(job->thread, NULL);
	job->running = false;
	cJSON_Delete(job->root);
	job->root = NULL;
	if (job->res < 0) {
		env_note_error(l->e, "%s: cannot write the store %s: %s",
			       l->e->name, idx_path(l->e->idx),
			       strerror(-job->res));
		return -EIO;
	}
	return 0;
}

/* Hands a parsed page to the store, after the previous one is in. */
static int start_store(struct listing *l, struct page_job *job, cJSON *root,
		       const cJSON *results)
{
	int res = finish_store(l, job);

	if (res < 0) {
		cJSON_Delete(root);
		return res;
	}
	job->l = l;
	job->root = root;
	job->results = results;
	job->resume_ms = l->resume_ms;
	job->running = pthread_create(&job->thread, NULL, store_page, job) == 0;
	if (!job->running) {
		store_page(job);
		job->root = NULL;
		cJSON_Delete(root);
		return job->res < 0 ? -EIO : 0;
	}
	return 0;
}

/* The page's newest modifiedTime moves the resume point. */
static void note_times(struct listing *l, const cJSON *results)
{
	const cJSON *profile, *mt;
	int64_t t;

	cJSON_ArrayForEach(profile, results) {
		mt = cJSON_GetObjectItemCaseSensitive(profile, "modifiedTime");
		if (cJSON_IsNumber(mt) && render_int64(mt, &t) &&
		    t > l->resume_ms)
			l->resume_ms = t;
	}
}

/* A hash of the page's ids: the same page again hashes the same. */
static uint64_t page_hash(const cJSON *results)
{
	const cJSON *profile, *id;
	uint64_t h = FNV_OFFSET;

	cJSON_ArrayForEach(profile, results) {
		id = cJSON_GetObjectItemCaseSensitive(profile, "id");
		if (cJSON_IsString(id))
			h = fnv(h, id->valuestring);
	}
	return h;
}

/*
 * A cursor that repeats, or the same page again and again, would make a
 * listing run forever: it stops with EIO instead, and the listing that
 * follows distrusts where this one got to.
 */
static int check_loop(struct listing *l, const char *previous,
		      const cJSON *results)
{
	uint64_t h = page_hash(results);

	l->stale_pages = cJSON_GetArraySize(results) && h == l->page_hash ?
			 l->stale_pages + 1 : 0;
	l->page_hash = h;
	if ((l->cursor[0] && strcmp(l->cursor, previous) == 0) ||
	    l->stale_pages >= MAX_STALE_PAGES) {
		env_note_error(l->e, "%s: the search API's cursor loop: the "
			       "same pages again and again; listing stopped",
			       l->e->name);
		l->distrust = true;
		return -EIO;
	}
	return 0;
}

/* Parses a page, takes its cursor and hands its profiles to the store. */
static int take_page(struct listing *l, struct api_reply *reply,
		     struct page_job *job)
{
	const cJSON *results;
	char previous[sizeof(l->cursor)];
	cJSON *root;
	int res;

	res = page_parse(reply->body, reply->len, &root, &results);
	if (res < 0) {
		env_note_error(l->e, "%s: unusable search page (%s)", l->e->name,
			       res == -EBADMSG ? "an errors array" : "not a page");
		l->distrust = true;
		return -EIO;
	}
	snprintf(previous, sizeof(previous), "%s", l->cursor);
	page_cursor(root, l->cursor, sizeof(l->cursor));
	res = check_loop(l, previous, results);
	if (res < 0) {
		cJSON_Delete(root);
		return res;
	}
	note_times(l, results);
	return start_store(l, job, root, results);
}

static int first_page(struct listing *l, int page_size, int64_t since,
		      struct api_reply *reply)
{
	char *body = search_body(page_size, since, l->to);
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

	if (!esc)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s?id=%s", SEARCH_PATH, esc);
	free(esc);
	return env_call(l->e, "search-next", "GET", path, NULL, reply);
}

/*
 * Pages are pipelined: while one is being stored, the next is fetched; at
 * most one page waits for the store.
 */
int listing_run(struct listing *l)
{
	int page_size = l->e->fs->opts.page_size;
	struct page_job job = { .running = false };
	struct api_reply reply;
	int restarts = 0;
	int res, stored;

	if (l->resume_ms < l->from)
		l->resume_ms = l->from;
	res = first_page(l, page_size, l->resume_ms, &reply);
	for (;;) {
		if (res == 0)
			res = take_page(l, &reply, &job);
		else if (reply.status == 400 && l->cursor[0] &&
			 restarts++ < MAX_RESTARTS) {
			log_info("%s: search cursor expired; resuming from "
				 "modifiedTime %lld", l->e->name,
				 (long long)l->resume_ms);
			api_reply_free(&reply);
			l->cursor[0] = '\0';
			res = first_page(l, page_size, l->resume_ms, &reply);
			continue;
		}
		api_reply_free(&reply);
		if (res < 0 || !l->cursor[0])
			break;
		if (sync_stopping(l->e)) {
			res = -ECANCELED;
			break;
		}
		res = next_page(l, &reply);
	}
	stored = finish_store(l, &job);
	return res < 0 ? res : stored;
}

/* The oldest modifiedTime at Sprinklr (one call), or -ENODATA when none. */
int listing_probe(struct fs_env *e, int64_t *oldest_ms)
{
	struct listing l = { .e = e, .part = -1, .from = -1, .to = -1 };
	const cJSON *results, *mt;
	struct api_reply reply;
	cJSON *root;
	int res;

	res = first_page(&l, 1, -1, &reply);
	if (res < 0)
		goto out_free;
	res = page_parse(reply.body, reply.len, &root, &results);
	if (res < 0) {
		res = -EIO;
		goto out_free;
	}
	mt = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, 0),
					      "modifiedTime");
	if (!cJSON_IsNumber(mt) || !render_int64(mt, oldest_ms))
		res = cJSON_GetArraySize(results) ? -EIO : -ENODATA;
	cJSON_Delete(root);
out_free:
	api_reply_free(&reply);
	return res;
}
