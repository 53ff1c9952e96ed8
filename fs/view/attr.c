/*
 * attr.c - the attributes of every kind of node.
 *
 * A directory's mtime is its newest content's (profiles' and channels'
 * directories: the newest profile; lists: the newest list); the root's is
 * the mount's start, when its entries were made. Files whose
 * bytes are in memory take their attributes from those bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs/view/attr.h"
#include "fs/view/content.h"
#include "fs/view/find.h"
#include "fs/view/stat.h"

static uint64_t env_ino(const struct view_env *e, const char *kind,
			const char *name)
{
	return stat_ino(e->name, kind, name);
}

static int64_t newest(const struct view_env *e)
{
	return store_newest(e->store);
}

/* A profile's attributes without its bytes (an ls -l of many). */
int attr_profile(const struct view *v, const struct node *n, struct stat *st,
		 uint64_t *pos)
{
	int64_t modified_ms;
	uint64_t size;
	int res = find_profile_stat(n->env, n->id, &size, &modified_ms, pos);

	if (res < 0)
		return res;
	stat_base(v, st, S_IFREG, env_ino(n->env, "profile", n->id),
		  modified_ms);
	stat_size(st, size);
	return 0;
}

/* A link in a list's or a channel type's directory to profile id. */
void attr_link(const struct view *v, const struct node *n, const char *id,
	       int64_t modified_ms, struct stat *st)
{
	char *target = tree_link_target(n, id);
	char *key = g_strdup_printf("%s/%s/%lld/%s",
				    n->kind == NODE_CHANNEL_LINK ?
				    n->channel_type : n->workspace,
				    n->kind == NODE_CHANNEL_LINK ? n->id : "",
				    (long long)n->list_id, id);

	stat_base(v, st, S_IFLNK, env_ino(n->env, "link", key), modified_ms);
	stat_size(st, strlen(target));
	g_free(key);
	g_free(target);
}

/* Distinct workspaces among the lists. */
static size_t count_workspaces(GArray *lists)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	size_t n;
	guint i;

	for (i = 0; i < lists->len; i++)
		g_hash_table_add(seen, g_array_index(lists, struct doc_list,
						     i).workspace);
	n = g_hash_table_size(seen);
	g_hash_table_unref(seen);
	return n;
}

/* lists/partner, lists/workspace and lists/workspace/<ws>. */
static int lists_stat(const struct view *v, const struct node *n,
		      struct stat *st)
{
	const struct doc_list *list;
	size_t subdirs = 0;
	int64_t mtime = 0;
	GArray *lists;
	guint i;
	int res;

	res = find_lists(n, &lists);
	if (res < 0)
		return res;
	for (i = 0; i < lists->len; i++) {
		list = &g_array_index(lists, struct doc_list, i);
		if (n->kind == NODE_WORKSPACE &&
		    strcmp(list->workspace, n->workspace) != 0)
			continue;
		subdirs++;
		if (list->mtime_ms > mtime)
			mtime = list->mtime_ms;
	}
	if (n->kind == NODE_WORKSPACES)
		subdirs = count_workspaces(lists);
	g_array_unref(lists);
	if (n->kind == NODE_WORKSPACE && subdirs == 0)
		return -ENOENT;
	stat_dir(v, st, env_ino(n->env, "lists", n->kind == NODE_WORKSPACE ?
			       n->workspace : n->kind == NODE_PARTNER ?
			       "partner" : "workspace"), mtime, subdirs);
	return 0;
}

/* A list's directory, its list.json and its profiles/. */
static int list_stat(const struct view *v, const struct node *n,
		     struct stat *st)
{
	struct doc_list list;
	char *key;
	int res = find_list(n, &list);

	if (res < 0)
		return res;
	key = g_strdup_printf("%s/%lld", n->workspace, (long long)n->list_id);
	if (n->kind == NODE_LIST_JSON) {
		stat_base(v, st, S_IFREG, env_ino(n->env, "list.json", key),
			  list.mtime_ms);
		stat_size(st, g_bytes_get_size(list.json));
	} else {
		stat_dir(v, st, env_ino(n->env, n->kind == NODE_LIST ? "list" :
				       "list-profiles", key), list.mtime_ms,
			 n->kind == NODE_LIST);
	}
	g_free(key);
	g_bytes_unref(list.json);
	return 0;
}

/* A list's member as a link; row (unless NULL) its item's pos. */
static int list_link_stat(const struct view *v, const struct node *n,
			  struct stat *st, uint64_t *row)
{
	struct doc_list list;
	struct item *item;
	int res = find_list(n, &list);

