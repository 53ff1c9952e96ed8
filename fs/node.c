/*
 * node.c - attributes, contents and entries of the nodes of the tree.
 *
 * Costs (documented in the README): names and synthetic directories cost no
 * API call; profiles/ and everything derived from profiles first make sure
 * the index is synced (sync_profiles, SYNC_IF_DUE); documents and lists are
 * one cached call each; an unknown profile or channel id is one call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "node.h"
#include "status.h"
#include "sync.h"

#define STATUS_FRESH_S 1.0

static void base_stat(const struct fs *fs, struct stat *st, mode_t type,
		      uint64_t ino, int64_t mtime_ms)
{
	mode_t perm = type == S_IFDIR ? 0555 : type == S_IFLNK ? 0777 : 0444;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (type != S_IFLNK)
		perm &= ~fs->opts.umask;
	st->st_mode = type | perm;
	st->st_nlink = 1;
	st->st_uid = fs->opts.uid;
	st->st_gid = fs->opts.gid;
	st->st_blksize = 4096;
	st->st_mtim.tv_sec = mtime_ms / 1000;
	st->st_mtim.tv_nsec = (mtime_ms % 1000) * 1000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static void set_size(struct stat *st, uint64_t size)
{
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

static void dir_stat(const struct fs *fs, struct stat *st, uint64_t ino,
		     int64_t mtime_ms, size_t subdirs)
{
	base_stat(fs, st, S_IFDIR, ino, mtime_ms);
	st->st_nlink = (nlink_t)(2 + subdirs);
}

static uint64_t env_ino(const struct fs_env *e, const char *kind,
			const char *name)
{
	return idx_inode(e->name, kind, name);
}

static int64_t env_newest(struct fs_env *e)
{
	return idx_newest(e->idx);
}

static void item_stat(const struct fs *fs, const struct idx_item *item,
		      struct stat *st)
{
	base_stat(fs, st, S_IFREG, item->ino, item->modified_ms);
	set_size(st, item->size);
}

/* After a find gave NULL: -ENOENT, or -EIO when the store failed (noted for
 * .status.json and logged). */
static int not_found(struct fs_env *e)
{
	int err = errno;

	if (err == ENOENT)
		return -ENOENT;
	env_note_error(e, "%s: cannot read the store: %s", e->name,
		       strerror(err));
	return -EIO;
}

/*
 * The store is synced as far as is due; then the profile's bytes, fetched
 * if unknown.
 */
static int find_profile(struct fs_env *e, const char *id, struct idx_item **out)
{
	struct idx_item *item;
	int res = sync_profiles(e, SYNC_IF_DUE);

	if (res < 0)
		return res;
	item = idx_find_bytes(e->idx, id);
	if (!item) {
		res = not_found(e);
		if (res == -ENOENT)
			res = sync_fetch_profile(e, id);
		if (res < 0)
			return res;
		item = idx_find_bytes(e->idx, id);
	}
	if (!item)
		return not_found(e);
	*out = item;
	return 0;
}

/* A store call's result, a failing store being -EIO (as not_found says). */
static int store_result(struct fs_env *e, int res)
{
	if (res < 0 && res != -ENOENT) {
		errno = -res;
		res = not_found(e);
	}
	return res;
}

static int store_stat(struct fs_env *e, const char *id, uint64_t *size,
		      int64_t *modified_ms, uint64_t *pos)
{
	return store_result(e, idx_stat(e->idx, id, size, modified_ms, pos));
}

int node_profile_at(struct fs_env *e, uint64_t pos, struct node *n)
{
	memset(n, 0, sizeof(*n));
	n->kind = NODE_PROFILE;
	n->env = e;
	return store_result(e, idx_id_at(e->idx, pos, n->id));
}

