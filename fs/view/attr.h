/*
 * attr.h - the attributes of a node (what getattr and lookup answer).
 *
 * Costs (documented in the README): names and synthetic directories cost
 * no API call; profiles/ and everything derived from profiles first make
 * sure the store is synced; documents and lists are one cached call each;
 * an unknown profile or channel id is one call.
 */
#ifndef SPRINKLRFS_FS_VIEW_ATTR_H
#define SPRINKLRFS_FS_VIEW_ATTR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <glib.h>

#include "fs/view/env.h"
#include "fs/view/tree.h"

int attr_get(const struct view *v, const struct node *n, struct stat *st);
int attr_profile(const struct view *v, const struct node *n, struct stat *st,
		 uint64_t *pos);
int attr_link_row(const struct view *v, const struct node *n,
		  struct stat *st, uint64_t *row);
void attr_link(const struct view *v, const struct node *n, const char *id,
	       int64_t modified_ms, struct stat *st);
size_t attr_channel_types(struct view_env *e, GPtrArray **types);

#endif
