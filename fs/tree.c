/*
 * tree.c - path shapes: split a path into components and classify them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "tree.h"

#define MAX_DEPTH 8

const char *const tree_doc_names[DOC_COUNT] = {
	[DOC_ME] = "me.json",
	[DOC_WORKSPACES] = "workspaces.json",
	[DOC_CUSTOM_FIELDS] = "custom-fields.json",
};

struct parts {
	const char *s[MAX_DEPTH];
	size_t len[MAX_DEPTH];
	int n;
};

static int split(const char *path, struct parts *p)
{
	const char *c = path;

	p->n = 0;
	while (*c) {
		const char *end;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		if (p->n == MAX_DEPTH)
			return -ENOENT;
		end = strchrnul(c, '/');
		p->s[p->n] = c;
		p->len[p->n] = (size_t)(end - c);
		p->n++;
		c = end;
	}
	return 0;
}

static bool is(const struct parts *p, int i, const char *word)
{
	return p->len[i] == strlen(word) && memcmp(p->s[i], word, p->len[i]) == 0;
}

/* "<name>.json" with name passing valid(); name copied into out. */
static bool json_name(const struct parts *p, int i, char *out, size_t size,
		      bool (*valid)(const char *id, size_t len))
{
	size_t len = p->len[i];

	if (len <= 5 || memcmp(p->s[i] + len - 5, ".json", 5) != 0)
		return false;
	len -= 5;
	if (len >= size || !valid(p->s[i], len))
		return false;
	memcpy(out, p->s[i], len);
	out[len] = '\0';
	return true;
}

static bool profile_id_valid(const char *id, size_t len)
{
	char buf[IDX_ID_MAX + 1];

	if (len > IDX_ID_MAX)
		return false;
	memcpy(buf, id, len);
	buf[len] = '\0';
	return idx_id_valid(buf);
}

/* Channel ids are e-mail addresses and phone numbers too: only what cannot
 * be a file name is refused. */
bool tree_channel_id_valid(const char *id, size_t len)
{
	if (len == 0 || len > IDX_ID_MAX || memchr(id, '/', len) ||
	    memchr(id, '\0', len))
		return false;
	return !(len == 1 && id[0] == '.') &&
	       !(len == 2 && id[0] == '.' && id[1] == '.');
}

static bool copy_word(const struct parts *p, int i, char *out, size_t size,
		      const char *allowed)
{
	size_t k;

	if (p->len[i] == 0 || p->len[i] >= size)
		return false;
	for (k = 0; k < p->len[i]; k++)
		if (!strchr(allowed, p->s[i][k]))
			return false;
	memcpy(out, p->s[i], p->len[i]);
	out[p->len[i]] = '\0';
	return true;
}

static bool list_number(const struct parts *p, int i, int64_t *id)
{
	char buf[24];
	char *end;

	if (!copy_word(p, i, buf, sizeof(buf), "0123456789") ||
	    (buf[0] == '0' && buf[1]))
		return false;
	*id = strtoll(buf, &end, 10);
	return *end == '\0';
}

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
#define TYPE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

/* The tail of a list's directory: list.json, profiles/, profiles/<id>.json. */
static int resolve_list(const struct parts *p, int i, struct node *n)
{
	n->kind = NODE_LIST;
	if (p->n == i)
		return 0;
	if (p->n == i + 1 && is(p, i, "list.json")) {
		n->kind = NODE_LIST_JSON;
		return 0;
	}
	if (!is(p, i, "profiles"))
		return -ENOENT;
	n->kind = NODE_LIST_PROFILES;
	if (p->n == i + 1)
		return 0;
	n->kind = NODE_LIST_LINK;
	if (p->n == i + 2 && json_name(p, i + 1, n->id, sizeof(n->id),
				       profile_id_valid))
		return 0;
	return -ENOENT;
}

static int resolve_lists(const struct parts *p, struct node *n)
{
	n->kind = NODE_LISTS;
	if (p->n == 2)
		return 0;
	if (is(p, 2, "partner")) {
		n->kind = NODE_PARTNER;
		if (p->n == 3)
			return 0;
		return list_number(p, 3, &n->list_id) ? resolve_list(p, 4, n)
						      : -ENOENT;
	}
	if (!is(p, 2, "workspace"))
		return -ENOENT;
	n->kind = NODE_WORKSPACES;
	if (p->n == 3)
		return 0;
	if (!copy_word(p, 3, n->workspace, sizeof(n->workspace), ID_CHARS))
		return -ENOENT;
	n->kind = NODE_WORKSPACE;
	if (p->n == 4)
		return 0;
	return list_number(p, 4, &n->list_id) ? resolve_list(p, 5, n) : -ENOENT;
}

static int resolve_channels(const struct parts *p, struct node *n)
{
	n->kind = NODE_CHANNELS;
	if (p->n == 2)
		return 0;
	if (!copy_word(p, 2, n->channel_type, sizeof(n->channel_type),
		       TYPE_CHARS))
		return -ENOENT;
	n->kind = NODE_CHANNEL_TYPE;
	if (p->n == 3)
		return 0;
	n->kind = NODE_CHANNEL_LINK;
	if (p->n == 4 && json_name(p, 3, n->id, sizeof(n->id),
				   tree_channel_id_valid))
		return 0;
	return -ENOENT;
}

static int resolve_env_child(const struct parts *p, struct node *n)
{
	int d;

	for (d = 0; d < DOC_COUNT; d++) {
		if (tree_doc_names[d] && is(p, 1, tree_doc_names[d])) {
			n->kind = NODE_DOC;
			n->doc = (enum doc_kind)d;
			return p->n == 2 ? 0 : -ENOTDIR;
		}
	}
	if (is(p, 1, ".status.json") || is(p, 1, "profiles.ndjson")) {
		n->kind = is(p, 1, ".status.json") ? NODE_STATUS : NODE_NDJSON;
		return p->n == 2 ? 0 : -ENOTDIR;
	}
	if (is(p, 1, "profiles")) {
		n->kind = NODE_PROFILES;
		if (p->n == 2)
			return 0;
		n->kind = NODE_PROFILE;
		return p->n == 3 && json_name(p, 2, n->id, sizeof(n->id),
					      profile_id_valid) ? 0 : -ENOENT;
	}
	if (is(p, 1, "lists"))
		return resolve_lists(p, n);
	if (is(p, 1, "channels"))
		return resolve_channels(p, n);
	return -ENOENT;
}

int tree_resolve(struct fs *fs, const char *path, struct node *node)
{
	struct node n = { 0 };
	struct parts p;
	int res;

	res = split(path, &p);
	if (res < 0)
		return res;
	n.kind = NODE_ROOT;
	if (p.n > 0) {
		n.env = fs_find_env(fs, p.s[0], p.len[0]);
		if (!n.env)
			return -ENOENT;
		n.kind = NODE_ENV;
		if (p.n > 1) {
			res = resolve_env_child(&p, &n);
			if (res < 0)
				return res;
		}
	}
	*node = n;
	return 0;
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

/* Relative symlink targets into ENV/profiles/. */
int tree_link_target(const struct node *node, const char *profile_id,
		     char *buf, size_t size)
{
	const char *up;
	int len;

	if (node->kind == NODE_CHANNEL_LINK)
		up = "../../";
	else if (node->workspace[0])
		up = "../../../../../";
	else
		up = "../../../../";
	len = snprintf(buf, size, "%sprofiles/%s.json", up, profile_id);
	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : len;
}
