/*
 * listing.c - the search API's cursors into the store.
 *
 * Ordering and resumption: searches sort by modifiedTime ascending, and a
 * tie group read again after a restart sorts by id (resume.c says why).
 * A cursor that expires (a 4xx on the next page: 400 is documented, 404 and
 * 410 are seen) restarts the search from the resume point, never from the
 * beginning. The point's phase and time are committed with every page
 * (state "part.K.phase", "part.K.resume"), so a listing cut short by a
 * crash or an unmount resumes there.
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
#include "fs/store/item.h"
#include "fs/store/render.h"
#include "fs/sync/listing.h"
#include "fs/sync/page.h"
#include "fs/sync/state.h"

#define SEARCH_PATH "/api/v2/search/PROFILE"
#define MAX_STALE_PAGES 3

/*
 * Pages in flight. The listing's thread, which makes the calls, parses each
 * answer as it comes (the call's reader, api.h: the parse that tells the
 * call it is JSON is the page's own, made once) and takes its cursor, and
 * asks for the next page at once: only the parse lies between one answer
 * and the next request, as in a plain cursor stream. A thread of the
 * page's own renders the profiles it holds and, in its turn (pages are
 * stored in the order they came), writes them in one batch with where the
 * listing resumes. At most PIPELINE pages are in flight: three, since at
 * a million profiles a page's write (a checkpoint with it) sometimes
 * outlasts the next page's fetch, and a third page in flight lets the
 * fetching go on.
 */
#define PIPELINE 3

/* Protected by lock. */
struct turns {
	GMutex lock;
	GCond cond;		/* a page's turn over */
	uint64_t stored;	/* pages whose turn is over */
	bool failed;		/* a page was not stored: none after it is */
};

struct page_job {
	struct listing *l;
	struct turns *turns;
	uint64_t seq;		/* pages before it take their turn first */
	struct api_reply reply;	/* the answer, freed by the page's thread */
	struct page page;	/* parsed from it, until rendered */
	GPtrArray *items;	/* struct item *, the page's profiles */
	struct resume at;	/* the listing resumes here once it is stored */
	GThread *thread;	/* NULL when none */
	int res;		/* storing it */
};

/* Stores one profile of the batch; whether it changed. */
static bool put_profile(struct listing *l, const struct item *item,
			size_t *skipped)
{
	int64_t mt = item->modified_ms;
	bool changed;

	if (store_put_item(l->store, item, l->pass, &changed) < 0) {
		(*skipped)++;
		return false;
	}
	l->seen++;
	if (l->oldest < 0 || mt < l->oldest)
		l->oldest = mt;
	if (mt > l->newest)
		l->newest = mt;
	if (changed)
		l->changed++;
	return changed;
}

/* The profiles the page changed, told once its batch is committed: a
 * reader that the hook sends to the store before then would find the old
 * bytes, and the kernel would keep them for ttl (the sweep does the same). */
static void tell_changed(struct listing *l, GPtrArray *changed)
{
	const struct item *item;
	guint i;

	if (l->quiet || !l->hooks || !l->hooks->profile_changed)
		return;
	for (i = 0; i < changed->len; i++) {
		item = g_ptr_array_index(changed, i);
		l->hooks->profile_changed(l->hooks->arg, remote_env(l->remote),
					  item->id);
	}
}

/*
 * With a batch open: where to resume, the range's start, the newest time.
 * An incremental sync (no partition) leaves the newest time to its caller:
 * stored only once complete, it is where the next one starts.
 */
static void store_progress(struct listing *l, const struct page_job *job)
{
	struct store *st = l->store;

	if (l->part < 0)
		return;
	state_part_set(st, l->part, "resume", job->at.ms);
	state_part_set(st, l->part, "phase", job->at.phase);
	state_part_set_id(st, l->part, job->at.after);
	/* the start of the range, for the progress of a single cursor */
	if (l->part == 0 && l->oldest >= 0 &&
	    state_get(st, STATE_FULL_OLDEST, -1) < 0)
		store_state_set(st, STATE_FULL_OLDEST, l->oldest);
	if (l->newest > state_get(st, STATE_NEWEST, -1))
		store_state_set(st, STATE_NEWEST, l->newest);
}

