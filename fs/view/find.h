/*
 * find.h - the data behind a node: a profile (synced as far as is due,
 * fetched when unknown), a channel's profile, a list, and what a failing
 * store means (-EIO, noted for .status.json and logged, never -ENOENT).
 */
#ifndef SPRINKLRFS_FS_VIEW_FIND_H
#define SPRINKLRFS_FS_VIEW_FIND_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "fs/store/item.h"
#include "fs/sync/docs.h"
#include "fs/view/env.h"
#include "fs/view/tree.h"

int find_failed(struct view_env *e);
int find_result(struct view_env *e, int res);
int find_profile(struct view_env *e, const char *id, struct item **out);
int find_profile_stat(struct view_env *e, const char *id, uint64_t *size,
		      int64_t *modified_ms, uint64_t *pos);
int find_profile_at(struct view_env *e, uint64_t pos, struct node *n,
		    char id[ITEM_ID_MAX + 1]);
int find_link_at(const struct node *dir, uint64_t row, struct node *n,
		 char own[TREE_NAME_MAX + 1]);
int find_channel(struct view_env *e, const char *type, const char *cid,
		 struct item **out);
int find_list(const struct node *n, struct doc_list *out);
int find_lists(const struct node *n, GArray **lists);

#endif
