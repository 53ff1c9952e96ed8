/*
 * pagesize.c - the page size a search asks for (see pagesize.h).
 *
 * Concurrency: `lock` protects the size and whether the server accepted
 * it; it is held for a read or a write of one state key in the store, never
 * across an API call. Partitions that ask at once may each meet the same
 * 400; a refusal of a size larger than the current one only says to ask
 * the current one, so two threads never halve twice for one answer.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <glib.h>

#include "auth/base/log.h"
#include "fs/sync/pagesize.h"
#include "fs/sync/state.h"

struct pagesize {
	struct store *store;
	int configured;		/* page_size=N, or PAGESIZE_AUTO */
	pthread_mutex_t lock;
	int size;		/* protected by lock: what to ask for */
	bool known;		/* protected by lock: accepted, in the store */
};

struct pagesize *pagesize_new(struct store *st, int configured)
{
	struct pagesize *ps = g_new0(struct pagesize, 1);

	ps->store = st;
	ps->configured = configured;
	ps->size = configured == PAGESIZE_AUTO ? PAGESIZE_MAX : configured;
	ps->known = configured != PAGESIZE_AUTO;
	pthread_mutex_init(&ps->lock, NULL);
	return ps;
}

/* Accepts NULL. */
void pagesize_free(struct pagesize *ps)
{
	if (!ps)
		return;
	pthread_mutex_destroy(&ps->lock);
	g_free(ps);
}

/* With ps->lock held: takes the size another search (or process) stored. */
static void load(struct pagesize *ps)
{
	int64_t stored = state_get(ps->store, STATE_PAGE_SIZE, 0);

	if (ps->known || stored < 1 || stored > PAGESIZE_MAX)
		return;
	ps->size = (int)stored;
	ps->known = true;
}

/*
 * The size to ask for on the next first page of a search; *known (when not
 * NULL) says whether it needs no probing: given, or accepted before.
 */
int pagesize_get(struct pagesize *ps, bool *known)
{
	int size;

	pthread_mutex_lock(&ps->lock);
	load(ps);
	size = ps->size;
	if (known)
		*known = ps->known;
	pthread_mutex_unlock(&ps->lock);
	return size;
}

/*
 * The first page of a search at `size` got a 400. True, with the size to
 * ask next in *smaller, when page_size=auto has one to try; false when the
 * 400 stands (an explicit size, or the floor refused too). A refused floor
 * says the 400 was about something else: the next search starts over.
 */
bool pagesize_refused(struct pagesize *ps, int size, int *smaller)
{
	bool retry = false;

	if (ps->configured != PAGESIZE_AUTO)
		return false;
	pthread_mutex_lock(&ps->lock);
	if (ps->size < size) {
		retry = true;		/* another search halved it already */
	} else if (size > PAGESIZE_FLOOR) {
		ps->size = MAX(size / 2, PAGESIZE_FLOOR);
		retry = true;
	} else {
		ps->size = PAGESIZE_MAX;
	}
	ps->known = false;
	if (retry)
		*smaller = ps->size;
	pthread_mutex_unlock(&ps->lock);
	return retry;
}

/* The server answered a first page of `size`: remembered in the store. */
void pagesize_accepted(struct pagesize *ps, int size)
{
	int res = 0;

	if (ps->configured != PAGESIZE_AUTO)
		return;
	pthread_mutex_lock(&ps->lock);
	if (!ps->known || ps->size != size) {
		ps->size = size;
		res = store_state_set(ps->store, STATE_PAGE_SIZE, size);
		ps->known = res == 0;
	}
	pthread_mutex_unlock(&ps->lock);
	if (res < 0)
		log_warn("%s: cannot remember the page size %d: %s; the next "
			 "search asks for it again", store_path(ps->store),
			 size, strerror(-res));
}
