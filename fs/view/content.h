/*
 * content.h - the bytes of a file and the attributes they go with.
 *
 * A profile is read from the store (an item); profiles.ndjson is a view of
 * one snapshot of the store (lines.h); every other file is bytes in memory
 * (GBytes). Each is immutable while held: a reader keeps the bytes whose
 * size it was told, whatever syncs do meanwhile.
 */
#ifndef SPRINKLRFS_FS_VIEW_CONTENT_H
#define SPRINKLRFS_FS_VIEW_CONTENT_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <glib.h>

#include "fs/store/item.h"
#include "fs/store/lines.h"
#include "fs/view/env.h"
#include "fs/view/tree.h"

/* Exactly one of item, lines, bytes. */
struct content {
	struct item *item;
	struct store_lines *lines;
	GBytes *bytes;
	struct stat st;
};

int content_open(const struct view *v, const struct node *n,
		 struct content *c);
ssize_t content_read(const struct content *c, char *buf, size_t size,
		     off_t off);
void content_close(struct content *c);
bool content_same(const struct content *a, const struct content *b);

#endif