/* The page's profiles as items; those that cannot be one are counted. */
static GPtrArray *render_page(const cJSON *results, size_t *skipped)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)item_unref);
	const cJSON *profile;
	struct item *item;

	*skipped = 0;
	cJSON_ArrayForEach(profile, results) {
		if (item_render(profile, &item) < 0)
			(*skipped)++;
		else
			g_ptr_array_add(items, item);
	}
	return items;
}

/* Stores one rendered page and where to resume, in one batch. */
static void write_page(struct page_job *job, size_t skipped)
{
	struct listing *l = job->l;
	GPtrArray *changed;
	struct item *item;
	guint i;

	job->res = store_begin(l->store);
	if (job->res < 0)
		return;
	changed = g_ptr_array_new();	/* the job's items hold them */
	for (i = 0; i < job->items->len; i++) {
		item = g_ptr_array_index(job->items, i);
		if (put_profile(l, item, &skipped))
			g_ptr_array_add(changed, item);
	}
	store_progress(l, job);
	job->res = store_commit(l->store);
	if (job->res == 0)
		tell_changed(l, changed);
	g_ptr_array_unref(changed);
	if (skipped)
		log_warn("%s: skipping %zu profile(s) whose id cannot be a file "
			 "name", remote_env(l->remote), skipped);
	if (job->res == 0 && l->page_done)
		l->page_done(l->arg, l);
}

/* Waits for the pages before the job's to be stored; false if one was not. */
static bool take_turn(struct page_job *job)
{
	struct turns *t = job->turns;
	bool ok;

	g_mutex_lock(&t->lock);
	while (t->stored != job->seq)
		g_cond_wait(&t->cond, &t->lock);
	ok = !t->failed;
	g_mutex_unlock(&t->lock);
	return ok;
}

