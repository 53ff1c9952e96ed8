/*
 * entries.h - the entries of a directory, and where a link points.
 *
 * entries_list() hands each entry to add(): its name, its attributes when
 * they come with it (NULL otherwise), and its offset. The entries of small
 * directories come with offset 0 (the caller numbers them); those of the
 * large ones (profiles/, a list's profiles/, a channel type's directory)
 * are streamed from the store and carry their own, so a listing resumes
 * where the previous call stopped: a profile's offset is its pos in the
 * store plus ENTRIES_POS_OFF ("." and ".." come first). add() returns
 * nonzero when it takes no more.
 */
#ifndef SPRINKLRFS_FS_VIEW_ENTRIES_H
#define SPRINKLRFS_FS_VIEW_ENTRIES_H

#include <sys/stat.h>
#include <sys/types.h>

#include "fs/view/env.h"
#include "fs/view/tree.h"

#define ENTRIES_POS_OFF 2

int entries_list(const struct view *v, const struct node *n, off_t off,
		 int (*add)(void *arg, const char *name, const struct stat *st,
			    off_t off),
		 void *arg);
int entries_readlink(const struct view *v, const struct node *n,
		     char **target);

#endif
