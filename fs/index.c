/*
 * index.c - the profiles of one environment: items by id, channels, snapshots.
 *
 * Concurrency
 *
 * FUSE worker threads read the index while the sync engine writes it, so
 * everything shared sits behind one mutex per index, idx->lock: the id table,
 * the channel map, the version, the newest time, the byte count and the
 * cached snapshot. Critical sections are short and never block: lookups,
 * pointer swaps, a memcmp of one rendering. The expensive work happens
 * outside the lock: idx_put renders and extracts the new item before taking
 * the lock, and idx_snapshot sorts outside it.
 *
 * Items are immutable once published, so a reader needs no lock to use one;
 * it needs a reference. Every lookup takes its reference under the lock, so
 * an item found is never freed under the finder's feet. The table holds one
 * reference per item and a snapshot one per item it lists; the count is
 * changed with __atomic builtins because a reader drops its reference
 * whenever it likes, lock or no lock. The thread that drops the last one
 * frees the item. The one mutable field, the seen mark, is only touched
 * under the lock and never by readers.
 *
 * Every change bumps the version and detaches the cached snapshot; the
 * detached one is released after the lock is dropped, since releasing it may
 * free many items. A snapshot is built from references taken under the lock,
 * sorted without it, and installed as the cache only if the version has not
 * moved in between; otherwise it serves its caller alone. A snapshot is
 * immutable and read without any lock.
 *
 * Tables are open addressing with linear probing and backward-shift deletion
 * (no tombstones), power-of-two sized, grown before anything is changed so
 * that a failed allocation leaves the index as it was.
 *
 * Items are built in render.c, snapshots sorted and read in snapshot.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "render.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL
#define TABLE_MIN 64

struct chan_slot {
	struct idx_item *item;	/* NULL when the slot is free */
	size_t k;		/* index into item->channels */
};

struct idx {
	char *env;
	pthread_mutex_t lock;
	struct idx_item **slots;	/* protected by lock */
	size_t n_slots;			/* protected by lock */
	size_t count;			/* protected by lock */
	struct chan_slot *chans;	/* protected by lock */
	size_t n_chans;			/* protected by lock */
	size_t chan_count;		/* protected by lock */
	uint64_t version;		/* protected by lock */
	int64_t newest;			/* protected by lock */
	bool newest_stale;		/* protected by lock */
	size_t item_bytes;		/* protected by lock */
	struct idx_snapshot *snap;	/* protected by lock; holds a reference */
};

/* --- hashing ------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t idx_inode(const char *env, const char *kind, const char *name)
{
	uint64_t h = FNV_OFFSET;

	h = fnv(h, env, strlen(env) + 1);
	h = fnv(h, kind, strlen(kind) + 1);
	h = fnv(h, name, strlen(name));
	return h < 16 ? h + 16 : h;
}

static uint64_t id_hash(const char *id)
{
	return fnv(FNV_OFFSET, id, strlen(id));
}

static uint64_t chan_hash(const char *type, const char *channel_id)
{
	return fnv(fnv(FNV_OFFSET, type, strlen(type) + 1), channel_id,
		   strlen(channel_id));
}

static uint64_t slot_chan_hash(const struct chan_slot *s)
{
	const struct idx_channel *c = &s->item->channels[s->k];

	return chan_hash(c->type, c->channel_id);
}

/* --- items --------------------------------------------------------------- */

static void item_ref(struct idx_item *item)
{
	__atomic_add_fetch(&item->refs, 1, __ATOMIC_RELAXED);
}

/* --- the id table (caller holds the lock) -------------------------------- */

