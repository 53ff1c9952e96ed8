/*
 * sync.c - what to sync and when: the background full listing, incremental
 * syncs, single profiles.
 *
 * Concurrency
 *
 * sync_state.lock protects the decisions and the bookkeeping; it is never
 * held during an API call. The full listing runs in its own thread
 * (full_main), at most one per environment and process; with partitions it
 * starts one more thread per partition and joins them. Readers that must
 * wait for it wait on `done` with a deadline; `full_runs` and `inc_runs` move
 * when a run ends. An incremental sync runs in the thread of the reader that
 * found it due; others wait for it and share its outcome (single-flight).
 * Single-profile fetches are serialised by fs_env.fetch_lock, so parallel
 * readers of one unknown id cause one call.
 *
 * Between processes (two mounts of one environment) the store is the shared
 * truth: its state says whether a full listing is complete, unfinished (and
 * where to resume) or never ran, and sync_reload() mirrors it before every
 * decision. A full listing takes an exclusive flock on STORE.lock; a process
 * that finds it taken waits in its listing thread, polling, and then finds
 * the work done. So one environment is listed once, whichever mount asks.
 *
 * Passes: every full listing has a pass number, allocated from the store
 * ("pass"), which marks each profile it sees; at its end it sweeps what is
 * unmarked. Incremental syncs and single fetches mark with the newest pass,
 * so a listing running meanwhile never sweeps what they brought.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auth/base/log.h"
#include "auth/net/http.h"
#include "env.h"
#include "fsops.h"
#include "inval.h"
#include "listing.h"
#include "sync.h"

#define MAX_PARTITIONS 16
#define LOCK_POLL_MS 500
#define RELOAD_S 0.5

struct part {
	struct listing l;
	pthread_t thread;
	int res;
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

static int64_t state_or(struct idx *idx, const char *key, int64_t dflt)
{
	int64_t v;

	return idx_state_get(idx, key, &v) == 0 ? v : dflt;
}

/* The progress of an unfinished listing, 0..1, from where its parts are. */
static double progress(struct idx *idx, int64_t started_ms)
{
	double total = 0, covered = 0, lo, hi, at;
	int k, parts = (int)state_or(idx, "full.parts", 1);
	char key[64];

	for (k = 0; k < parts && k < MAX_PARTITIONS; k++) {
		listing_state_key(key, sizeof(key), k, "from");
		lo = (double)state_or(idx, key, -1);
		if (lo < 0)
			lo = (double)state_or(idx, "full.oldest", -1);
		listing_state_key(key, sizeof(key), k, "to");
		hi = (double)state_or(idx, key, -1);
		if (hi < 0)
			hi = (double)started_ms;
		listing_state_key(key, sizeof(key), k, "resume");
		at = (double)state_or(idx, key, -1);
		listing_state_key(key, sizeof(key), k, "done");
		if (state_or(idx, key, 0))
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
static void reload(struct fs_env *e, bool force)
{
	struct sync_state *s = &e->sync;
	struct idx *idx = e->idx;
	double now = env_now();

	if (!force && s->reloaded && now - s->reloaded < RELOAD_S)
		return;
	s->reloaded = now;

	s->newest_ms = state_or(idx, "newest_ms", 0);
	s->last_full_wall = (time_t)(state_or(idx, "full.done_ms", 0) / 1000);
	s->pass = state_or(idx, "full.pass", 0);
	s->fraction = s->pass ? progress(idx, 1000 * state_or(idx,
				"full.started", 0)) : 0;
}

static void sync_reload(struct fs_env *e)
{
	reload(e, false);
}

bool sync_stopping(struct fs_env *e)
{
	bool stop;

	pthread_mutex_lock(&e->sync.lock);
	stop = e->sync.stop;
	pthread_mutex_unlock(&e->sync.lock);
	return stop;
}

void sync_page_done(struct fs_env *e, const struct listing *l)
{
	pthread_mutex_lock(&e->sync.lock);
	if (l->part >= 0)
		e->sync.full_calls++;
	if (l->newest > e->sync.newest_ms)
		e->sync.newest_ms = l->newest;
	pthread_mutex_unlock(&e->sync.lock);
	env_status_changed(e);
}

/* --- the cross-process lock ---------------------------------------------- */

/* An exclusive flock on STORE.lock, polled until taken or stopping. */
static int lock_store(struct fs_env *e)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s.lock", idx_path(e->idx));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return -errno;
		}
		if (sync_stopping(e)) {
			close(fd);
			return -ECANCELED;
		}
		usleep(LOCK_POLL_MS * 1000);
	}
	return fd;
}

