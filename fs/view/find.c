/*
 * find.c - what is behind a node (see find.h).
 *
 * Costs (documented in the README): profiles and what derives from them
 * first make sure the store is synced (sync_profiles, SYNC_IF_DUE);
 * documents and lists are one cached call each; an unknown profile or
 * channel id is one call.
 */
#include <errno.h>
#include <string.h>

#include "fs/view/find.h"

/* After a find gave NULL: -ENOENT, or -EIO when the store failed. */
int find_failed(struct view_env *e)
{
	int err = errno;

	if (err == ENOENT)
		return -ENOENT;
	remote_note_error(e->remote, "%s: cannot read the store: %s", e->name,
			  strerror(err));
	return -EIO;
}

/* A store call's result, a failing store being -EIO (as find_failed says). */
int find_result(struct view_env *e, int res)
{
	if (res < 0 && res != -ENOENT) {
		errno = -res;
		res = find_failed(e);
	}
	return res;
}

/* The store is synced as far as is due; then the profile's bytes, fetched
 * if unknown. */
int find_profile(struct view_env *e, const char *id, struct item **out)
{
	struct item *item;
	int res = sync_profiles(e->sync, SYNC_IF_DUE);

	if (res < 0)
		return res;
	item = store_find_bytes(e->store, id);
	if (!item) {
		res = find_failed(e);
		if (res == -ENOENT)
			res = fetch_profile(e->fetch, id);
		if (res < 0)
			return res;
		item = store_find_bytes(e->store, id);
	}
	if (!item)
		return find_failed(e);
	*out = item;
	return 0;
}

/* A profile's size, time and pos without its bytes, fetched if unknown. */
int find_profile_stat(struct view_env *e, const char *id, uint64_t *size,
		      int64_t *modified_ms, uint64_t *pos)
{
	int res = sync_profiles(e->sync, SYNC_IF_DUE);

	if (res < 0)
		return res;
	res = find_result(e, store_stat(e->store, id, size, modified_ms, pos));
	if (res == -ENOENT) {
		res = fetch_profile(e->fetch, id);
		if (res == 0)
			res = find_result(e, store_stat(e->store, id, size,
							modified_ms, pos));
	}
	return res;
}

/* The node of the profile at pos in the store; its id goes in id. */
int find_profile_at(struct view_env *e, uint64_t pos, struct node *n,
		    char id[ITEM_ID_MAX + 1])
{
	tree_root(n);
	n->kind = NODE_PROFILE;
	n->env = e;
	n->id = id;
	return find_result(e, store_id_at(e->store, pos, id));
}

/*
 * The node of the link at row (its item's pos) in directory dir, a list's
 * profiles/ or a channel type's: its profile id, or channel id, goes in own.
 */
int find_link_at(const struct node *dir, uint64_t row, struct node *n,
		 char own[TREE_NAME_MAX + 1])
{
	struct store *st = dir->env->store;
	int res;

	*n = *dir;
	n->id = own;
	if (dir->kind == NODE_LIST_PROFILES) {
		n->kind = NODE_LIST_LINK;
		res = store_id_at(st, row, own);
	} else if (dir->kind == NODE_CHANNEL_TYPE) {
		n->kind = NODE_CHANNEL_LINK;
		res = store_channel_at(st, row, dir->channel_type, own,
				       TREE_NAME_MAX + 1);
	} else {
		return -ENOENT;
	}
	return find_result(dir->env, res);
}

int find_channel(struct view_env *e, const char *type, const char *cid,
		 struct item **out)
{
	struct item *item;
	int res = sync_profiles(e->sync, SYNC_IF_DUE);

	if (res < 0)
		return res;
	item = store_find_channel(e->store, type, cid);
	if (!item) {
		res = find_failed(e);
		if (res == -ENOENT)
			res = fetch_channel(e->fetch, type, cid);
		if (res < 0)
			return res;
		item = store_find_channel(e->store, type, cid);
	}
	if (!item)
		return find_failed(e);
	*out = item;
	return 0;
}

/* The lists behind lists/partner, or behind lists/workspace and below. */
int find_lists(const struct node *n, GArray **lists)
{
	bool partner = n->kind == NODE_PARTNER ||
		       (n->kind != NODE_WORKSPACES && !n->workspace[0]);

	return docs_lists(n->env->docs, partner ? DOC_PARTNER_LISTS
						: DOC_CLIENT_LISTS, lists);
}

/* A copy of the list n names (its bytes referenced), or -ENOENT. */
int find_list(const struct node *n, struct doc_list *out)
{
	struct doc_list *list;
	GArray *lists;
	guint i;
	int res;

	res = find_lists(n, &lists);
	if (res < 0)
		return res;
	res = -ENOENT;
	for (i = 0; i < lists->len; i++) {
		list = &g_array_index(lists, struct doc_list, i);
		if (list->id == n->list_id &&
		    strcmp(list->workspace, n->workspace) == 0) {
			*out = *list;
			g_bytes_ref(out->json);
			res = 0;
			break;
		}
	}
	g_array_unref(lists);
	return res;
}
