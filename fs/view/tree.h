/*
 * tree.h - the names of the mount and the nodes they stand for.
 *
 *   ENV/{me,workspaces,custom-fields}.json, ENV/.status.json
 *   ENV/profiles/<id>.json, ENV/profiles.ndjson, ENV/profiles.csv
 *   ENV/lists/partner/<listId>/{list.json,profiles/<id>.json,
 *                               profiles.ndjson,profiles.csv}
 *   ENV/lists/workspace/<workspaceId>/<listId>/{the same}
 *   ENV/channels/<CHANNEL>/<channelId>.json
 *
 * A node is what a name stands for: its kind, its environment and its ids.
 * tree_child() gives the node of one name below another, checking only the
 * name's shape (names that could exist); whether the entity exists is for
 * the caller to find out. A child's strings are its parent's or, for the
 * one its own name brings, in the caller's buffer `own`: a node lives as
 * long as the strings it points to.
 */
#ifndef SPRINKLRFS_FS_VIEW_TREE_H
#define SPRINKLRFS_FS_VIEW_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/sync/docs.h"
#include "fs/view/env.h"

enum node_kind {
	NODE_ROOT,
	NODE_ENV,
	NODE_DOC,		/* me.json, workspaces.json, custom-fields.json */
	NODE_STATUS,
	NODE_PROFILES,
	NODE_PROFILE,
	NODE_NDJSON,
	NODE_CSV,
	NODE_LISTS,
	NODE_PARTNER,		/* lists/partner */
	NODE_WORKSPACES,	/* lists/workspace */
	NODE_WORKSPACE,		/* lists/workspace/<ws> */
	NODE_LIST,		/* a list's directory */
	NODE_LIST_JSON,
	NODE_LIST_PROFILES,
	NODE_LIST_NDJSON,	/* a list's members' profiles.ndjson */
	NODE_LIST_CSV,
	NODE_LIST_LINK,
	NODE_CHANNELS,
	NODE_CHANNEL_TYPE,
	NODE_CHANNEL_LINK,
};

#define TREE_NAME_MAX 255
#define TREE_CHANNEL_TYPE_MAX 47

/* Names the sync layer's changes are told by (see fs/fuse/inval.c). */
#define TREE_PROFILES "profiles"
#define TREE_NDJSON "profiles.ndjson"
#define TREE_CSV "profiles.csv"
#define TREE_STATUS ".status.json"
#define TREE_LISTS "lists"
#define TREE_CHANNELS "channels"

struct node {
	enum node_kind kind;
	enum doc_kind doc;		/* NODE_DOC */
	struct view_env *env;		/* NULL at the root */
	int64_t list_id;		/* a list's and below */
	const char *id;			/* a profile's or a channel's id, or "" */
	const char *workspace;		/* a workspace list's and below, or "" */
	const char *channel_type;	/* a channel type's and below, or "" */
};

extern const char *const tree_doc_names[DOC_COUNT];
extern const char *const tree_env_names[];

void tree_root(struct node *n);
int tree_child(const struct view *v, const struct node *parent,
	       const char *name, struct node *child,
	       char own[TREE_NAME_MAX + 1]);
bool tree_is_dir(enum node_kind kind);
bool tree_is_snapshot(enum node_kind kind);
bool tree_is_export(enum node_kind kind);
bool tree_channel_id_valid(const char *id, size_t len);
char *tree_file_name(const char *id);
char *tree_link_target(const struct node *n, const char *profile_id);

#endif