/* --- the full listing ------------------------------------------------------ */

static void set_part(struct idx *idx, int k, const char *what, int64_t v)
{
	char key[64];

	listing_state_key(key, sizeof(key), k, what);
	idx_state_set(idx, key, v);
}

/*
 * Starts a new listing in the store: its pass and, with K partitions, K
 * equal slices of [oldest, now) (one call to learn the oldest).
 */
static int begin_listing(struct fs_env *e)
{
	int parts = e->fs->opts.partitions, k, res;
	int64_t oldest = -1, start = env_wall_ms(), pass;
	struct idx *idx = e->idx;

	if (parts > 1) {
		res = listing_probe(e, &oldest);
		if (res == -ENODATA)
			parts = 1;
		else if (res < 0)
			return res;
	}
	res = idx_begin(idx);
	if (res < 0)
		return res;
	pass = state_or(idx, "pass", 0) + 1;
	idx_state_set(idx, "pass", pass);
	idx_state_set(idx, "full.pass", pass);
	idx_state_set(idx, "full.parts", parts);
	idx_state_set(idx, "full.started", start / 1000);
	idx_state_set(idx, "full.oldest", oldest);
	for (k = 0; k < parts; k++) {
		set_part(idx, k, "from", k == 0 ? -1 :
			 oldest + (start - oldest) * k / parts);
		set_part(idx, k, "to", k == parts - 1 ? -1 :
			 oldest + (start - oldest) * (k + 1) / parts);
		set_part(idx, k, "resume", -1);
		set_part(idx, k, "done", 0);
	}
	return idx_commit(idx);
}

static void *part_main(void *arg)
{
	struct part *p = arg;
	char key[64];

	p->res = listing_run(&p->l);
	if (p->res == 0) {
		listing_state_key(key, sizeof(key), p->l.part, "done");
		p->res = idx_state_set(p->l.e->idx, key, 1);
	} else if (p->l.distrust) {
		/* the next attempt lists this part from its start again */
		listing_state_key(key, sizeof(key), p->l.part, "resume");
		idx_state_set(p->l.e->idx, key, -1);
	}
	return NULL;
}

static void part_setup(struct fs_env *e, struct part *p, int k, int64_t pass,
		       bool quiet)
{
	char key[64];

	memset(p, 0, sizeof(*p));
	p->l.e = e;
	p->l.pass = (uint64_t)pass;
	p->l.part = k;
	p->l.quiet = quiet;
	p->l.oldest = -1;
	listing_state_key(key, sizeof(key), k, "from");
	p->l.from = state_or(e->idx, key, -1);
	listing_state_key(key, sizeof(key), k, "to");
	p->l.to = state_or(e->idx, key, -1);
	listing_state_key(key, sizeof(key), k, "resume");
	p->l.resume_ms = state_or(e->idx, key, -1);
	listing_state_key(key, sizeof(key), k, "done");
	p->res = state_or(e->idx, key, 0) ? 1 : 0;
}

/* Runs every unfinished partition, one thread each beyond the first. */
static int run_parts(struct fs_env *e, int64_t pass, bool quiet)
{
	int parts = (int)state_or(e->idx, "full.parts", 1), k, res = 0;
	struct part p[MAX_PARTITIONS];
	bool started[MAX_PARTITIONS] = { false };

	if (parts < 1 || parts > MAX_PARTITIONS)
		parts = 1;
	for (k = 0; k < parts; k++)
		part_setup(e, &p[k], k, pass, quiet);
	for (k = 1; k < parts; k++)
		if (p[k].res == 0)
			started[k] = pthread_create(&p[k].thread, NULL,
						    part_main, &p[k]) == 0;
	for (k = 0; k < parts; k++) {
		if (p[k].res == 0 && !started[k])
			part_main(&p[k]);
		else if (started[k])
			pthread_join(p[k].thread, NULL);
		if (p[k].res < 0 && res == 0)
			res = p[k].res;
	}
	return res;
}

