/*
 * inodes.c - the kernel's inodes (see inodes.h).
 *
 * Concurrency: `lock` protects the table, every inode's parent, links and
 * counts. Names, nodes and snapshots never change after an inode is made. A
 * snapshot being freed is closed after the lock is released.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "fs/fuse/inodes.h"

#define BUCKETS_MIN 1024
#define PROFILE_BIT (1ULL << 63)
#define ENV_SHIFT 48
#define POS_MASK ((1ULL << ENV_SHIFT) - 1)
#define LINK_BIT (1ULL << 62)
#define DIR_SHIFT 40
#define ROW_MASK ((1ULL << DIR_SHIFT) - 1)
#define DIRS_MAX ((1U << (62 - DIR_SHIFT)) - 1)

struct ino {
	struct ino *parent;
	struct ino *next;		/* in its bucket, while hashed */
	uint64_t nlookup;
	size_t children;		/* inodes whose parent this is */
	bool hashed;			/* found by its name */
	struct content *snap;
	uint64_t version;		/* protected by lock: ino_dir_unchanged */
	uint32_t number;		/* a directory's with links, or 0 */
	struct node node;		/* its strings: its own, or ancestors' */
	char name[];			/* then the string its name brought */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ino root = {
	.nlookup = 1, .hashed = true,
	.node = { .kind = NODE_ROOT, .id = "", .workspace = "",
		  .channel_type = "" },
};
static struct ino **buckets;	/* protected by lock */
static size_t n_buckets;	/* protected by lock */
static size_t n_inodes;		/* protected by lock */
static struct ino *stale;	/* protected by lock: replaced snapshots */
/* Protected by lock: the directories numbered for their links' node ids,
 * by number (0 is none), and the numbers free for another. */
static GPtrArray *numbered;
static GArray *free_numbers;

fuse_ino_t ino_profile(size_t env, uint64_t pos)
{
	return PROFILE_BIT | (uint64_t)env << ENV_SHIFT | (pos & POS_MASK);
}

bool ino_is_profile(fuse_ino_t nodeid, size_t *env, uint64_t *pos)
{
	if (!(nodeid & PROFILE_BIT))
		return false;
	*env = (size_t)((nodeid & ~PROFILE_BIT) >> ENV_SHIFT);
	*pos = nodeid & POS_MASK;
	return true;
}

/* With the lock held: dir's number, given now if it has none; 0 if none
 * can be had. */
static uint32_t number_of(struct ino *dir)
{
	if (dir->number)
		return dir->number;
	if (!numbered) {
		numbered = g_ptr_array_new();
		g_ptr_array_add(numbered, NULL);
		free_numbers = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	}
	if (free_numbers->len) {
		dir->number = g_array_index(free_numbers, uint32_t,
					    free_numbers->len - 1);
		g_array_set_size(free_numbers, free_numbers->len - 1);
		numbered->pdata[dir->number] = dir;
	} else if (numbered->len <= DIRS_MAX) {
		dir->number = numbered->len;
		g_ptr_array_add(numbered, dir);
	}
	return dir->number;
}

/* With the lock held: the number of a directory being freed is free. */
static void unnumber(struct ino *dir)
{
	if (!dir->number)
		return;
	numbered->pdata[dir->number] = NULL;
	g_array_append_val(free_numbers, dir->number);
	dir->number = 0;
}

fuse_ino_t ino_link(struct ino *dir, uint64_t row)
{
	uint32_t number;

	if (row > ROW_MASK || dir == &root)
		return 0;
	pthread_mutex_lock(&lock);
	number = number_of(dir);
	pthread_mutex_unlock(&lock);
	return number ? LINK_BIT | (uint64_t)number << DIR_SHIFT | row : 0;
}

