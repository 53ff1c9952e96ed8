/*
 * sync.c - what to sync and when: the background full listing and
 * incremental syncs.
 *
 * Concurrency
 *
 * sync.lock protects the decisions and the bookkeeping; it is never held
 * during an API call, nor while the key's budget is asked for (a token
 * refresh holds the environment's credentials, which that reads). The full listing runs in its own thread (full_main),
 * at most one per environment and process; with partitions it starts one
 * more thread per partition and joins them. Readers that must wait for it
 * wait on `done` with a deadline; `full_runs` and `inc_runs` move when a run
 * ends. An incremental sync runs in the thread of the reader that found it
 * due; others wait for it and share its outcome (single-flight).
 *
 * Between processes (two mounts of one environment) the store is the shared
 * truth: its state says whether a full listing is complete, unfinished (and
 * where to resume) or never ran, and reload() mirrors it before every
 * decision. A full listing takes an exclusive flock on STORE.lock; a process
 * that finds it taken waits in its listing thread, polling, and then finds
 * the work done. So one environment is listed once, whichever mount asks.
 *
 * Budget: full listings and their probes are background calls (pacer.h):
 * they use at most background_share of each rate window and wait, however
 * long, for their share to free up; readers' calls, incremental syncs
 * included, keep the rest. A full listing costs about one call per page of
 * the profiles the store holds, so the interval between full listings is
 * stretched to what the background share can pay for (full_interval()).
 *
 * Passes: every full listing has a pass number, allocated from the store
 * (STATE_PASS), which marks each profile it sees; at its end it sweeps what
 * is unmarked. Incremental syncs and single fetches mark with the newest
 * pass, so a listing running meanwhile never sweeps what they brought.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "auth/base/clock.h"
#include "auth/base/flock.h"
#include "auth/base/log.h"
#include "fs/sync/budget.h"
#include "fs/sync/listing.h"
#include "fs/sync/pagesize.h"
#include "fs/sync/state.h"
#include "fs/sync/sync.h"

#define MAX_PARTITIONS 16
#define RELOAD_S 0.5
#define WAIT_STEP_S 0.2

struct sync {
	struct remote *remote;
	struct store *store;
	struct sync_config cfg;
	struct pacer_limits limits;	/* the key's, from cfg */
	const struct sync_hooks *hooks;
	struct pagesize *page_size;	/* every search's; has its own lock */
	pthread_mutex_t lock;
	pthread_cond_t done;		/* a run ended */
	/* the background full listing */
	GThread *full_thread;		/* protected by lock; to be joined */
	bool full_running;		/* protected by lock */
	bool want_full;			/* protected by lock */
	bool stop;			/* protected by lock: unmounting */
	unsigned long full_runs;	/* protected by lock */
	int full_result;		/* protected by lock */
	double full_started_mono;	/* protected by lock */
	int64_t full_asked_ms;		/* protected by lock: epoch ms */
	unsigned long full_calls;	/* protected by lock: this listing's */
	/* incremental syncs */
	bool inc_running;		/* protected by lock */
	unsigned long inc_runs;		/* protected by lock */
	int inc_result;			/* protected by lock */
	double last_sync;		/* protected by lock (monotonic s) */
	time_t last_sync_wall;		/* protected by lock */
	bool synced;			/* protected by lock: one sync done */
	bool stale;			/* protected by lock: the last one failed */
	/* mirrored from the store by reload() */
	int64_t newest_ms;		/* protected by lock */
	time_t last_full_wall;		/* protected by lock: 0 = none */
	int64_t pass;			/* protected by lock: unfinished, or 0 */
	double fraction;		/* protected by lock: of that listing */
	double reloaded;		/* protected by lock (monotonic s) */
	/* the budget */
	size_t profiles;		/* protected by lock: at the last count */
	bool stretch_logged;		/* protected by lock */
	int64_t estimated_end;		/* protected by lock: epoch s; 0 */
};

struct part {
	struct listing l;
	GThread *thread;
	int res;
};

struct sync *sync_new(struct remote *r, struct store *st,
		      const struct sync_config *cfg,
		      const struct sync_hooks *hooks)
{
	struct sync *s = g_new0(struct sync, 1);

	s->remote = r;
	s->store = st;
	s->cfg = *cfg;
	s->limits.per_second = cfg->rate_per_second;
	s->limits.per_window = cfg->rate_per_hour;
	s->limits.window_s = cfg->rate_window;
	s->limits.background_share = cfg->background_share;
	s->hooks = hooks;
	s->page_size = pagesize_new(st, cfg->page_size);
	pthread_mutex_init(&s->lock, NULL);
	clock_cond_init(&s->done);
	return s;
}