static void end_turn(struct page_job *job)
{
	struct turns *t = job->turns;

	g_mutex_lock(&t->lock);
	t->stored = job->seq + 1;
	if (job->res < 0)
		t->failed = true;
	g_cond_broadcast(&t->cond);
	g_mutex_unlock(&t->lock);
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

/* Lets go of the page parsed from the last answer, if it was not taken. */
static void forget_answer(struct listing *l)
{
	page_free(&l->parsed);
	l->parsed_res = -ENODATA;
}

/* The reader of the listing's answers (api.h). */
static bool read_answer(void *arg, char *body, size_t len)
{
	struct listing *l = arg;

	forget_answer(l);
	l->parsed_res = page_parse(body, len, &l->parsed);
	return l->parsed_res != -EILSEQ;
}

/*
 * Takes the page parsed from the last answer into *page, and its cursor;
 * the listing's state (cursor, loop check, resume point) moves on here.
 * *page for the caller to page_free(), when 0.
 */
static int take_answer(struct page_job *job, struct page *page)
{
	struct listing *l = job->l;
	char *previous;
	int res = l->parsed_res;

	*page = l->parsed;
	memset(&l->parsed, 0, sizeof(l->parsed));
	l->parsed_res = -ENODATA;
	if (res < 0) {
		remote_note_error(l->remote, "%s: unusable search page (%s)",
				  remote_env(l->remote), res == -EBADMSG ?
				  "an errors array" : "not a page");
		l->distrust = true;
		return -EIO;
	}
	previous = l->cursor;
	l->cursor = page_cursor(page);
	res = check_loop(l, previous, page->results);
	g_free(previous);
	if (res < 0) {
		page_free(page);
		return res;
	}
	resume_advance(&l->at, l->by_id, page->results);
	resume_set(&job->at, l->at.phase, l->at.ms, l->at.after);
	return 0;
}

/* A page's thread: render its page and store it in its turn. */
static gpointer page_thread(gpointer arg)
{
	struct page_job *job = arg;
	size_t skipped = 0;

	api_reply_free(&job->reply);	/* not while the listing waits */
	job->items = render_page(job->page.results, &skipped);
	page_free(&job->page);
	if (!take_turn(job))
		job->res = -ECANCELED;	/* the failed page told why */
	else
		write_page(job, skipped);
	end_turn(job);
	return NULL;
}

/* Lets go of a page whose thread has ended; its outcome. */
static int release_page(struct listing *l, struct page_job *job)
{
	if (job->items)
		g_ptr_array_unref(job->items);
	job->items = NULL;
	resume_clear(&job->at);
	if (job->res == -ECANCELED)
		return -EIO;
	if (job->res < 0) {
		remote_note_error(l->remote, "%s: cannot write the store %s: %s",
				  remote_env(l->remote), store_path(l->store),
				  strerror(-job->res));
		return -EIO;
	}
	return 0;
}

/* Waits for a page in flight; its outcome. */
static int finish_store(struct listing *l, struct page_job *job)
{
	if (!job->thread)
		return 0;
	g_thread_join(job->thread);
	job->thread = NULL;
	return release_page(l, job);
}

/*
 * The pages in flight and how many were handed on. A page's slot is
 * that of the page PIPELINE before it, which is waited for first.
 */
struct pipeline {
	struct turns turns;
	struct page_job jobs[PIPELINE];
	uint64_t pages;
};

static void pipeline_init(struct pipeline *p)
{
	memset(p, 0, sizeof(*p));
	g_mutex_init(&p->turns.lock);
	g_cond_init(&p->turns.cond);
}

/* Waits for every page in flight, oldest first; the first failure. */
static int pipeline_finish(struct listing *l, struct pipeline *p)
{
	int res = 0, r;
	size_t i;

	for (i = 0; i < PIPELINE; i++) {
		r = finish_store(l, &p->jobs[(p->pages + i) % PIPELINE]);
		if (res == 0)
			res = r;
	}
	g_mutex_clear(&p->turns.lock);
	g_cond_clear(&p->turns.cond);
	return res;
}

/*
 * Takes an answer (reply is moved) and the page parsed from it and, once
 * a slot is free, hands the page on to a thread of its own: 0 when a page
 * was taken.
 */
static int take_page(struct listing *l, struct api_reply *reply,
		     struct pipeline *p)
{
	struct page_job *job = &p->jobs[p->pages % PIPELINE];
	bool failed;
	int res;

	res = finish_store(l, job);
	if (res < 0)
		return res;
	g_mutex_lock(&p->turns.lock);
	failed = p->turns.failed;	/* told when its page is waited for */
	g_mutex_unlock(&p->turns.lock);
	if (failed)
		return -EIO;
	job->l = l;
	job->reply = *reply;
	memset(reply, 0, sizeof(*reply));
	res = take_answer(job, &job->page);
	if (res < 0) {
		api_reply_free(&job->reply);
		return res;
	}
	job->turns = &p->turns;
	job->seq = p->pages++;
	job->res = 0;
	job->thread = g_thread_try_new("page", page_thread, job, NULL);
	if (!job->thread) {
		page_thread(job);
		return release_page(l, job);
	}
	return 0;
}

/* How the listing's calls wait for quota. */
static struct pacer_wait wait_of(const struct listing *l)
{
	struct pacer_wait w = { .background = l->background,
				.cancelled = l->stopping, .arg = l->arg };

	return w;
}

/* One search for the rest (resume.h) asking for `size` profiles; reply as
 * first_page's, its page in l->parsed. */
static int search(struct listing *l, int size, struct api_reply *reply)
{
	char *body = resume_query(&l->at, l->to, size);
	struct pacer_wait wait = wait_of(l);
	struct api_reader reader = { read_answer, l };
	int res;

	memset(reply, 0, sizeof(*reply));
	forget_answer(l);
	if (!body)
		return -ENOMEM;
	l->by_id = resume_by_id(&l->at);
	res = remote_try(l->remote, &wait, &reader, "search", "POST",
			 SEARCH_PATH, body, reply);
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
 * The first page of a search for the rest, at the environment's page size;
 * a 400 under page_size=auto asks again for fewer (pagesize.h). reply is
 * set whatever happens: the caller frees it.
 */
static int first_page(struct listing *l, struct api_reply *reply)
{
	int asked = pagesize_get(l->page_size, NULL), size = asked, smaller;
	int res;

	for (;;) {
		res = search(l, size, reply);
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

/*
 * Whether a next page's status says its cursor is gone: any 4xx but those
 * of the gateway (a token, a key, the rate), which a new search would get
 * too.
 */
static bool cursor_gone(long status)
{
	return status >= 400 && status < 500 && status != 401 &&
	       status != 403 && status != 421 && status != 429;
}

/* An expired cursor is expected: the listing resumes. reply is set
 * whatever happens: the caller frees it. */
static int next_page(struct listing *l, struct api_reply *reply)
{
	char *esc = http_escape(l->cursor);
	struct pacer_wait wait = wait_of(l);
	struct api_reader reader = { read_answer, l };
	char *path;
	int res;

	memset(reply, 0, sizeof(*reply));
	forget_answer(l);
	if (!esc)
		return -ENOMEM;
	path = g_strdup_printf("%s?id=%s", SEARCH_PATH, esc);
	free(esc);
	res = remote_try(l->remote, &wait, &reader, "search-next", "GET", path,
			 NULL, reply);
	g_free(path);
	if (res < 0 && !cursor_gone(reply->status))
		remote_failed(l->remote, "search-next", "GET", res, reply);
	return res;
}

/*
 * After a next page failed with res: restarts the search from the resume
 * point when the cursor is gone. A restart from the same point as the
 * previous one means the server does not let the listing move: it stops.
 */
static int restart(struct listing *l, int res, struct api_reply *reply)
{
	if (!cursor_gone(reply->status))
		return res;
	api_reply_free(reply);
	g_free(l->cursor);
	l->cursor = NULL;
	if (resume_same(&l->restarted, &l->at)) {
		remote_note_error(l->remote, "%s: the search API's cursor loop:"
				  " restarts that do not move; listing "
				  "stopped", remote_env(l->remote));
		l->distrust = true;
		return -EIO;
	}
	resume_set(&l->restarted, l->at.phase, l->at.ms, l->at.after);
	log_debug("%s: search cursor gone (%ld); resuming from modifiedTime "
		  "%lld", remote_env(l->remote), reply->status,
		  (long long)l->at.ms);
	return first_page(l, reply);
}

/*
 * The next page: the cursor's, or when a tie group read by id is complete,
 * the first of the search for what follows it.
 */
static int next(struct listing *l, struct api_reply *reply)
{
	if (l->cursor)
		return next_page(l, reply);
	resume_set(&l->at, RESUME_GT, l->at.ms, NULL);
	return first_page(l, reply);
}

static bool more(const struct listing *l)
{
	return l->cursor || l->by_id;
}

/*
 * Pages are pipelined (struct pipeline): while the pages before are
 * rendered and stored, the next is fetched.
 */
int listing_run(struct listing *l)
{
	struct pipeline p;
	struct api_reply reply;
	int res, stored;

	if (l->at.ms < l->from)
		resume_set(&l->at, RESUME_GTE, l->from, NULL);
	l->restarted.phase = RESUME_AFTER;
	l->restarted.ms = -2;	/* no restart yet */
	pipeline_init(&p);
	res = first_page(l, &reply);
	for (;;) {
		if (res < 0 && l->cursor)
			res = restart(l, res, &reply);
		if (res == 0)
			res = take_page(l, &reply, &p);
		api_reply_free(&reply);
		if (res < 0 || !more(l))
			break;
		if (l->stopping && l->stopping(l->arg)) {
			res = -ECANCELED;
			break;
		}
		res = next(l, &reply);
	}
	stored = pipeline_finish(l, &p);
	forget_answer(l);
	g_free(l->cursor);
	l->cursor = NULL;
	resume_clear(&l->at);
	resume_clear(&l->restarted);
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
			     .at = { RESUME_GTE, -1, NULL },
			     .background = like->background,
			     .stopping = like->stopping, .arg = like->arg };
	struct api_reply reply;
	const cJSON *mt;
	bool known;
	int res;

	pagesize_get(l.page_size, &known);
	if (known) {
		res = search(&l, 1, &reply);
		if (res < 0)
			search_failed(&l, res, &reply);
	} else {
		res = first_page(&l, &reply);
	}
	if (res == 0 && l.parsed_res < 0)
		res = -EIO;
	if (res < 0)
		goto out_free;
	mt = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(l.parsed.results, 0), "modifiedTime");
	if (!cJSON_IsNumber(mt) || !render_int64(mt, oldest_ms))
		res = cJSON_GetArraySize(l.parsed.results) ? -EIO : -ENODATA;
out_free:
	forget_answer(&l);
	api_reply_free(&reply);
	return res;
}
