/*
 * tree.h - paths of the mount, parsed into nodes.
 *
 *   /ENV/{me,workspaces,custom-fields}.json, /ENV/.status.json
 *   /ENV/profiles/<id>.json, /ENV/profiles.ndjson
 *   /ENV/lists/partner/<listId>/{list.json,profiles/<id>.json}
 *   /ENV/lists/workspace/<workspaceId>/<listId>/{list.json,profiles/<id>.json}
 *   /ENV/channels/<CHANNEL>/<channelId>.json
 *
 * tree_resolve() only checks a path's shape (names that could exist); whether
 * the entity exists is for the caller to find out.
 */
#ifndef SPRINKLRFS_TREE_H
#define SPRINKLRFS_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "docs.h"
#include "index.h"

struct fs;
struct fs_env;

enum node_kind {
	NODE_ROOT,
	NODE_ENV,
	NODE_DOC,		/* me.json, workspaces.json, custom-fields.json */
	NODE_STATUS,
	NODE_PROFILES,
	NODE_PROFILE,
	NODE_NDJSON,
	NODE_LISTS,
	NODE_PARTNER,		/* lists/partner */
	NODE_WORKSPACES,	/* lists/workspace */
	NODE_WORKSPACE,		/* lists/workspace/<ws> */
	NODE_LIST,		/* a list's directory */
	NODE_LIST_JSON,
	NODE_LIST_PROFILES,
	NODE_LIST_LINK,
	NODE_CHANNELS,
	NODE_CHANNEL_TYPE,
	NODE_CHANNEL_LINK,
};

#define TREE_WORKSPACE_MAX 31
#define TREE_CHANNEL_TYPE_MAX 47

struct node {
	enum node_kind kind;
	struct fs_env *env;
	enum doc_kind doc;
	char id[IDX_ID_MAX + 1];	/* profile id, or channel id */
	char workspace[TREE_WORKSPACE_MAX + 1];	/* "" for partner lists */
	char channel_type[TREE_CHANNEL_TYPE_MAX + 1];
	int64_t list_id;
};

extern const char *const tree_doc_names[DOC_COUNT];

int tree_resolve(struct fs *fs, const char *path, struct node *node);
bool tree_is_dir(enum node_kind kind);
bool tree_channel_id_valid(const char *id, size_t len);
int tree_link_target(const struct node *node, const char *profile_id,
		     char *buf, size_t size);

#endif