static size_t id_slot(const struct idx *idx, const char *id)
{
	size_t mask = idx->n_slots - 1;
	size_t i = id_hash(id) & mask;

	while (idx->slots[i] && strcmp(idx->slots[i]->id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Whether home position h lies cyclically in (hole, j]: then it stays. */
static bool stays(size_t hole, size_t j, size_t h)
{
	return hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
}

static void id_delete_at(struct idx *idx, size_t hole)
{
	size_t mask = idx->n_slots - 1, j = hole;

	idx->slots[hole] = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (!idx->slots[j])
			break;
		if (stays(hole, j, id_hash(idx->slots[j]->id) & mask))
			continue;
		idx->slots[hole] = idx->slots[j];
		idx->slots[j] = NULL;
		hole = j;
	}
	idx->count--;
}

static size_t table_size_for(size_t count)
{
	size_t n = TABLE_MIN;

	while (n * 7 < count * 10)
		n *= 2;
	return n;
}

static int id_reserve(struct idx *idx, size_t count)
{
	size_t n = table_size_for(count), i, mask = n - 1, j;
	struct idx_item **slots;

	if (n <= idx->n_slots)
		return 0;
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < idx->n_slots; i++) {
		if (!idx->slots[i])
			continue;
		j = id_hash(idx->slots[i]->id) & mask;
		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = idx->slots[i];
	}
	free(idx->slots);
	idx->slots = slots;
	idx->n_slots = n;
	return 0;
}

/* --- the channel map (caller holds the lock) ----------------------------- */

static void chan_place(struct chan_slot *chans, size_t n, struct chan_slot s)
{
	size_t mask = n - 1, j = slot_chan_hash(&s) & mask;

	while (chans[j].item)
		j = (j + 1) & mask;
	chans[j] = s;
}

static int chan_reserve(struct idx *idx, size_t count)
{
	size_t n = table_size_for(count), i;
	struct chan_slot *chans;

	if (n <= idx->n_chans)
		return 0;
	chans = calloc(n, sizeof(*chans));
	if (!chans)
		return -ENOMEM;
	for (i = 0; i < idx->n_chans; i++)
		if (idx->chans[i].item)
			chan_place(chans, n, idx->chans[i]);
	free(idx->chans);
	idx->chans = chans;
	idx->n_chans = n;
	return 0;
}

static void chan_add(struct idx *idx, struct idx_item *item)
{
	size_t k;

	for (k = 0; k < item->n_channels; k++) {
		struct chan_slot s = { .item = item, .k = k };

		chan_place(idx->chans, idx->n_chans, s);
		idx->chan_count++;
	}
}

static void chan_delete_at(struct idx *idx, size_t hole)
{
	size_t mask = idx->n_chans - 1, j = hole;

	idx->chans[hole].item = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (!idx->chans[j].item)
			break;
		if (stays(hole, j, slot_chan_hash(&idx->chans[j]) & mask))
			continue;
		idx->chans[hole] = idx->chans[j];
		idx->chans[j].item = NULL;
		hole = j;
	}
	idx->chan_count--;
}

static void chan_remove(struct idx *idx, const struct idx_item *item)
{
	size_t mask = idx->n_chans - 1, k, j;

	for (k = 0; k < item->n_channels; k++) {
		const struct idx_channel *c = &item->channels[k];

		j = chan_hash(c->type, c->channel_id) & mask;
		while (idx->chans[j].item &&
		       !(idx->chans[j].item == item && idx->chans[j].k == k))
			j = (j + 1) & mask;
		if (idx->chans[j].item)
			chan_delete_at(idx, j);
	}
}

/* Of the items claiming a channel, the one with the smallest id. */
static struct idx_item *chan_lookup(const struct idx *idx, const char *type,
				    const char *channel_id)
{
	size_t mask = idx->n_chans - 1, j;
	struct idx_item *best = NULL;

	if (!idx->n_chans)
		return NULL;
	j = chan_hash(type, channel_id) & mask;
	for (; idx->chans[j].item; j = (j + 1) & mask) {
		const struct chan_slot *s = &idx->chans[j];
		const struct idx_channel *c = &s->item->channels[s->k];

		if (strcmp(c->type, type) != 0 ||
		    strcmp(c->channel_id, channel_id) != 0)
			continue;
		if (!best || strcmp(s->item->id, best->id) < 0)
			best = s->item;
	}
	return best;
}

/* --- the index ----------------------------------------------------------- */

struct idx *idx_new(const char *env)
{
	struct idx *idx;