bool ino_is_link(fuse_ino_t nodeid, struct ino **dir, uint64_t *row)
{
	uint64_t number;

	if ((nodeid & (PROFILE_BIT | LINK_BIT)) != LINK_BIT)
		return false;
	number = (nodeid & ~LINK_BIT) >> DIR_SHIFT;
	*row = nodeid & ROW_MASK;
	pthread_mutex_lock(&lock);
	*dir = numbered && number < numbered->len ?
	       g_ptr_array_index(numbered, number) : NULL;
	pthread_mutex_unlock(&lock);
	return true;
}

bool ino_is_own(fuse_ino_t nodeid)
{
	return !(nodeid & (PROFILE_BIT | LINK_BIT));
}

struct ino *ino_of(fuse_ino_t nodeid)
{
	return nodeid == FUSE_ROOT_ID ? &root : (struct ino *)(uintptr_t)nodeid;
}

fuse_ino_t ino_nodeid(const struct ino *ino)
{
	return ino == &root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)ino;
}

const struct content *ino_snapshot(const struct ino *ino)
{
	return ino->snap;
}

bool ino_dir_unchanged(struct ino *ino, uint64_t version)
{
	bool same;

	pthread_mutex_lock(&lock);
	same = ino->version == version;
	ino->version = version;
	pthread_mutex_unlock(&lock);
	return same;
}

const struct node *ino_node(const struct ino *ino)
{
	return &ino->node;
}

static size_t hash(const struct ino *parent, const char *name)
{
	uint64_t h = (uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 29)) & (n_buckets - 1);
}

static void grow(void)
{
	size_t old = n_buckets, i;
	struct ino **was = buckets, *ino, *next;
	struct ino **now = calloc(old ? old * 2 : BUCKETS_MIN, sizeof(*now));

	if (!now)
		return;		/* longer chains, still correct */
	buckets = now;
	n_buckets = old ? old * 2 : BUCKETS_MIN;
	for (i = 0; i < old; i++) {
		for (ino = was[i]; ino; ino = next) {
			size_t b = hash(ino->parent, ino->name);

			next = ino->next;
			ino->next = buckets[b];
			buckets[b] = ino;
		}
	}
	free(was);
}

static struct ino *find(const struct ino *parent, const char *name)
{
	struct ino *ino;

	if (!buckets)
		return NULL;
	for (ino = buckets[hash(parent, name)]; ino; ino = ino->next)
		if (ino->parent == parent && strcmp(ino->name, name) == 0)
			return ino;
	return NULL;
}

/* Out of its bucket, or off the list of replaced snapshots. */
static void unlink_ino(struct ino *ino)
{
	struct ino **p = ino->hashed ? &buckets[hash(ino->parent, ino->name)]
				     : &stale;

	while (*p != ino)
		p = &(*p)->next;
	*p = ino->next;
	ino->next = NULL;
}

static void free_snapshot(struct content *snap)
{
	if (snap) {
		content_close(snap);
		free(snap);
	}
}

/* Whether one of node's strings is `own` (to be copied). */
static bool uses(const struct node *node, const char *own)
{
	return own && (node->id == own || node->workspace == own ||
		       node->channel_type == own);
}

/* A new inode for node, its strings that are `own` copied after its name. */
static struct ino *make(struct ino *parent, const char *name,
			const struct node *node, const char *own,
			struct content *snap)
{
	size_t len = strlen(name), own_len = uses(node, own) ? strlen(own) : 0;
	struct ino *ino = calloc(1, sizeof(*ino) + len + own_len + 2);
	char *copy;

	if (!ino)
		return NULL;
	memcpy(ino->name, name, len + 1);
	copy = ino->name + len + 1;
	ino->node = *node;
	if (uses(node, own)) {
		memcpy(copy, own, own_len + 1);
		if (node->id == own)
			ino->node.id = copy;
		if (node->workspace == own)
			ino->node.workspace = copy;
		if (node->channel_type == own)
			ino->node.channel_type = copy;
	}
	ino->parent = parent;
	ino->nlookup = 1;
	ino->snap = snap;
	ino->hashed = true;
	return ino;
}