/* A profile's attributes without its bytes (an ls -l of many). */
int node_profile_stat(struct fs *fs, const struct node *n, struct stat *st,
		      uint64_t *pos)
{
	struct fs_env *e = n->env;
	int64_t modified_ms;
	uint64_t size;
	int res = sync_profiles(e, SYNC_IF_DUE);

	if (res < 0)
		return res;
	res = store_stat(e, n->id, &size, &modified_ms, pos);
	if (res == -ENOENT) {
		res = sync_fetch_profile(e, n->id);
		if (res == 0)
			res = store_stat(e, n->id, &size, &modified_ms, pos);
	}
	if (res < 0)
		return res;
	base_stat(fs, st, S_IFREG, idx_inode(e->name, "profile", n->id),
		  modified_ms);
	set_size(st, size);
	return 0;
}

static int find_channel(struct fs_env *e, const char *type, const char *cid,
			struct idx_item **out)
{
	struct idx_item *item;
	int res = sync_profiles(e, SYNC_IF_DUE);

	if (res < 0)
		return res;
	item = idx_find_channel(e->idx, type, cid);
	if (!item) {
		res = not_found(e);
		if (res == -ENOENT)
			res = sync_fetch_channel(e, type, cid);
		if (res < 0)
			return res;
		item = idx_find_channel(e->idx, type, cid);
	}
	if (!item)
		return not_found(e);
	*out = item;
	return 0;
}

static enum doc_kind list_doc(const struct node *n)
{
	return n->workspace[0] ? DOC_CLIENT_LISTS : DOC_PARTNER_LISTS;
}

/* A copy of the list n names (its blob referenced), or -ENOENT. */
static int find_list(const struct node *n, struct doc_list *out)
{
	struct doc_list *lists;
	size_t count, i;
	int res;

	res = docs_lists(n->env, list_doc(n), &lists, &count);
	if (res < 0)
		return res;
	res = -ENOENT;
	for (i = 0; i < count; i++) {
		if (lists[i].id == n->list_id &&
		    strcmp(lists[i].workspace, n->workspace) == 0) {
			*out = lists[i];
			blob_ref(out->json);
			res = 0;
			break;
		}
	}
	docs_lists_free(lists, count);
	return res;
}

static bool is_member(const struct node *n, const struct idx_item *item)
{
	if (n->workspace[0])
		return idx_item_in_space_list(item, n->workspace, n->list_id);
	return idx_item_in_partner_list(item, n->list_id);
}

static void link_stat(const struct fs *fs, const struct node *n,
		      const char *id, int64_t modified_ms, struct stat *st)
{
	char target[IDX_ID_MAX + 64];
	int len = tree_link_target(n, id, target, sizeof(target));
	char key[2 * IDX_ID_MAX + TREE_CHANNEL_TYPE_MAX + 64];

	snprintf(key, sizeof(key), "%s/%s/%lld/%s",
		 n->kind == NODE_CHANNEL_LINK ? n->channel_type : n->workspace,
		 n->kind == NODE_CHANNEL_LINK ? n->id : "", (long long)n->list_id,
		 id);
	base_stat(fs, st, S_IFLNK, idx_inode(n->env->name, "link", key),
		  modified_ms);
	set_size(st, len > 0 ? (uint64_t)len : 0);
}

/* Distinct values among the lists: workspace ids, or the lists of one. */
static size_t count_workspaces(const struct doc_list *lists, size_t n)
{
	size_t i, j, distinct = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(lists[i].workspace, lists[j].workspace) == 0)
				break;
		distinct += j == i;
	}
	return distinct;
}

/* The lists behind lists/partner, or behind lists/workspace and its dirs. */
static int lists_below(const struct node *n, struct doc_list **lists,
		       size_t *count)
{
	return docs_lists(n->env, n->kind == NODE_PARTNER ? DOC_PARTNER_LISTS
							  : DOC_CLIENT_LISTS,
			  lists, count);
}