/* Accepts NULL; after sync_stop(). */
void sync_free(struct sync *s)
{
	if (!s)
		return;
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
	pagesize_free(s->page_size);
	g_free(s);
}

static const char *env_name(const struct sync *s)
{
	return remote_env(s->remote);
}

static void profiles_changed(struct sync *s)
{
	if (s->hooks && s->hooks->profiles_changed)
		s->hooks->profiles_changed(s->hooks->arg, env_name(s));
}

/* The progress of an unfinished listing, 0..1, from where its parts are. */
static double progress(struct store *st, int64_t started_ms)
{
	int k, parts = (int)state_get(st, STATE_FULL_PARTS, 1);
	double total = 0, covered = 0, lo, hi, at;

	for (k = 0; k < parts && k < MAX_PARTITIONS; k++) {
		lo = (double)state_part_get(st, k, "from", -1);
		if (lo < 0)
			lo = (double)state_get(st, STATE_FULL_OLDEST, -1);
		hi = (double)state_part_get(st, k, "to", -1);
		if (hi < 0)
			hi = (double)started_ms;
		at = (double)state_part_get(st, k, "resume", -1);
		if (state_part_get(st, k, "done", 0))
			at = hi;
		if (lo < 0 || hi <= lo)
			continue;
		total += hi - lo;
		covered += at < lo ? 0 : at > hi ? hi - lo : at - lo;
	}
	return total > 0 ? covered / total : 0;
}

/*
 * With s->lock held: mirrors the store's state, at most every RELOAD_S
 * unless forced (another mount's progress shows that much later).
 */
static void reload(struct sync *s, bool force)
{
	struct store *st = s->store;
	double now = clock_now();

	if (!force && s->reloaded && now - s->reloaded < RELOAD_S)
		return;
	if (!s->reloaded)
		s->profiles = store_count(st);
	s->reloaded = now;
	s->newest_ms = state_get(st, STATE_NEWEST, 0);
	s->last_full_wall = (time_t)(state_get(st, STATE_FULL_DONE, 0) / 1000);
	s->pass = state_get(st, STATE_FULL_PASS, 0);
	s->fraction = s->pass ? progress(st, 1000 * state_get(st,
				STATE_FULL_STARTED, 0)) : 0;
}

