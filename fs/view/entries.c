/*
 * entries.c - directory entries and link targets (see entries.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs/view/attr.h"
#include "fs/view/entries.h"
#include "fs/view/find.h"
#include "fs/view/stat.h"

typedef int (*add_fn)(void *arg, const char *name, const struct stat *st,
		      off_t off);

struct fill {
	const struct view *v;
	struct node link;	/* the entries' node, for links */
	bool links;
	add_fn add;
	void *arg;
};

static void add_names(add_fn add, void *arg, const char *const *names)
{
	for (; *names; names++)
		add(arg, *names, NULL, 0);
}

static int fill_entry(const struct store_entry *en, void *arg)
{
	struct fill *f = arg;
	const char *id = en->id;
	struct stat st;
	char *name;
	int full;

	if (f->link.kind == NODE_CHANNEL_LINK) {
		if (!tree_channel_id_valid(en->channel_id,
					   strlen(en->channel_id)))
			return 0;
		f->link.id = en->channel_id;
		id = en->channel_id;
	}
	if (f->links) {
		attr_link(f->v, &f->link, en->id, en->modified_ms, &st);
	} else {
		stat_base(f->v, &st, S_IFREG,
			  stat_ino(f->link.env->name, "profile", en->id),
			  en->modified_ms);
		stat_size(&st, en->size);
	}
	name = tree_file_name(id);
	full = f->add(f->arg, name, &st, (off_t)(en->pos + ENTRIES_POS_OFF));
	g_free(name);
	return full;
}

/* profiles/ as files, a list's members or a channel type's ids as links. */
static int fill_items(const struct view *v, const struct node *n, off_t off,
		      add_fn add, void *arg)
{
	struct fill f = { .v = v, .link = *n, .add = add, .arg = arg };
	struct store_filter filter = { .scope = STORE_ALL };

	if (n->kind == NODE_LIST_PROFILES) {
		f.links = true;
		f.link.kind = NODE_LIST_LINK;
		filter.scope = n->workspace[0] ? STORE_SPACE_LIST
					       : STORE_PARTNER_LIST;
		filter.space_id = n->workspace;
		filter.list_id = n->list_id;
	} else if (n->kind == NODE_CHANNEL_TYPE) {
		f.links = true;
		f.link.kind = NODE_CHANNEL_LINK;
		filter.scope = STORE_CHANNEL_TYPE;
		filter.channel_type = n->channel_type;
	}
	return store_each(n->env->store, &filter,
			  off > ENTRIES_POS_OFF ? (uint64_t)(off - ENTRIES_POS_OFF)
						: 0, fill_entry, &f);
}

static bool first_of_workspace(GArray *lists, guint i)
{
	const char *ws = g_array_index(lists, struct doc_list, i).workspace;
	guint j;

	for (j = 0; j < i; j++)
		if (strcmp(g_array_index(lists, struct doc_list, j).workspace,
			   ws) == 0)
			return false;
	return true;
}

static int list_lists(const struct node *n, add_fn add, void *arg)
{
	const struct doc_list *list;
	char name[24];
	GArray *lists;
	guint i;
	int res;

	res = find_lists(n, &lists);
	if (res < 0)
		return res;
	for (i = 0; i < lists->len; i++) {
		list = &g_array_index(lists, struct doc_list, i);
		if (n->kind == NODE_WORKSPACES) {
			if (first_of_workspace(lists, i))
				add(arg, list->workspace, NULL, 0);
			continue;
		}
		if (n->kind == NODE_WORKSPACE &&
		    strcmp(list->workspace, n->workspace) != 0)
			continue;
		snprintf(name, sizeof(name), "%lld", (long long)list->id);
		add(arg, name, NULL, 0);
	}
	g_array_unref(lists);
	return 0;
}

static int list_channel_types(const struct node *n, add_fn add, void *arg)
{
	GPtrArray *types = NULL;
	guint i;

	attr_channel_types(n->env, &types);
	for (i = 0; types && i < types->len; i++)
		add(arg, g_ptr_array_index(types, i), NULL, 0);
	if (types)
		g_ptr_array_unref(types);
	return 0;
}

static int list_small(const struct view *v, const struct node *n,
		      add_fn add, void *arg)
{
	static const char *const lists_names[] = { "partner", "workspace",
						   NULL };
	static const char *const list_names[] = { "list.json", TREE_PROFILES,
						  TREE_NDJSON, TREE_CSV,
						  NULL };
	size_t i;

	switch (n->kind) {
	case NODE_ROOT:
		for (i = 0; i < view_env_count(v); i++)
			add(arg, view_env_at(v, i)->name, NULL, 0);
		return 0;
	case NODE_ENV:
		add_names(add, arg, tree_env_names);
		return 0;
	case NODE_LISTS:
		add_names(add, arg, lists_names);
		return 0;
	case NODE_LIST:
		add_names(add, arg, list_names);
		return 0;
	case NODE_PARTNER:
	case NODE_WORKSPACES:
	case NODE_WORKSPACE:
		return list_lists(n, add, arg);
	case NODE_CHANNELS:
		return list_channel_types(n, add, arg);
	default:
		return -ENOTDIR;
	}
}

int entries_list(const struct view *v, const struct node *n, off_t off,
		 add_fn add, void *arg)
{
	struct stat st;
	int res;

	res = attr_get(v, n, &st);
	if (res < 0)
		return res;
	if (n->kind == NODE_PROFILES || n->kind == NODE_LIST_PROFILES ||
	    n->kind == NODE_CHANNEL_TYPE) {
		/* large: streamed from the store in chunks, by offset */
		if ((off < 1 && add(arg, ".", &st, 1)) ||
		    (off < 2 && add(arg, "..", NULL, 2)))
			return 0;
		return fill_items(v, n, off, add, arg);
	}
	add(arg, ".", &st, 0);
	add(arg, "..", NULL, 0);
	return list_small(v, n, add, arg);
}

/* Where a link points; g_free *target. A list's link is named for its
 * profile; a channel's is looked up once, as its attributes are. */
int entries_readlink(const struct view *v, const struct node *n,
		     char **target)
{
	struct item *item = NULL;
	struct stat st;
	int res;

	if (n->kind == NODE_LIST_LINK) {
		res = attr_get(v, n, &st);
		if (res == 0)
			*target = tree_link_target(n, n->id);
		return res;
	}
	if (n->kind != NODE_CHANNEL_LINK)
		return -EINVAL;
	res = find_channel(n->env, n->channel_type, n->id, &item);
	if (res == 0)
		*target = tree_link_target(n, item->id);
	item_unref(item);
	return res;
}
