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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "auth/base/hash.h"
#include "auth/base/log.h"
#include "auth/net/http.h"
#include "fs/store/render.h"
#include "fs/sync/listing.h"
#include "fs/sync/page.h"
#include "fs/sync/state.h"

#define SEARCH_PATH "/api/v2/search/PROFILE"
#define MAX_RESTARTS 5
#define MAX_STALE_PAGES 3

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

/* One page on its way to the store, while the next one is fetched. */
struct page_job {
	struct listing *l;
	cJSON *root;
	const cJSON *results;
	int64_t resume_ms;	/* the listing resumes here once it is stored */
	GThread *thread;		/* storing it; NULL when none */
	int res;
};

static void put_profile(struct listing *l, const cJSON *profile,
			size_t *skipped)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(profile, "id");
	bool changed;
	int64_t mt;

	if (store_put(l->store, profile, l->pass, &mt, &changed) < 0) {
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
	if (!l->quiet && l->hooks && l->hooks->profile_changed)
		l->hooks->profile_changed(l->hooks->arg, remote_env(l->remote),
					  id->valuestring);
}

/* With a batch open: where to resume, the range's start, the newest time. */
static void store_progress(struct listing *l, int64_t resume_ms)
{
	struct store *st = l->store;

	if (l->part >= 0)
		state_part_set(st, l->part, "resume", resume_ms);
	/* the start of the range, for the progress of a single cursor */
	if (l->part == 0 && l->oldest >= 0 &&
	    state_get(st, STATE_FULL_OLDEST, -1) < 0)
		store_state_set(st, STATE_FULL_OLDEST, l->oldest);
	if (l->newest > state_get(st, STATE_NEWEST, -1))
		store_state_set(st, STATE_NEWEST, l->newest);
}

/* Stores one page and where to resume, in one batch (a thread of its own). */
static gpointer store_page(gpointer arg)
{
	struct page_job *job = arg;
	struct listing *l = job->l;
	const cJSON *profile;
	size_t skipped = 0;

	job->res = store_begin(l->store);
	if (job->res < 0)
		return NULL;
	cJSON_ArrayForEach(profile, job->results)
		put_profile(l, profile, &skipped);
	store_progress(l, job->resume_ms);
	job->res = store_commit(l->store);
	if (skipped)
		log_warn("%s: skipping %zu profile(s) whose id cannot be a file "
			 "name", remote_env(l->remote), skipped);
	if (job->res == 0 && l->page_done)
		l->page_done(l->arg, l);
	return NULL;
}