	if (res < 0)
		return res;
	g_bytes_unref(list.json);
	res = sync_profiles(n->env->sync, SYNC_IF_DUE);
	if (res < 0)
		return res;
	item = store_find_member(n->env->store, n->id, n->workspace,
				 n->list_id);
	if (!item)
		return find_failed(n->env);
	attr_link(v, n, item->id, item->modified_ms, st);
	if (row)
		*row = item->pos;
	item_unref(item);
	return 0;
}

/* A channel id as a link; row (unless NULL) its item's pos. */
static int channel_link_stat(const struct view *v, const struct node *n,
			     struct stat *st, uint64_t *row)
{
	struct item *item = NULL;
	int res = find_channel(n->env, n->channel_type, n->id, &item);

	if (res == 0) {
		attr_link(v, n, item->id, item->modified_ms, st);
		if (row)
			*row = item->pos;
	}
	item_unref(item);
	return res;
}

/* A link's attributes and its row (find_link_at's). */
int attr_link_row(const struct view *v, const struct node *n,
		  struct stat *st, uint64_t *row)
{
	if (n->kind == NODE_LIST_LINK)
		return list_link_stat(v, n, st, row);
	if (n->kind == NODE_CHANNEL_LINK)
		return channel_link_stat(v, n, st, row);
	return -EINVAL;
}

/* profiles/, channels/ and channels/<TYPE>: after the listing, if due. */
static int profile_dirs_stat(const struct view *v, const struct node *n,
			     struct stat *st)
{
	size_t types = 0;
	int res = sync_profiles(n->env->sync, SYNC_IF_DUE);

	if (res < 0)
		return res;
	if (n->kind == NODE_CHANNELS)
		types = attr_channel_types(n->env, NULL);
	if (n->kind == NODE_CHANNEL_TYPE)
		stat_dir(v, st, env_ino(n->env, "channel", n->channel_type),
			 newest(n->env), 0);
	else
		stat_dir(v, st, env_ino(n->env, "dir", n->kind == NODE_CHANNELS ?
				       TREE_CHANNELS : TREE_PROFILES),
			 newest(n->env), types);
	return 0;
}

static int file_stat(const struct view *v, const struct node *n,
		     struct stat *st)
{
	struct content c;
	int res = content_open(v, n, &c);

	if (res == 0) {
		*st = c.st;
		content_close(&c);
	}
	return res;
}

/* An environment's mtime is its newest content's: the listing runs first (a
 * failure still shows the directory, with what is known; an interrupted
 * wait is the reader's to see). */
static int env_stat(const struct view *v, const struct node *n,
		    struct stat *st)
{
	if (sync_profiles(n->env->sync, SYNC_IF_DUE) == -EINTR)
		return -EINTR;
	stat_dir(v, st, env_ino(n->env, "dir", ""), newest(n->env), 3);
	return 0;
}

int attr_get(const struct view *v, const struct node *n, struct stat *st)
{
	switch (n->kind) {
	case NODE_ROOT:
		/* its entries are made at the start and never change */
		stat_dir(v, st, 1, v->started_ms, view_env_count(v));
		return 0;
	case NODE_ENV:
		return env_stat(v, n, st);
	case NODE_LISTS:
		stat_dir(v, st, env_ino(n->env, "dir", TREE_LISTS),
			 newest(n->env), 2);
		return 0;
	case NODE_PROFILES:
	case NODE_CHANNELS:
	case NODE_CHANNEL_TYPE:
		return profile_dirs_stat(v, n, st);
	case NODE_PARTNER:
	case NODE_WORKSPACES:
	case NODE_WORKSPACE:
		return lists_stat(v, n, st);
	case NODE_LIST:
	case NODE_LIST_JSON:
	case NODE_LIST_PROFILES:
		return list_stat(v, n, st);
	case NODE_LIST_LINK:
		return list_link_stat(v, n, st, NULL);
	case NODE_PROFILE:
		return attr_profile(v, n, st, NULL);
	case NODE_CHANNEL_LINK:
		return channel_link_stat(v, n, st, NULL);
	default:
		return file_stat(v, n, st);
	}
}

static bool usable_type(const char *type)
{
	size_t len = strlen(type);

	return len > 0 && len <= TREE_CHANNEL_TYPE_MAX &&
	       strspn(type, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == len;
}

/* The usable channel types, sorted (into *types when asked for; the array
 * frees its strings); how many. */
size_t attr_channel_types(struct view_env *e, GPtrArray **types)
{
	GPtrArray *all;
	guint i = 0;
	size_t n;

	if (store_channel_types(e->store, &all) < 0)
		return 0;
	while (i < all->len) {
		if (usable_type(g_ptr_array_index(all, i)))
			i++;
		else
			g_ptr_array_remove_index(all, i);
	}
	n = all->len;
	if (types)
		*types = all;
	else
		g_ptr_array_unref(all);
	return n;
}
