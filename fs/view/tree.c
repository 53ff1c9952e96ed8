/*
 * tree.c - name shapes: which name below which node stands for what.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/store/item.h"
#include "fs/view/tree.h"

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
#define TYPE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
#define JSON ".json"

const char *const tree_doc_names[DOC_COUNT] = {
	[DOC_ME] = "me.json",
	[DOC_WORKSPACES] = "workspaces.json",
	[DOC_CUSTOM_FIELDS] = "custom-fields.json",
};

/* An environment's entries, in the order readdir gives them. */
const char *const tree_env_names[] = {
	"me.json", "workspaces.json", "custom-fields.json", TREE_PROFILES,
	TREE_NDJSON, TREE_CSV, TREE_LISTS, TREE_CHANNELS, TREE_STATUS, NULL,
};

void tree_root(struct node *n)
{
	memset(n, 0, sizeof(*n));
	n->kind = NODE_ROOT;
	n->id = n->workspace = n->channel_type = "";
}

/* "<id>.json" with id passing valid(): id copied into own. */
static bool json_name(const char *name, char *own,
		      bool (*valid)(const char *id, size_t len))
{
	size_t len = strlen(name);

	if (len <= strlen(JSON) || strcmp(name + len - strlen(JSON), JSON) != 0)
		return false;
	len -= strlen(JSON);
	if (len > TREE_NAME_MAX || !valid(name, len))
		return false;
	memcpy(own, name, len);
	own[len] = '\0';
	return true;
}

static bool profile_id_valid(const char *id, size_t len)
{
	char buf[ITEM_ID_MAX + 1];

	if (len > ITEM_ID_MAX)
		return false;
	memcpy(buf, id, len);
	buf[len] = '\0';
	return item_id_valid(buf);
}

/* Channel ids are e-mail addresses and phone numbers too: only what cannot
 * be a file name is refused. */
bool tree_channel_id_valid(const char *id, size_t len)
{
	if (len == 0 || len > ITEM_ID_MAX || memchr(id, '/', len) ||
	    memchr(id, '\0', len))
		return false;
	return !(len == 1 && id[0] == '.') &&
	       !(len == 2 && id[0] == '.' && id[1] == '.');
}

/* A name of the allowed characters, at most max long, copied into own. */
static bool word(const char *name, size_t max, const char *allowed,
		 char *own)
{
	size_t len = strlen(name);

	if (len == 0 || len > max || strspn(name, allowed) != len)
		return false;
	memcpy(own, name, len + 1);
	return true;
}

/* A list id: decimal digits without a leading zero, an int64. */
static bool list_number(const char *name, int64_t *id)
{
	char *end;

	if (!name[0] || strspn(name, "0123456789") != strlen(name) ||
	    (name[0] == '0' && name[1]))
		return false;
	errno = 0;
	*id = strtoll(name, &end, 10);
	return errno == 0 && *end == '\0';
}

static int env_child(const char *name, struct node *c)
{
	int d;

	for (d = 0; d < DOC_COUNT; d++) {
		if (tree_doc_names[d] && strcmp(name, tree_doc_names[d]) == 0) {
			c->kind = NODE_DOC;
			c->doc = (enum doc_kind)d;
			return 0;
		}
	}
	if (strcmp(name, TREE_STATUS) == 0)
		c->kind = NODE_STATUS;
	else if (strcmp(name, TREE_NDJSON) == 0)
		c->kind = NODE_NDJSON;
	else if (strcmp(name, TREE_CSV) == 0)
		c->kind = NODE_CSV;
	else if (strcmp(name, TREE_PROFILES) == 0)
		c->kind = NODE_PROFILES;
	else if (strcmp(name, TREE_LISTS) == 0)
		c->kind = NODE_LISTS;
	else if (strcmp(name, TREE_CHANNELS) == 0)
		c->kind = NODE_CHANNELS;
	else
		return -ENOENT;
	return 0;
}

static int lists_child(const struct node *p, const char *name,
		       struct node *c, char *own)
{
	switch (p->kind) {
	case NODE_LISTS:
		if (strcmp(name, "partner") == 0)
			c->kind = NODE_PARTNER;
		else if (strcmp(name, "workspace") == 0)
			c->kind = NODE_WORKSPACES;
		else
			return -ENOENT;
		return 0;
	case NODE_WORKSPACES:
		if (!word(name, DOC_WORKSPACE_MAX, ID_CHARS, own))
			return -ENOENT;
		c->kind = NODE_WORKSPACE;
		c->workspace = own;
		return 0;
	default:	/* NODE_PARTNER, NODE_WORKSPACE */
		if (!list_number(name, &c->list_id))
			return -ENOENT;
		c->kind = NODE_LIST;
		return 0;
	}
}