	if (!env)
		return NULL;
	idx = calloc(1, sizeof(*idx));
	if (!idx)
		return NULL;
	idx->env = strdup(env);
	if (!idx->env)
		goto out_free_idx;
	if (pthread_mutex_init(&idx->lock, NULL) != 0)
		goto out_free_env;
	return idx;

out_free_env:
	free(idx->env);
out_free_idx:
	free(idx);
	return NULL;
}

void idx_free(struct idx *idx)
{
	size_t i;

	if (!idx)
		return;
	idx_snapshot_unref(idx->snap);
	for (i = 0; i < idx->n_slots; i++)
		idx_item_unref(idx->slots[i]);
	free(idx->slots);
	free(idx->chans);
	pthread_mutex_destroy(&idx->lock);
	free(idx->env);
	free(idx);
}

/* Records a change; returns the detached snapshot to release unlocked. */
static struct idx_snapshot *changed(struct idx *idx)
{
	struct idx_snapshot *old = idx->snap;

	idx->version++;
	idx->snap = NULL;
	return old;
}

/* Unlinks the item at slot i from both tables; the caller drops its ref. */
static void unlink_at(struct idx *idx, size_t i)
{
	struct idx_item *item = idx->slots[i];

	chan_remove(idx, item);
	id_delete_at(idx, i);
	idx->item_bytes -= render_item_bytes(item);
	if (item->modified_ms >= idx->newest)
		idx->newest_stale = true;
}

static void link_new(struct idx *idx, size_t i, struct idx_item *item)
{
	idx->slots[i] = item;
	idx->count++;
	chan_add(idx, item);
	idx->item_bytes += render_item_bytes(item);
	if (item->modified_ms > idx->newest)
		idx->newest = item->modified_ms;
}