static int lists_stat(struct fs *fs, const struct node *n, struct stat *st)
{
	struct doc_list *lists;
	size_t count, i, subdirs = 0;
	int64_t newest = 0;
	int res;

	res = lists_below(n, &lists, &count);
	if (res < 0)
		return res;
	for (i = 0; i < count; i++) {
		if (n->kind == NODE_WORKSPACE &&
		    strcmp(lists[i].workspace, n->workspace) != 0)
			continue;
		subdirs++;
		if (lists[i].mtime_ms > newest)
			newest = lists[i].mtime_ms;
	}
	if (n->kind == NODE_WORKSPACES)
		subdirs = count_workspaces(lists, count);
	docs_lists_free(lists, count);
	if (n->kind == NODE_WORKSPACE && subdirs == 0)
		return -ENOENT;
	dir_stat(fs, st, env_ino(n->env, "lists", n->kind == NODE_WORKSPACE ?
				 n->workspace : (n->kind == NODE_PARTNER ?
				 "partner" : "workspace")), newest, subdirs);
	return 0;
}

static int list_stat(struct fs *fs, const struct node *n, struct stat *st)
{
	struct doc_list list;
	char key[64];
	int res = find_list(n, &list);

	if (res < 0)
		return res;
	snprintf(key, sizeof(key), "%s/%lld", n->workspace, (long long)n->list_id);
	if (n->kind == NODE_LIST_JSON) {
		base_stat(fs, st, S_IFREG, env_ino(n->env, "list.json", key),
			  list.mtime_ms);
		set_size(st, list.json->size);
	} else {
		dir_stat(fs, st, env_ino(n->env, n->kind == NODE_LIST ? "list" :
					 "list-profiles", key), list.mtime_ms,
			 n->kind == NODE_LIST);
	}
	blob_unref(list.json);
	return 0;
}

static int list_link_stat(struct fs *fs, const struct node *n, struct stat *st)
{
	struct doc_list list;
	struct idx_item *item;
	int res = find_list(n, &list);

	if (res < 0)
		return res;
	blob_unref(list.json);
	res = sync_profiles(n->env, SYNC_IF_DUE);
	if (res < 0)
		return res;
	item = idx_find(n->env->idx, n->id);
	if (!item)
		return not_found(n->env);
	if (!is_member(n, item)) {
		idx_item_unref(item);
		return -ENOENT;
	}
	link_stat(fs, n, item->id, item->modified_ms, st);
	idx_item_unref(item);
	return 0;
}

static size_t count_channel_types(struct fs_env *e, char ***types);

static int profile_dirs_stat(struct fs *fs, const struct node *n,
			     struct stat *st)
{
	size_t types = 0;
	int res = sync_profiles(n->env, SYNC_IF_DUE);

	if (res < 0)
		return res;
	if (n->kind == NODE_CHANNELS)
		types = count_channel_types(n->env, NULL);
	dir_stat(fs, st, env_ino(n->env, "dir", n->kind == NODE_CHANNELS ?
				 "channels" : n->kind == NODE_PROFILES ?
				 "profiles" : n->channel_type),
		 env_newest(n->env), types);
	return 0;
}

static int file_stat(struct fs *fs, const struct node *n, struct stat *st)
{
	struct content c;
	int res = node_open(fs, n, &c);

	if (res == 0) {
		*st = c.st;
		node_close(&c);
	}
	return res;
}

static int64_t fs_newest(struct fs *fs)
{
	int64_t newest = 0, t;
	size_t i;

	for (i = 0; i < fs->n_envs; i++) {
		t = env_newest(fs->envs[i]);
		if (t > newest)
			newest = t;
	}
	return newest;
}