struct sweep_ctx {
	struct fs_env *e;
	bool quiet;
};

static void on_removed(const char *id, void *arg)
{
	struct sweep_ctx *c = arg;

	if (!c->quiet)
		inval_post("/%s/profiles/%s.json", c->e->name, id);
}

/* Drops what the listing did not see and marks the listing complete. */
static int end_listing(struct fs_env *e, int64_t pass, bool quiet)
{
	struct sweep_ctx c = { .e = e, .quiet = quiet };
	size_t removed;
	int res;

	res = idx_begin(e->idx);
	if (res < 0)
		return res;
	removed = idx_sweep(e->idx, (uint64_t)pass, on_removed, &c);
	idx_state_set(e->idx, "full.pass", 0);
	idx_state_set(e->idx, "full.done_ms", env_wall_ms());
	res = idx_commit(e->idx);
	if (res == 0 && removed)
		log_info("%s: %zu profile(s) deleted at Sprinklr", e->name,
			 removed);
	return res;
}

/*
 * With the store locked: resumes the unfinished listing or begins one; or
 * nothing when another mount completed one since this one was asked for
 * (at asked, epoch ms).
 */
static int full_listing(struct fs_env *e, int64_t asked)
{
	int64_t done = state_or(e->idx, "full.done_ms", 0);
	int64_t pass = state_or(e->idx, "full.pass", 0);
	bool quiet = done == 0;
	int res;

	if (!pass && done > asked)
		return 0;
	if (!pass) {
		res = begin_listing(e);
		if (res < 0)
			return res;
		pass = state_or(e->idx, "full.pass", 0);
	} else {
		log_info("%s: resuming the unfinished full listing", e->name);
	}
	pthread_mutex_lock(&e->sync.lock);
	reload(e, true);
	pthread_mutex_unlock(&e->sync.lock);
	res = run_parts(e, pass, quiet);
	if (res == 0)
		res = end_listing(e, pass, quiet);
	if (res == 0) {
		inval_post("/%s", e->name);
		inval_post("/%s/profiles", e->name);
		inval_post("/%s/profiles.ndjson", e->name);
	}
	return res;
}

static void *full_main(void *arg)
{
	struct fs_env *e = arg;
	struct sync_state *s = &e->sync;
	int64_t asked;
	int fd, res;

	pthread_mutex_lock(&s->lock);
	asked = s->full_asked_ms;
	pthread_mutex_unlock(&s->lock);
	fd = lock_store(e);
	res = fd;
	if (fd >= 0) {
		res = full_listing(e, asked);
		close(fd);
	}
	pthread_mutex_lock(&s->lock);
	reload(e, true);
	s->full_running = false;
	s->full_runs++;
	s->full_result = res == -ECANCELED ? -EIO : res;
	if (res == 0) {
		s->last_sync = env_now();
		s->last_sync_wall = time(NULL);
		s->synced = true;
	}
	s->stale = res < 0;
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
	env_status_changed(e);
	return NULL;
}

/* With s->lock held: starts the listing thread unless it runs. */
static int start_full(struct fs_env *e)
{
	struct sync_state *s = &e->sync;

	if (s->full_running)
		return 0;
	if (s->stop)
		return -EIO;
	if (s->full_joinable) {
		pthread_join(s->full_thread, NULL);
		s->full_joinable = false;
	}
	s->full_started_mono = env_now();
	s->full_asked_ms = env_wall_ms();
	s->full_calls = 0;
	s->want_full = false;
	if (pthread_create(&s->full_thread, NULL, full_main, e) != 0)
		return -EAGAIN;
	s->full_running = true;
	s->full_joinable = true;
	return 0;
}