static bool stopping(void *arg)
{
	struct sync *s = arg;
	bool stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void estimate_end(struct sync *s, const struct api_pacing *q);

/* The key's budget, or NULL; asked without s->lock (a refresh holds it). */
static const struct api_pacing *pacing(struct sync *s, struct api_pacing *q)
{
	return remote_pacing(s->remote, q) == 0 ? q : NULL;
}

static void page_done(void *arg, const struct listing *l)
{
	struct sync *s = arg;
	struct api_pacing q;
	const struct api_pacing *budget = l->part >= 0 ? pacing(s, &q) : NULL;

	pthread_mutex_lock(&s->lock);
	if (l->newest > s->newest_ms)
		s->newest_ms = l->newest;
	if (l->part >= 0) {
		s->full_calls++;
		reload(s, true);
		estimate_end(s, budget);
	}
	pthread_mutex_unlock(&s->lock);
	remote_changed(s->remote);
}

/* A listing of this environment, to be completed by the caller. */
static void listing_init(struct sync *s, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	l->remote = s->remote;
	l->store = s->store;
	l->hooks = s->hooks;
	l->page_size = s->page_size;
	l->stopping = stopping;
	l->page_done = page_done;
	l->arg = s;
	l->oldest = -1;
}

/* --- the full listing ------------------------------------------------------ */

/* An exclusive flock on STORE.lock, polled until taken or stopping. */
static int lock_store(struct sync *s, int *fd)
{
	char *path = g_strconcat(store_path(s->store), ".lock", NULL);
	int res = flock_take(path, -1, stopping, s, fd);

	g_free(path);
	return res;
}

/* The oldest modifiedTime, in one background call. */
static int probe_oldest(struct sync *s, int64_t *oldest)
{
	struct listing like;

	listing_init(s, &like);
	like.background = true;
	return listing_probe(&like, oldest);
}

/*
 * Starts a new listing in the store: its pass and, with K partitions, K
 * equal slices of [oldest, now) (one call to learn the oldest).
 */
static int begin_listing(struct sync *s)
{
	int parts = s->cfg.partitions, k, res;
	int64_t oldest = -1, start = clock_wall_ms(), pass;
	struct store *st = s->store;

	if (parts > 1) {
		res = probe_oldest(s, &oldest);
		if (res == -ENODATA)
			parts = 1;
		else if (res < 0)
			return res;
	}
	res = store_begin(st);
	if (res < 0)
		return res;
	pass = state_get(st, STATE_PASS, 0) + 1;
	store_state_set(st, STATE_PASS, pass);
	store_state_set(st, STATE_FULL_PASS, pass);
	store_state_set(st, STATE_FULL_PARTS, parts);
	store_state_set(st, STATE_FULL_STARTED, start / 1000);
	store_state_set(st, STATE_FULL_OLDEST, oldest);
	for (k = 0; k < parts; k++) {
		state_part_set(st, k, "from", k == 0 ? -1 :
			       oldest + (start - oldest) * k / parts);
		state_part_set(st, k, "to", k == parts - 1 ? -1 :
			       oldest + (start - oldest) * (k + 1) / parts);
		state_part_set(st, k, "resume", -1);
		state_part_set(st, k, "phase", RESUME_GTE);
		state_part_set(st, k, "done", 0);
	}
	return store_commit(st);
}

static gpointer part_main(gpointer arg)
{
	struct part *p = arg;

	p->res = listing_run(&p->l);
	if (p->res == 0) {
		p->res = state_part_set(p->l.store, p->l.part, "done", 1);
	} else if (p->l.distrust) {
		/* the next attempt lists this part from its start again */
		state_part_set(p->l.store, p->l.part, "resume", -1);
		state_part_set(p->l.store, p->l.part, "phase", RESUME_GTE);
	}
	return NULL;
}

/* Where partition k resumes, as its last page committed it. */
static void resume_part(struct store *st, int k, struct resume *at)
{
	int64_t phase = state_part_get(st, k, "phase", RESUME_GTE);
	int64_t ms = state_part_get(st, k, "resume", -1);
	char after[ITEM_ID_MAX + 1];

	if (phase == RESUME_TIES)
		resume_set(at, RESUME_TIES, ms,
			   state_part_get_id(st, k, after) == 0 ? after : NULL);
	else
		resume_set(at, phase == RESUME_GT ? RESUME_GT : RESUME_GTE, ms,
			   NULL);
}

static void part_setup(struct sync *s, struct part *p, int k, int64_t pass,
		       bool quiet)
{
	memset(p, 0, sizeof(*p));
	listing_init(s, &p->l);
	p->l.pass = (uint64_t)pass;
	p->l.part = k;
	p->l.background = true;
	p->l.quiet = quiet;
	p->l.from = state_part_get(s->store, k, "from", -1);
	p->l.to = state_part_get(s->store, k, "to", -1);
	resume_part(s->store, k, &p->l.at);
	p->res = state_part_get(s->store, k, "done", 0) ? 1 : 0;
}

/* Runs every unfinished partition, one thread each beyond the first. */
static int run_parts(struct sync *s, int64_t pass, bool quiet)
{
	int parts = (int)state_get(s->store, STATE_FULL_PARTS, 1), k, res = 0;
	struct part p[MAX_PARTITIONS];

	if (parts < 1 || parts > MAX_PARTITIONS)
		parts = 1;
	for (k = 0; k < parts; k++)
		part_setup(s, &p[k], k, pass, quiet);
	for (k = 1; k < parts; k++)
		if (p[k].res == 0)
			p[k].thread = g_thread_try_new("part", part_main, &p[k],
						       NULL);
	for (k = 0; k < parts; k++) {
		if (p[k].thread)
			g_thread_join(p[k].thread);
		else if (p[k].res == 0)
			part_main(&p[k]);
		if (p[k].res < 0 && res == 0)
			res = p[k].res;
	}
	return res;
}

/* The ids the sweep removes, told after the commit: a reader that the
 * hook sends to the store before then would still find them. */
static void on_removed(const char *id, void *arg)
{
	g_ptr_array_add(arg, g_strdup(id));
}

static void tell_removed(struct sync *s, GPtrArray *ids, bool quiet)
{
	const struct sync_hooks *h = s->hooks;
	guint i;

	for (i = 0; !quiet && h && h->profile_changed && i < ids->len; i++)
		h->profile_changed(h->arg, env_name(s),
				   g_ptr_array_index(ids, i));
}

/* Drops what the listing did not see and marks the listing complete. */
static int end_listing(struct sync *s, int64_t pass, bool quiet)
{
	GPtrArray *ids;
	size_t removed;
	int res;

	res = store_begin(s->store);
	if (res < 0)
		return res;
	ids = g_ptr_array_new_with_free_func(g_free);
	removed = store_sweep(s->store, (uint64_t)pass, on_removed, ids);
	store_state_set(s->store, STATE_FULL_PASS, 0);
	store_state_set(s->store, STATE_FULL_DONE, clock_wall_ms());
	res = store_commit(s->store);
	if (res == 0)
		tell_removed(s, ids, quiet);
	g_ptr_array_unref(ids);
	if (res == 0 && removed)
		log_info("%s: %zu profile(s) deleted at Sprinklr", env_name(s),
			 removed);
	return res;
}

/*
 * With the store locked: resumes the unfinished listing or begins one; or
 * nothing when another mount completed one since this one was asked for
 * (at asked, epoch ms).
 */
static int full_listing(struct sync *s, int64_t asked)
{
	int64_t done = state_get(s->store, STATE_FULL_DONE, 0);
	int64_t pass = state_get(s->store, STATE_FULL_PASS, 0);
	bool quiet = done == 0;
	int res;

	if (!pass && done > asked)
		return 0;
	if (!pass) {
		res = begin_listing(s);
		if (res < 0)
			return res;
		pass = state_get(s->store, STATE_FULL_PASS, 0);
	} else {
		log_info("%s: resuming the unfinished full listing", env_name(s));
	}
	pthread_mutex_lock(&s->lock);
	reload(s, true);
	pthread_mutex_unlock(&s->lock);
	res = run_parts(s, pass, quiet);
	if (res == 0)
		res = end_listing(s, pass, quiet);
	if (res == 0)
		profiles_changed(s);
	return res;
}

static gpointer full_main(gpointer arg)
{
	struct sync *s = arg;
	int64_t asked;
	int fd, res;

	pthread_mutex_lock(&s->lock);
	asked = s->full_asked_ms;
	pthread_mutex_unlock(&s->lock);
	res = lock_store(s, &fd);
	if (res == 0) {
		res = full_listing(s, asked);
		flock_release(fd);
	}
	pthread_mutex_lock(&s->lock);
	reload(s, true);
	s->profiles = store_count(s->store);
	s->estimated_end = 0;
	s->full_running = false;
	s->full_runs++;
	s->full_result = res == -ECANCELED ? -EIO : res;
	if (res == 0) {
		s->last_sync = clock_now();
		s->last_sync_wall = (time_t)(clock_wall_ms() / 1000);
		s->synced = true;
	}
	s->stale = res < 0;
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
	remote_changed(s->remote);
	return NULL;
}

/* With s->lock held: starts the listing thread unless it runs. */
static int start_full(struct sync *s)
{
	if (s->full_running)
		return 0;
	if (s->stop)
		return -EIO;
	if (s->full_thread) {
		g_thread_join(s->full_thread);
		s->full_thread = NULL;
	}
	s->full_started_mono = clock_now();
	s->full_asked_ms = clock_wall_ms();
	s->full_calls = 0;
	s->estimated_end = 0;
	s->want_full = false;
	s->full_thread = g_thread_try_new("listing", full_main, s, NULL);
	if (!s->full_thread)
		return -EAGAIN;
	s->full_running = true;
	return 0;
}

/* Ends the listing thread (it stops between pages) and waits for it. */
void sync_stop(struct sync *s)
{
	GThread *thread;

	pthread_mutex_lock(&s->lock);
	s->stop = true;
	thread = s->full_thread;
	s->full_thread = NULL;
	pthread_mutex_unlock(&s->lock);
	if (thread)
		g_thread_join(thread);
}

/* A full listing now, in the background (SIGHUP): nobody waits for it. */
void sync_start_full(struct sync *s)
{
	pthread_mutex_lock(&s->lock);
	reload(s, false);
	s->want_full = true;
	if (!s->full_running)
		start_full(s);
	pthread_mutex_unlock(&s->lock);
}

/* --- waiting ----------------------------------------------------------- */

/*
 * With s->lock held: waits until *runs moves from `from`, at most until
 * `deadline` (monotonic seconds; 0: no deadline). -EINTR when the reader
 * was interrupted (a signal: the sync it waited for goes on), -ETIMEDOUT
 * at the deadline.
 */
static int wait_run(struct sync *s, const unsigned long *runs,
		    unsigned long from, double deadline)
{
	while (*runs == from) {
		if (remote_interrupted(s->remote))
			return -EINTR;
		if (deadline > 0 && clock_now() >= deadline)
			return -ETIMEDOUT;
		clock_cond_wait(&s->done, &s->lock, clock_now() + WAIT_STEP_S);
	}
	return 0;
}

/* --- incremental syncs ----------------------------------------------------- */

/*
 * What changed since the newest time stored: the profiles above it, and at
 * it those with an id above the largest stored there (resume.c: one call
 * when nothing changed, however large the batch at that time). The newest
 * time moves only once the whole search is in: a sync cut short is asked
 * again from the same point.
 */
static int run_incremental(struct sync *s, int64_t since)
{
	char last[ITEM_ID_MAX + 1];
	struct listing l;
	int res;

	listing_init(s, &l);
	l.part = -1;
	l.from = since;
	l.to = -1;
	resume_set(&l.at, RESUME_AFTER, since,
		   store_last_id_at(s->store, since, last) == 0 ? last : NULL);
	l.newest = since;
	l.pass = (uint64_t)state_get(s->store, STATE_PASS, 0);
	res = listing_run(&l);
	if (res == 0 && l.newest > state_get(s->store, STATE_NEWEST, -1))
		res = store_state_set(s->store, STATE_NEWEST, l.newest);
	if (res == 0 && l.changed)
		profiles_changed(s);
	return res;
}

/* With s->lock held; drops it while the sync runs. */
static int incremental(struct sync *s)
{
	int64_t since = s->newest_ms;
	int res;

	s->inc_running = true;
	pthread_mutex_unlock(&s->lock);
	res = run_incremental(s, since);
	pthread_mutex_lock(&s->lock);
	s->inc_running = false;
	s->inc_runs++;
	s->inc_result = res;
	s->last_sync = clock_now();
	s->last_sync_wall = (time_t)(clock_wall_ms() / 1000);
	s->synced = true;
	s->stale = res < 0;
	reload(s, true);
	pthread_cond_broadcast(&s->done);
	return res;
}

/* --- the budget ------------------------------------------------------------ */

/* With s->lock held: what a full listing of the store's profiles costs. */
static unsigned long full_cost(const struct sync *s)
{
	return budget_full_cost(s->profiles, pagesize_get(s->page_size, NULL),
				s->cfg.partitions);
}

/*
 * With s->lock held: seconds between full listings: full_sync, or as long
 * as the background share needs to pay for one (logged once).
 */
static double full_interval(struct sync *s)
{
	unsigned long cost = full_cost(s);
	double needed = budget_round_up(budget_share_time(&s->limits,
							  (double)cost));

	if (needed <= s->cfg.full_sync)
		return s->cfg.full_sync;
	if (!s->stretch_logged)
		log_info("%s: a full listing costs %lu calls, more than the "
			 "background share pays for in full_sync (%.0f s): full "
			 "listings run every %.0f s", env_name(s), cost,
			 s->cfg.full_sync, needed);
	s->stretch_logged = true;
	return needed;
}

/*
 * With s->lock held, after a page: when the listing should end, at its pace
 * so far and no sooner than the background share allows. Figured once per
 * page, so that it holds still while nothing happens.
 */
static void estimate_end(struct sync *s, const struct api_pacing *q)
{
	double f = s->fraction, left, by_pace, by_quota;

	s->estimated_end = 0;
	if (f <= 0.001 || !s->full_calls)
		return;
	left = (double)s->full_calls * (1 - f) / f;
	by_pace = (clock_now() - s->full_started_mono) * (1 - f) / f;
	by_quota = budget_quota_time(&s->limits, q, left);
	s->estimated_end = clock_wall_ms() / 1000 +
			   (int64_t)budget_round_up(by_pace > by_quota ? by_pace
								   : by_quota);
}

/* --- deciding ---------------------------------------------------------------- */

/* With s->lock held: whether a full listing should run. */
static bool full_due(struct sync *s, enum sync_mode mode)
{
	double since = (double)clock_wall_ms() / 1000 - (double)s->last_full_wall;

	/* full_interval() is full_sync or longer, and costs a store read:
	 * each request asks */
	return mode == SYNC_FULL || s->want_full || !s->last_full_wall ||
	       s->pass || (since >= s->cfg.full_sync &&
			   since >= full_interval(s));
}

/* Stale-if-error: with a complete store, a failed sync serves what it has. */
static int outcome(const struct sync *s, int res)
{
	if (res < 0 && s->last_full_wall && res != -EACCES && res != -EINTR)
		return 0;
	return res;
}

/* With s->lock held: a reader's wait for the running full listing. */
static int wait_full(struct sync *s, enum sync_mode mode)
{
	unsigned long runs = s->full_runs;
	double deadline = 0;
	int res;

	if (mode == SYNC_IF_DUE) {
		if (s->last_full_wall)
			return 0;	/* a complete store serves meanwhile */
		/* readers wait read_timeout from the listing's start, in all */
		deadline = s->full_started_mono + s->cfg.read_timeout;
		if (clock_now() >= deadline)
			return 0;
	}
	res = wait_run(s, &s->full_runs, runs, deadline);
	if (res == -ETIMEDOUT)
		return 0;		/* what is synced so far */
	if (res < 0)
		return res;
	return mode == SYNC_IF_DUE ? outcome(s, s->full_result) : s->full_result;
}

/* With s->lock held: waits for the incremental sync another reader runs. */
static int wait_incremental(struct sync *s)
{
	int res = wait_run(s, &s->inc_runs, s->inc_runs, 0);

	return res < 0 ? res : s->inc_result;
}

int sync_profiles(struct sync *s, enum sync_mode mode)
{
	int res = 0;

	pthread_mutex_lock(&s->lock);
	reload(s, false);
	if (mode == SYNC_COMPLETE && s->last_full_wall)
		goto out_unlock;
	if (full_due(s, mode) || s->full_running) {
		if (mode == SYNC_FULL)
			s->want_full = true;
		res = s->full_running ? 0 : start_full(s);
		if (res == 0)
			res = wait_full(s, mode);
		goto out_unlock;
	}
	if (s->inc_running)
		res = wait_incremental(s);
	else if (mode == SYNC_NOW || !s->synced ||
		 clock_now() - s->last_sync >= s->cfg.ttl)
		res = incremental(s);
	if (mode == SYNC_IF_DUE)
		res = outcome(s, res);
out_unlock:
	pthread_mutex_unlock(&s->lock);
	return res;
}

/* --- status ---------------------------------------------------------------- */

/* With s->lock held: the budget's part of the information. */
static void budget_info(struct sync *s, struct sync_info *info,
			const struct api_pacing *q)
{
	info->full_cost = s->last_full_wall ? full_cost(s) : 0;
	info->next_full = s->last_full_wall && !info->listing ?
			  s->last_full_wall + (time_t)full_interval(s) : 0;
	info->estimated_end = info->listing ? (time_t)s->estimated_end : 0;
	if (s->full_running && q)
		info->quota_until = (time_t)q->background_until;
}

/* With s->lock held. */
static const char *state_name(const struct sync *s, bool listing)
{
	if (!s->last_full_wall && !s->full_running && s->full_runs &&
	    s->full_result < 0)
		return "failed";
	if (s->stale)
		return "stale";
	if (s->last_full_wall)
		return "complete";
	return listing ? "listing" : "never";
}

void sync_info(struct sync *s, struct sync_info *info)
{
	struct api_pacing q;
	const struct api_pacing *budget = pacing(s, &q);

	pthread_mutex_lock(&s->lock);
	reload(s, false);
	memset(info, 0, sizeof(*info));
	info->listing = s->full_running || s->pass;
	info->state = state_name(s, info->listing);
	info->last_sync = s->last_sync_wall;
	info->last_full = s->last_full_wall;
	info->newest_ms = s->newest_ms;
	info->fraction = s->pass ? s->fraction : s->last_full_wall ? 1 : 0;
	info->calls = s->full_calls;
	budget_info(s, info, budget);
	pthread_mutex_unlock(&s->lock);
	info->page_size = pagesize_get(s->page_size, NULL);
}

/* Whether a full listing has ever completed (in any process). */
bool sync_complete(struct sync *s)
{
	bool complete;

	pthread_mutex_lock(&s->lock);
	reload(s, false);
	complete = s->last_full_wall != 0;
	pthread_mutex_unlock(&s->lock);
	return complete;
}
