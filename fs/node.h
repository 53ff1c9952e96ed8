/*
 * node.h - what each node of the tree is: its attributes, its bytes, its
 * entries. This is where paths meet the index, the sync engine and the
 * documents; fsops.c only adapts these to FUSE.
 */
#ifndef SPRINKLRFS_NODE_H
#define SPRINKLRFS_NODE_H

#include <sys/stat.h>
#include <sys/types.h>

#include <fuse.h>

#include "blob.h"
#include "index.h"
#include "tree.h"

struct fs;
struct fs_env;

/* The bytes of an open file: exactly one of item, lines, blob. */
struct content {
	struct idx_item *item;
	struct idx_lines *lines;
	struct blob *blob;
	struct stat st;
};

/* Entries of profile directories carry offsets: the store's pos + 2 ("."
 * and ".." come first). */
#define NODE_POS_OFF 2

int node_stat(struct fs *fs, const struct node *n, struct stat *st);
int node_open(struct fs *fs, const struct node *n, struct content *c);
ssize_t node_read(const struct content *c, char *buf, size_t size, off_t off);
void node_close(struct content *c);
int node_readdir(struct fs *fs, const struct node *n, off_t off, void *buf,
		 fuse_fill_dir_t filler);
/* node_stat of a profile, with its pos in the store (its node id,
 * inodes.h) unless NULL; and the profile at a pos. */
int node_profile_stat(struct fs *fs, const struct node *n, struct stat *st,
		      uint64_t *pos);
int node_profile_at(struct fs_env *e, uint64_t pos, struct node *n);
int node_readlink(struct fs *fs, const struct node *n, char *buf, size_t size);

#endif