struct ino *ino_enter(struct ino *parent, const char *name,
		      const struct node *node, const char *own,
		      struct content *snap)
{
	struct ino *ino, *replaced = NULL;
	size_t b;

	pthread_mutex_lock(&lock);
	ino = find(parent, name);
	if (ino && snap && (!ino->snap || !content_same(ino->snap, snap))) {
		replaced = ino;
		ino = NULL;
	}
	if (ino) {
		ino->nlookup++;
		pthread_mutex_unlock(&lock);
		free_snapshot(snap);
		return ino;
	}
	if (n_inodes >= n_buckets * 2)
		grow();
	ino = buckets ? make(parent, name, node, own, snap) : NULL;
	if (!ino) {
		pthread_mutex_unlock(&lock);
		free_snapshot(snap);
		return NULL;
	}
	if (replaced) {
		/* readable by whoever has it open, until it is forgotten */
		unlink_ino(replaced);
		replaced->hashed = false;
		replaced->next = stale;
		stale = replaced;
	}
	b = hash(parent, name);
	ino->next = buckets[b];
	buckets[b] = ino;
	parent->children++;
	n_inodes++;
	pthread_mutex_unlock(&lock);
	return ino;
}

/* With the lock held: frees what no lookup and no child needs, upwards.
 * Snapshots are handed back to be closed without the lock. */
static struct content *release(struct ino *ino)
{
	struct content *snap = NULL;
	struct ino *parent;

	while (ino != &root && ino->nlookup == 0 && ino->children == 0) {
		parent = ino->parent;
		unlink_ino(ino);
		unnumber(ino);
		if (ino->snap)
			snap = ino->snap;	/* only files: the first */
		free(ino);
		n_inodes--;
		parent->children--;
		ino = parent;
	}
	return snap;
}

void ino_forget(struct ino *ino, uint64_t nlookup)
{
	struct content *snap;

	if (ino == &root)
		return;
	pthread_mutex_lock(&lock);
	ino->nlookup = nlookup < ino->nlookup ? ino->nlookup - nlookup : 0;
	snap = release(ino);
	pthread_mutex_unlock(&lock);
	free_snapshot(snap);
}

fuse_ino_t ino_walk(const char *const names[], fuse_ino_t *parent,
		    bool *snapshot)
{
	struct ino *ino = &root, *up = NULL;
	fuse_ino_t found;

	pthread_mutex_lock(&lock);
	for (; ino && *names; names++) {
		up = ino;
		ino = find(ino, *names);
	}
	found = ino ? ino_nodeid(ino) : 0;
	*parent = up && !*names ? ino_nodeid(up) : 0;
	*snapshot = ino && ino->snap;
	pthread_mutex_unlock(&lock);
	return found;
}

size_t ino_children_at(const char *const names[])
{
	struct ino *ino = &root;
	size_t n;

	pthread_mutex_lock(&lock);
	for (; ino && *names; names++)
		ino = find(ino, *names);
	n = ino ? ino->children : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

size_t ino_count(void)
{
	size_t n;

	pthread_mutex_lock(&lock);
	n = n_inodes;
	pthread_mutex_unlock(&lock);
	return n;
}

void ino_clear(void)
{
	struct ino *ino, *next, *all = NULL;
	size_t i;

	pthread_mutex_lock(&lock);
	all = stale;
	stale = NULL;
	for (i = 0; i < n_buckets; i++) {
		for (ino = buckets[i]; ino; ino = next) {
			next = ino->next;
			ino->next = all;
			all = ino;
		}
	}
	free(buckets);
	buckets = NULL;
	n_buckets = 0;
	if (numbered) {
		g_ptr_array_unref(numbered);
		g_array_unref(free_numbers);
		numbered = NULL;
		free_numbers = NULL;
	}
	n_inodes = 0;
	root.children = 0;
	pthread_mutex_unlock(&lock);
	for (ino = all; ino; ino = next) {
		next = ino->next;
		free_snapshot(ino->snap);
		free(ino);
	}
}