static bool same_bytes(const struct idx_item *a, const struct idx_item *b)
{
	return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

/* Publishes item (the caller's reference passes to the table). */
static int publish(struct idx *idx, struct idx_item *item,
		   struct idx_snapshot **detached)
{
	struct idx_item *old;
	size_t i;

	if (id_reserve(idx, idx->count + 1) < 0 ||
	    chan_reserve(idx, idx->chan_count + item->n_channels) < 0)
		return -ENOMEM;
	i = id_slot(idx, item->id);
	old = idx->slots[i];
	if (old) {
		unlink_at(idx, i);
		idx_item_unref(old);
		i = id_slot(idx, item->id);
	}
	link_new(idx, i, item);
	*detached = changed(idx);
	return 0;
}

int idx_put(struct idx *idx, const cJSON *profile, uint64_t pass,
	    int64_t *modified_ms)
{
	struct idx_snapshot *detached = NULL;
	struct idx_item *item, *cur;
	int64_t modified;
	int ret;

	ret = render_item(profile, idx->env, &item);
	if (ret < 0)
		return ret;
	item->seen = pass;
	modified = item->modified_ms;
	pthread_mutex_lock(&idx->lock);
	cur = idx->n_slots ? idx->slots[id_slot(idx, item->id)] : NULL;
	if (cur && same_bytes(cur, item)) {
		cur->seen = pass;
		pthread_mutex_unlock(&idx->lock);
		idx_item_unref(item);
		*modified_ms = modified;
		return 0;
	}
	ret = publish(idx, item, &detached);
	pthread_mutex_unlock(&idx->lock);
	idx_snapshot_unref(detached);
	if (ret < 0) {
		idx_item_unref(item);
		return ret;
	}
	*modified_ms = modified;
	return 0;
}

int idx_remove(struct idx *idx, const char *id)
{
	struct idx_snapshot *detached = NULL;
	struct idx_item *item = NULL;
	size_t i;

	if (!id)
		return -EINVAL;
	pthread_mutex_lock(&idx->lock);
	if (idx->n_slots) {
		i = id_slot(idx, id);
		item = idx->slots[i];
	}
	if (item) {
		unlink_at(idx, i);
		detached = changed(idx);
	}
	pthread_mutex_unlock(&idx->lock);
	idx_snapshot_unref(detached);
	idx_item_unref(item);
	return item ? 0 : -ENOENT;
}

size_t idx_sweep(struct idx *idx, uint64_t pass)
{
	struct idx_snapshot *detached = NULL;
	size_t i = 0, removed = 0;
	struct idx_item *item;

	pthread_mutex_lock(&idx->lock);
	while (i < idx->n_slots) {
		item = idx->slots[i];
		if (!item || item->seen >= pass) {
			i++;
			continue;
		}
		/* backward shift may move an unseen item into slot i */
		unlink_at(idx, i);
		idx_item_unref(item);
		removed++;
	}
	if (removed)
		detached = changed(idx);
	pthread_mutex_unlock(&idx->lock);
	idx_snapshot_unref(detached);
	return removed;
}

size_t idx_count(struct idx *idx)
{
	size_t n;

	pthread_mutex_lock(&idx->lock);
	n = idx->count;
	pthread_mutex_unlock(&idx->lock);
	return n;
}

int64_t idx_newest(struct idx *idx)
{
	int64_t newest;
	size_t i;

	pthread_mutex_lock(&idx->lock);
	if (idx->newest_stale) {
		idx->newest = 0;
		for (i = 0; i < idx->n_slots; i++)
			if (idx->slots[i] && idx->slots[i]->modified_ms > idx->newest)
				idx->newest = idx->slots[i]->modified_ms;
		idx->newest_stale = false;
	}
	newest = idx->newest;
	pthread_mutex_unlock(&idx->lock);
	return newest;
}

struct idx_item *idx_find(struct idx *idx, const char *id)
{
	struct idx_item *item = NULL;

	if (!id)
		return NULL;
	pthread_mutex_lock(&idx->lock);
	if (idx->n_slots)
		item = idx->slots[id_slot(idx, id)];
	if (item)
		item_ref(item);
	pthread_mutex_unlock(&idx->lock);
	return item;
}

struct idx_item *idx_find_channel(struct idx *idx, const char *type,
				  const char *channel_id)
{
	struct idx_item *item;

	if (!type || !channel_id)
		return NULL;
	pthread_mutex_lock(&idx->lock);
	item = chan_lookup(idx, type, channel_id);
	if (item)
		item_ref(item);
	pthread_mutex_unlock(&idx->lock);
	return item;
}

size_t idx_bytes(struct idx *idx)
{
	size_t n;

	pthread_mutex_lock(&idx->lock);
	n = sizeof(*idx) + strlen(idx->env) + 1 + idx->item_bytes;
	n += idx->n_slots * sizeof(*idx->slots);
	n += idx->n_chans * sizeof(*idx->chans);
	if (idx->snap)
		n += sizeof(*idx->snap) + idx->snap->n *
		     (sizeof(*idx->snap->items) + sizeof(*idx->snap->ends));
	pthread_mutex_unlock(&idx->lock);
	return n;
}

/* --- snapshots ----------------------------------------------------------- */

/* Takes references to every item; caller holds the lock. */
static void snap_collect(struct idx *idx, struct idx_snapshot *snap)
{
	size_t i, n = 0;

	for (i = 0; i < idx->n_slots; i++) {
		if (!idx->slots[i])
			continue;
		item_ref(idx->slots[i]);
		snap->items[n++] = idx->slots[i];
	}
}

struct idx_snapshot *idx_snapshot(struct idx *idx)
{
	struct idx_snapshot *snap;
	uint64_t version;

	pthread_mutex_lock(&idx->lock);
	snap = idx->snap;
	if (snap) {
		__atomic_add_fetch(&snap->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&idx->lock);
		return snap;
	}
	snap = snapshot_alloc(idx->count);
	if (!snap) {
		pthread_mutex_unlock(&idx->lock);
		return NULL;
	}
	snap_collect(idx, snap);
	version = idx->version;
	pthread_mutex_unlock(&idx->lock);

	snapshot_sort(snap);

	pthread_mutex_lock(&idx->lock);
	if (!idx->snap && idx->version == version) {
		snap->refs++;
		idx->snap = snap;
	}
	pthread_mutex_unlock(&idx->lock);
	return snap;
}