/* The tail of a list's directory: list.json, the exports, profiles/,
 * profiles/<id>.json. */
static int list_child(const struct node *p, const char *name,
		      struct node *c, char *own)
{
	if (p->kind == NODE_LIST_PROFILES) {
		if (!json_name(name, own, profile_id_valid))
			return -ENOENT;
		c->kind = NODE_LIST_LINK;
		c->id = own;
	} else if (strcmp(name, "list.json") == 0) {
		c->kind = NODE_LIST_JSON;
	} else if (strcmp(name, TREE_PROFILES) == 0) {
		c->kind = NODE_LIST_PROFILES;
	} else if (strcmp(name, TREE_NDJSON) == 0) {
		c->kind = NODE_LIST_NDJSON;
	} else if (strcmp(name, TREE_CSV) == 0) {
		c->kind = NODE_LIST_CSV;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int channels_child(const struct node *p, const char *name,
			  struct node *c, char *own)
{
	if (p->kind == NODE_CHANNELS) {
		if (!word(name, TREE_CHANNEL_TYPE_MAX, TYPE_CHARS, own))
			return -ENOENT;
		c->kind = NODE_CHANNEL_TYPE;
		c->channel_type = own;
		return 0;
	}
	if (!json_name(name, own, tree_channel_id_valid))
		return -ENOENT;
	c->kind = NODE_CHANNEL_LINK;
	c->id = own;
	return 0;
}

static int profiles_child(const char *name, struct node *c, char *own)
{
	if (!json_name(name, own, profile_id_valid))
		return -ENOENT;
	c->kind = NODE_PROFILE;
	c->id = own;
	return 0;
}

/*
 * The node of `name` below `parent`: 0, -ENOENT when no such name can be
 * there, -ENOTDIR when parent is not a directory.
 */
int tree_child(const struct view *v, const struct node *parent,
	       const char *name, struct node *child,
	       char own[TREE_NAME_MAX + 1])
{
	struct node c = *parent;
	int res;

	switch (parent->kind) {
	case NODE_ROOT:
		c.env = view_find_env(v, name, strlen(name));
		c.kind = NODE_ENV;
		res = c.env ? 0 : -ENOENT;
		break;
	case NODE_ENV:
		res = env_child(name, &c);
		break;
	case NODE_PROFILES:
		res = profiles_child(name, &c, own);
		break;
	case NODE_LISTS:
	case NODE_PARTNER:
	case NODE_WORKSPACES:
	case NODE_WORKSPACE:
		res = lists_child(parent, name, &c, own);
		break;
	case NODE_LIST:
	case NODE_LIST_PROFILES:
		res = list_child(parent, name, &c, own);
		break;
	case NODE_CHANNELS:
	case NODE_CHANNEL_TYPE:
		res = channels_child(parent, name, &c, own);
		break;
	default:
		res = -ENOTDIR;
	}
	if (res == 0)
		*child = c;
	return res;
}

bool tree_is_dir(enum node_kind kind)
{
	switch (kind) {
	case NODE_ROOT:
	case NODE_ENV:
	case NODE_PROFILES:
	case NODE_LISTS:
	case NODE_PARTNER:
	case NODE_WORKSPACES:
	case NODE_WORKSPACE:
	case NODE_LIST:
	case NODE_LIST_PROFILES:
	case NODE_CHANNELS:
	case NODE_CHANNEL_TYPE:
		return true;
	default:
		return false;
	}
}

/* Files whose bytes are a snapshot: a reader keeps the ones it opened. */
bool tree_is_snapshot(enum node_kind kind)
{
	return tree_is_export(kind) || kind == NODE_STATUS ||
	       kind == NODE_DOC || kind == NODE_LIST_JSON;
}

/* profiles.ndjson and profiles.csv, of every profile or of a list. */
bool tree_is_export(enum node_kind kind)
{
	return kind == NODE_NDJSON || kind == NODE_CSV ||
	       kind == NODE_LIST_NDJSON || kind == NODE_LIST_CSV;
}

/* "<id>.json"; g_free it. */
char *tree_file_name(const char *id)
{
	return g_strconcat(id, JSON, NULL);
}

/* The relative symlink target into ENV/profiles/; g_free it. */
char *tree_link_target(const struct node *n, const char *profile_id)
{
	const char *up;

	if (n->kind == NODE_CHANNEL_LINK)
		up = "../../";
	else if (n->workspace[0])
		up = "../../../../../";
	else
		up = "../../../../";
	return g_strconcat(up, TREE_PROFILES "/", profile_id, JSON, NULL);
}