int node_stat(struct fs *fs, const struct node *n, struct stat *st)
{
	struct idx_item *item = NULL;
	int res;

	switch (n->kind) {
	case NODE_ROOT:
		dir_stat(fs, st, 1, fs_newest(fs), fs->n_envs);
		return 0;
	case NODE_ENV:
		/* its mtime is its newest content's: the listing runs first (a
		 * failure still shows the directory, with what is known; an
		 * interrupted wait is the reader's to see) */
		if (sync_profiles(n->env, SYNC_IF_DUE) == -EINTR)
			return -EINTR;
		dir_stat(fs, st, env_ino(n->env, "dir", ""), env_newest(n->env), 3);
		return 0;
	case NODE_LISTS:
		dir_stat(fs, st, env_ino(n->env, "dir", "lists"),
			 env_newest(n->env), 2);
		return 0;
	case NODE_PROFILES:
	case NODE_CHANNELS:
		return profile_dirs_stat(fs, n, st);
	case NODE_CHANNEL_TYPE:
		res = sync_profiles(n->env, SYNC_IF_DUE);
		if (res == 0)
			dir_stat(fs, st, env_ino(n->env, "channel", n->channel_type),
				 env_newest(n->env), 0);
		return res;
	case NODE_PARTNER:
	case NODE_WORKSPACES:
	case NODE_WORKSPACE:
		return lists_stat(fs, n, st);
	case NODE_LIST:
	case NODE_LIST_JSON:
	case NODE_LIST_PROFILES:
		return list_stat(fs, n, st);
	case NODE_LIST_LINK:
		return list_link_stat(fs, n, st);
	case NODE_PROFILE:
		return node_profile_stat(fs, n, st, NULL);
	case NODE_CHANNEL_LINK:
		res = find_channel(n->env, n->channel_type, n->id, &item);
		if (res == 0)
			link_stat(fs, n, item->id, item->modified_ms, st);
		idx_item_unref(item);
		return res;
	default:
		return file_stat(fs, n, st);
	}
}

static int status_blob(struct fs_env *e, struct blob **out)
{
	struct blob *b = NULL;
	double now = env_now();

	pthread_mutex_lock(&e->lock);
	if (e->status && now - e->status_at < STATUS_FRESH_S)
		b = blob_ref(e->status);
	pthread_mutex_unlock(&e->lock);
	if (b) {
		*out = b;
		return 0;
	}
	b = status_render(e);
	if (!b)
		return -ENOMEM;
	pthread_mutex_lock(&e->lock);
	blob_unref(e->status);
	e->status = blob_ref(b);
	e->status_at = now;
	pthread_mutex_unlock(&e->lock);
	*out = b;
	return 0;
}

static int open_blob(struct fs *fs, const struct node *n, struct content *c)
{
	struct doc_list list;
	int64_t mtime_ms = 0;
	char key[64];
	int res;

	if (n->kind == NODE_DOC) {
		res = docs_get(n->env, n->doc, &c->blob, &mtime_ms);
		snprintf(key, sizeof(key), "%s", tree_doc_names[n->doc]);
	} else if (n->kind == NODE_STATUS) {
		res = status_blob(n->env, &c->blob);
		mtime_ms = (int64_t)time(NULL) * 1000;
		snprintf(key, sizeof(key), ".status.json");
	} else {
		res = find_list(n, &list);
		c->blob = res == 0 ? list.json : NULL;
		mtime_ms = res == 0 ? list.mtime_ms : 0;
		snprintf(key, sizeof(key), "%s/%lld/list.json", n->workspace,
			 (long long)n->list_id);
	}
	if (res < 0)
		return res;
	base_stat(fs, &c->st, S_IFREG, env_ino(n->env, "file", key), mtime_ms);
	set_size(&c->st, c->blob->size);
	return 0;
}

int node_open(struct fs *fs, const struct node *n, struct content *c)
{
	int res;

	memset(c, 0, sizeof(*c));
	switch (n->kind) {
	case NODE_PROFILE:
		res = find_profile(n->env, n->id, &c->item);
		if (res == 0)
			item_stat(fs, c->item, &c->st);
		return res;
	case NODE_NDJSON:
		/* all or nothing: never a partial export before the first
		 * complete listing */
		res = sync_profiles(n->env, SYNC_IF_DUE);
		if (res == 0 && !sync_complete(n->env))
			res = -EAGAIN;
		if (res == 0)
			res = idx_lines_open(n->env->idx, &c->lines);
		if (res < 0)
			return res;
		base_stat(fs, &c->st, S_IFREG, env_ino(n->env, "file", "ndjson"),
			  env_newest(n->env));
		set_size(&c->st, idx_lines_size(c->lines));
		return 0;
	case NODE_DOC:
	case NODE_STATUS:
	case NODE_LIST_JSON:
		return open_blob(fs, n, c);
	default:
		return tree_is_dir(n->kind) ? -EISDIR : -EINVAL;
	}
}