void sync_stop(struct fs_env *e)
{
	struct sync_state *s = &e->sync;
	bool join;

	pthread_mutex_lock(&s->lock);
	s->stop = true;
	join = s->full_joinable;
	s->full_joinable = false;
	pthread_mutex_unlock(&s->lock);
	if (join)
		pthread_join(s->full_thread, NULL);
}

/* --- waiting ----------------------------------------------------------- */

/* A reader asked to stop (a signal) leaves; the sync it waited for goes on. */
static bool interrupted(void)
{
	return fsop_interrupted();
}

/*
 * With s->lock held: waits until *runs moves from `from`, at most until
 * `deadline` (monotonic seconds; 0: no deadline). -EINTR when interrupted,
 * -ETIMEDOUT at the deadline.
 */
static int wait_run(struct sync_state *s, const unsigned long *runs,
		    unsigned long from, double deadline)
{
	struct timespec until;

	while (*runs == from) {
		if (interrupted())
			return -EINTR;
		if (deadline > 0 && env_now() >= deadline)
			return -ETIMEDOUT;
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

/* --- incremental syncs ----------------------------------------------------- */

static int run_incremental(struct fs_env *e, int64_t since)
{
	struct listing l = { .e = e, .part = -1, .from = since, .to = -1,
			     .resume_ms = since, .newest = since,
			     .oldest = -1 };
	int res;

	l.pass = (uint64_t)state_or(e->idx, "pass", 0);
	res = listing_run(&l);
	if (res == 0 && l.changed) {
		inval_post("/%s", e->name);
		inval_post("/%s/profiles", e->name);
		inval_post("/%s/profiles.ndjson", e->name);
	}
	return res;
}

/* With s->lock held; drops it while the sync runs. */
static int incremental(struct fs_env *e)
{
	struct sync_state *s = &e->sync;
	int64_t since = s->newest_ms;
	int res;

	s->inc_running = true;
	pthread_mutex_unlock(&s->lock);
	res = run_incremental(e, since);
	pthread_mutex_lock(&s->lock);
	s->inc_running = false;
	s->inc_runs++;
	s->inc_result = res;
	s->last_sync = env_now();
	s->last_sync_wall = time(NULL);
	s->synced = true;
	s->stale = res < 0;
	reload(e, true);
	pthread_cond_broadcast(&s->done);
	return res;
}

/* --- deciding ---------------------------------------------------------------- */

/* With s->lock held: whether a full listing should run. */
static bool full_due(struct fs_env *e, enum sync_mode mode)
{
	const struct sync_state *s = &e->sync;

	return mode == SYNC_FULL || s->want_full || !s->last_full_wall ||
	       s->pass || difftime(time(NULL), s->last_full_wall) >=
	       e->fs->opts.full_sync;
}

/* Stale-if-error: with a complete store, a failed sync serves what it has. */
static int outcome(const struct sync_state *s, int res)
{
	if (res < 0 && s->last_full_wall && res != -EACCES && res != -EINTR)
		return 0;
	return res;
}

/* With s->lock held: a reader's wait for the running full listing. */
static int wait_full(struct fs_env *e, enum sync_mode mode)
{
	struct sync_state *s = &e->sync;
	unsigned long runs = s->full_runs;
	double deadline = 0;
	int res;

	if (mode == SYNC_IF_DUE) {
		if (s->last_full_wall)
			return 0;	/* a complete store serves meanwhile */
		/* readers wait read_timeout from the listing's start, in all */
		deadline = s->full_started_mono + e->fs->opts.read_timeout;
		if (env_now() >= deadline)
			return 0;
	}
	res = wait_run(s, &s->full_runs, runs, deadline);
	if (res == -ETIMEDOUT)
		return 0;		/* what is synced so far */
	if (res < 0)
		return res;
	return mode == SYNC_IF_DUE ? outcome(s, s->full_result) : s->full_result;
}

int sync_profiles(struct fs_env *e, enum sync_mode mode)
{
	struct sync_state *s = &e->sync;
	unsigned long runs;
	int res = 0;

	pthread_mutex_lock(&s->lock);
	sync_reload(e);
	if (mode == SYNC_COMPLETE && s->last_full_wall)
		goto out_unlock;
	if (full_due(e, mode) || s->full_running) {
		if (mode == SYNC_FULL)
			s->want_full = true;
		res = s->full_running ? 0 : start_full(e);
		if (res == 0)
			res = wait_full(e, mode);
		goto out_unlock;
	}
	if (s->inc_running) {
		runs = s->inc_runs;
		res = wait_run(s, &s->inc_runs, runs, 0);
		if (res == 0)
			res = s->inc_result;
		goto out_outcome;
	}
	if (mode == SYNC_NOW || !s->synced ||
	    env_now() - s->last_sync >= e->fs->opts.ttl)
		res = incremental(e);
out_outcome:
	if (mode == SYNC_IF_DUE)
		res = outcome(s, res);
out_unlock:
	pthread_mutex_unlock(&s->lock);
	return res;
}

/* --- single profiles ---------------------------------------------------- */

/* GET one profile (by id or by channel) into the store. */
static int fetch_one(struct fs_env *e, const char *endpoint, const char *path,
		     const char *missing_key)
{
	struct api_reply reply;
	const cJSON *data;
	bool changed;
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
	res = cJSON_IsObject(data) ?
	      idx_put(e->idx, data, (uint64_t)state_or(e->idx, "pass", 0), &mt,
		      &changed) : -EIO;
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
	if (!item && errno != ENOENT) {
		res = -EIO;	/* the store failed: a GET would not help */
	} else if (!item) {
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
	} else if (errno != ENOENT) {
		res = -EIO;	/* the store failed: a GET would not help */
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

/* --- status ---------------------------------------------------------------- */

/* Seconds left at the pace so far, and no sooner than the quota allows. */
static double seconds_left(const struct fs_env *e, const struct sync_state *s)
{
	const struct fs_options *o = &e->fs->opts;
	double f = s->fraction, elapsed, calls_left, by_quota;

	if (f <= 0.001 || !s->full_calls)
		return -1;
	elapsed = env_now() - s->full_started_mono;
	calls_left = (double)s->full_calls * (1 - f) / f;
	by_quota = o->rate_per_hour ? calls_left * 3600.0 / o->rate_per_hour
				    : 0;
	if (o->rate_per_hour && calls_left <= o->rate_per_hour)
		by_quota = o->rate_per_second ? calls_left / o->rate_per_second
					      : 0;
	if (elapsed * (1 - f) / f > by_quota)
		by_quota = elapsed * (1 - f) / f;
	return (double)(long)(by_quota + 0.999);
}

void sync_info(struct fs_env *e, struct sync_info *info)
{
	struct sync_state *s = &e->sync;

	pthread_mutex_lock(&s->lock);
	sync_reload(e);
	memset(info, 0, sizeof(*info));
	info->listing = s->full_running || s->pass;
	if (!s->last_full_wall && !s->full_running && s->full_runs &&
	    s->full_result < 0) {
		info->state = "failed";
	} else if (s->stale) {
		info->state = "stale";
	} else if (s->last_full_wall) {
		info->state = "complete";
	} else if (info->listing) {
		info->state = "listing";
	} else {
		info->state = "never";
	}
	info->last_sync = s->last_sync_wall;
	info->last_full = s->last_full_wall;
	info->newest_ms = s->newest_ms;
	info->fraction = s->pass ? s->fraction : s->last_full_wall ? 1 : 0;
	info->calls = s->full_calls;
	info->seconds_left = info->listing ? seconds_left(e, s) : 0;
	pthread_mutex_unlock(&s->lock);
}

/* Whether a full listing has ever completed (in any process). */
bool sync_complete(struct fs_env *e)
{
	bool complete;

	pthread_mutex_lock(&e->sync.lock);
	sync_reload(e);
	complete = e->sync.last_full_wall != 0;
	pthread_mutex_unlock(&e->sync.lock);
	return complete;
}