/* Waits for the page being stored; its outcome. */
static int finish_store(struct listing *l, struct page_job *job)
{
	if (!job->thread)
		return 0;
	g_thread_join(job->thread);
	job->thread = NULL;
	cJSON_Delete(job->root);
	job->root = NULL;
	if (job->res < 0) {
		remote_note_error(l->remote, "%s: cannot write the store %s: %s",
				  remote_env(l->remote), store_path(l->store),
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
	job->thread = g_thread_try_new("store", store_page, job, NULL);
	if (!job->thread) {
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
	uint64_t h = HASH_INIT;

	cJSON_ArrayForEach(profile, results) {
		id = cJSON_GetObjectItemCaseSensitive(profile, "id");
		if (cJSON_IsString(id))
			h = hash_bytes(h, id->valuestring,
				       strlen(id->valuestring) + 1);
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
	if ((l->cursor && g_strcmp0(l->cursor, previous) == 0) ||
	    l->stale_pages >= MAX_STALE_PAGES) {
		remote_note_error(l->remote, "%s: the search API's cursor loop: "
				  "the same pages again and again; listing "
				  "stopped", remote_env(l->remote));
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
	char *previous;
	cJSON *root;
	int res;

	res = page_parse(reply->body, reply->len, &root, &results);
	if (res < 0) {
		remote_note_error(l->remote, "%s: unusable search page (%s)",
				  remote_env(l->remote), res == -EBADMSG ?
				  "an errors array" : "not a page");
		l->distrust = true;
		return -EIO;
	}
	previous = l->cursor;
	l->cursor = page_cursor(root);
	res = check_loop(l, previous, results);
	g_free(previous);
	if (res < 0) {
		cJSON_Delete(root);
		return res;
	}
	note_times(l, results);
	return start_store(l, job, root, results);
}

/* How the listing's calls wait for quota. */
static struct pacer_wait wait_of(const struct listing *l)
{
	struct pacer_wait w = { .background = l->background,
				.cancelled = l->stopping, .arg = l->arg };

	return w;
}

/* One search request asking for `size` profiles; reply as first_page's. */
static int search(struct listing *l, int size, int64_t since,
		  struct api_reply *reply)
{
	char *body = search_body(size, since, l->to);
	struct pacer_wait wait = wait_of(l);
	int res;

	memset(reply, 0, sizeof(*reply));
	if (!body)
		return -ENOMEM;
	res = remote_try(l->remote, &wait, "search", "POST", SEARCH_PATH, body,
			 reply);
	free(body);
	return res;
}

/* A failed search is the environment's last error; a 404 is not. */
static int search_failed(struct listing *l, int res,
			 const struct api_reply *reply)
{
	if (res != -ENOENT)
		remote_failed(l->remote, "search", "POST", res, reply);
	return res;
}

/*
 * The first page of a search, at the environment's page size; a 400 under
 * page_size=auto asks again for fewer (pagesize.h). reply is set whatever
 * happens: the caller frees it.
 */
static int first_page(struct listing *l, int64_t since,
		      struct api_reply *reply)
{
	int asked = pagesize_get(l->page_size, NULL), size = asked, smaller;
	int res;

	for (;;) {
		res = search(l, size, since, reply);
		if (res == 0) {
			pagesize_accepted(l->page_size, size);
			if (size != asked)
				log_info("%s: the search API takes pages of %d "
					 "profiles", remote_env(l->remote), size);
			return 0;
		}
		if (reply->status != 400 ||
		    !pagesize_refused(l->page_size, size, &smaller))
			break;
		log_info("%s: the search API refused pages of %d profiles; "
			 "asking for %d", remote_env(l->remote), size, smaller);
		api_reply_free(reply);
		size = smaller;
	}
	return search_failed(l, res, reply);
}

/* An expired cursor is expected (400): the listing resumes. reply is set
 * whatever happens: the caller frees it. */
static int next_page(struct listing *l, struct api_reply *reply)
{
	char *esc = http_escape(l->cursor);
	struct pacer_wait wait = wait_of(l);
	char *path;
	int res;

	memset(reply, 0, sizeof(*reply));
	if (!esc)
		return -ENOMEM;
	path = g_strdup_printf("%s?id=%s", SEARCH_PATH, esc);
	free(esc);
	res = remote_try(l->remote, &wait, "search-next", "GET", path, NULL,
			 reply);
	g_free(path);
	if (res < 0 && res != -ENOENT && reply->status != 400)
		remote_failed(l->remote, "search-next", "GET", res, reply);
	return res;
}

/*
 * Pages are pipelined: while one is being stored, the next is fetched; at
 * most one page waits for the store.
 */
int listing_run(struct listing *l)
{
	struct page_job job = { .thread = NULL };
	struct api_reply reply;
	int restarts = 0;
	int res, stored;

	if (l->resume_ms < l->from)
		l->resume_ms = l->from;
	res = first_page(l, l->resume_ms, &reply);
	for (;;) {
		if (res == 0)
			res = take_page(l, &reply, &job);
		else if (reply.status == 400 && l->cursor &&
			 restarts++ < MAX_RESTARTS) {
			log_info("%s: search cursor expired; resuming from "
				 "modifiedTime %lld", remote_env(l->remote),
				 (long long)l->resume_ms);
			api_reply_free(&reply);
			g_free(l->cursor);
			l->cursor = NULL;
			res = first_page(l, l->resume_ms, &reply);
			continue;
		}
		api_reply_free(&reply);
		if (res < 0 || !l->cursor)
			break;
		if (l->stopping && l->stopping(l->arg)) {
			res = -ECANCELED;
			break;
		}
		res = next_page(l, &reply);
	}
	stored = finish_store(l, &job);
	g_free(l->cursor);
	l->cursor = NULL;
	return res < 0 ? res : stored;
}

/*
 * The oldest modifiedTime at Sprinklr (one call), or -ENODATA when none;
 * the call is made as `like`'s (remote, page size, class, stopping).
 * One profile tells it; but while page_size=auto has not learned the page
 * size, the probe asks for a full page and learns it (the 400s included),
 * so that the partitions that follow do not each meet the same 400s.
 */
int listing_probe(const struct listing *like, int64_t *oldest_ms)
{
	struct listing l = { .remote = like->remote,
			     .page_size = like->page_size, .part = -1,
			     .from = -1, .to = -1,
			     .background = like->background,
			     .stopping = like->stopping, .arg = like->arg };
	const cJSON *results, *mt;
	struct api_reply reply;
	bool known;
	cJSON *root;
	int res;

	pagesize_get(l.page_size, &known);
	if (known) {
		res = search(&l, 1, -1, &reply);
		if (res < 0)
			search_failed(&l, res, &reply);
	} else {
		res = first_page(&l, -1, &reply);
	}
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