ssize_t node_read(const struct content *c, char *buf, size_t size, off_t off)
{
	const char *data;
	size_t len;

	if (c->lines)
		return idx_lines_read(c->lines, buf, size, off);
	data = c->item ? c->item->data : c->blob->data;
	len = c->item ? c->item->size : c->blob->size;
	if (off < 0 || (uint64_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, data + off, size);
	return (ssize_t)size;
}

void node_close(struct content *c)
{
	idx_item_unref(c->item);
	idx_lines_close(c->lines);
	blob_unref(c->blob);
	memset(c, 0, sizeof(*c));
}

static void fill_names(void *buf, fuse_fill_dir_t filler,
		       const char *const *names)
{
	for (; *names; names++)
		filler(buf, *names, NULL, 0, 0);
}


struct fill {
	struct fs *fs;
	struct node link;	/* the entries' node, for links */
	bool links;
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_entry(const struct idx_entry *en, void *arg)
{
	struct fill *f = arg;
	char name[IDX_ID_MAX + 8];
	struct stat st;

	if (f->link.kind == NODE_CHANNEL_LINK) {
		if (!tree_channel_id_valid(en->channel_id, strlen(en->channel_id)))
			return 0;
		snprintf(f->link.id, sizeof(f->link.id), "%s", en->channel_id);
		snprintf(name, sizeof(name), "%s.json", en->channel_id);
	} else {
		snprintf(name, sizeof(name), "%s.json", en->id);
	}
	if (f->links) {
		link_stat(f->fs, &f->link, en->id, en->modified_ms, &st);
	} else {
		base_stat(f->fs, &st, S_IFREG, en->ino, en->modified_ms);
		set_size(&st, en->size);
	}
	return f->filler(f->buf, name, &st, (off_t)(en->pos + NODE_POS_OFF),
			 FUSE_FILL_DIR_PLUS);
}

/* profiles/ as files, a list's members or a channel type's ids as links. */
static int fill_items(struct fs *fs, const struct node *n, off_t off,
		      void *buf, fuse_fill_dir_t filler)
{
	struct fill f = { .fs = fs, .link = *n, .buf = buf, .filler = filler };
	struct idx_filter filter = { .scope = IDX_ALL };

	if (n->kind == NODE_LIST_PROFILES) {
		f.links = true;
		f.link.kind = NODE_LIST_LINK;
		filter.scope = n->workspace[0] ? IDX_SPACE_LIST : IDX_PARTNER_LIST;
		filter.space_id = n->workspace;
		filter.list_id = n->list_id;
	} else if (n->kind == NODE_CHANNEL_TYPE) {
		f.links = true;
		f.link.kind = NODE_CHANNEL_LINK;
		filter.scope = IDX_CHANNEL_TYPE;
		filter.channel_type = n->channel_type;
	}
	return idx_each(n->env->idx, &filter,
			off > NODE_POS_OFF ? (uint64_t)(off - NODE_POS_OFF) : 0,
			fill_entry, &f);
}

static void free_types(char **types, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(types[i]);
	free(types);
}

static bool usable_type(const char *type, char **seen, size_t n)
{
	size_t len = strlen(type), i;

	if (len == 0 || len > TREE_CHANNEL_TYPE_MAX ||
	    strspn(type, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != len)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(seen[i], type) == 0)
			return false;
	return true;
}

/* Distinct usable channel types; *types (when asked for) owns them. */
static size_t count_channel_types(struct fs_env *e, char ***types)
{
	char **all = NULL;
	size_t n = 0, i, kept = 0;

	if (idx_channel_types(e->idx, &all, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (usable_type(all[i], all, kept))
			all[kept++] = all[i];
		else
			free(all[i]);
	}
	if (types)
		*types = all;
	else
		free_types(all, kept);
	return kept;
}

static bool first_of_workspace(const struct doc_list *lists, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcmp(lists[i].workspace, lists[j].workspace) == 0)
			return false;
	return true;
}

static int readdir_lists(const struct node *n, void *buf,
			 fuse_fill_dir_t filler)
{
	struct doc_list *lists;
	size_t count, i;
	char name[64];
	int res;

	res = lists_below(n, &lists, &count);
	if (res < 0)
		return res;
	for (i = 0; i < count; i++) {
		if (n->kind == NODE_WORKSPACES) {
			if (first_of_workspace(lists, i))
				filler(buf, lists[i].workspace, NULL, 0, 0);
			continue;
		}
		if (n->kind == NODE_WORKSPACE &&
		    strcmp(lists[i].workspace, n->workspace) != 0)
			continue;
		snprintf(name, sizeof(name), "%lld", (long long)lists[i].id);
		filler(buf, name, NULL, 0, 0);
	}
	docs_lists_free(lists, count);
	return 0;
}

static int readdir_profiles(struct fs *fs, const struct node *n, off_t off,
			    void *buf, fuse_fill_dir_t filler)
{
	char **types = NULL;
	size_t i, count;
	int res = sync_profiles(n->env, SYNC_IF_DUE);

	if (res < 0)
		return res;
	if (n->kind != NODE_CHANNELS)
		return fill_items(fs, n, off, buf, filler);
	count = count_channel_types(n->env, &types);
	for (i = 0; i < count; i++)
		filler(buf, types[i], NULL, 0, 0);
	free_types(types, count);
	return 0;
}

int node_readdir(struct fs *fs, const struct node *n, off_t off, void *buf,
		 fuse_fill_dir_t filler)
{
	static const char *const env_names[] = {
		"me.json", "workspaces.json", "custom-fields.json", "profiles",
		"profiles.ndjson", "lists", "channels", ".status.json", NULL,
	};
	static const char *const lists_names[] = { "partner", "workspace", NULL };
	static const char *const list_names[] = { "list.json", "profiles", NULL };
	struct stat st;
	size_t i;
	int res;

	res = node_stat(fs, n, &st);
	if (res < 0)
		return res;
	if (n->kind == NODE_PROFILES || n->kind == NODE_LIST_PROFILES ||
	    n->kind == NODE_CHANNEL_TYPE) {
		/* large: streamed from the store in chunks, by offset */
		if ((off < 1 && filler(buf, ".", &st, 1, 0)) ||
		    (off < 2 && filler(buf, "..", NULL, 2, 0)))
			return 0;
		return readdir_profiles(fs, n, off, buf, filler);
	}
	filler(buf, ".", &st, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (n->kind) {
	case NODE_ROOT:
		for (i = 0; i < fs->n_envs; i++)
			filler(buf, fs->envs[i]->name, NULL, 0, 0);
		return 0;
	case NODE_ENV:
		fill_names(buf, filler, env_names);
		return 0;
	case NODE_LISTS:
		fill_names(buf, filler, lists_names);
		return 0;
	case NODE_LIST:
		fill_names(buf, filler, list_names);
		return 0;
	case NODE_PARTNER:
	case NODE_WORKSPACES:
	case NODE_WORKSPACE:
		return readdir_lists(n, buf, filler);
	case NODE_CHANNELS:
		return readdir_profiles(fs, n, 0, buf, filler);
	default:
		return -ENOTDIR;
	}
}

int node_readlink(struct fs *fs, const struct node *n, char *buf, size_t size)
{
	struct idx_item *item;
	struct stat st;
	int res;

	if (n->kind != NODE_LIST_LINK && n->kind != NODE_CHANNEL_LINK)
		return -EINVAL;
	res = node_stat(fs, n, &st);
	if (res < 0)
		return res;
	if (n->kind == NODE_CHANNEL_LINK)
		item = idx_find_channel(n->env->idx, n->channel_type, n->id);
	else
		item = idx_find(n->env->idx, n->id);
	if (!item)
		return not_found(n->env);
	res = tree_link_target(n, item->id, buf, size);
	idx_item_unref(item);
	return res < 0 ? res : 0;
}
