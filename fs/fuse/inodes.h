/*
 * inodes.h - the inodes the kernel knows, by node id and by name.
 *
 * An inode is an entry the kernel has looked up: its parent, its name, the
 * node it stands for (tree.h: kind, environment, ids) and the kernel's
 * lookup count. Its node id is its address (the root's is FUSE_ROOT_ID);
 * the kernel uses a node id only while its lookup count is above zero, and
 * a FORGET that brings it to zero frees the inode once no child needs it as
 * a parent. A child's node may point to its parent's strings: the parent
 * outlives it.
 *
 * A profile has no inode in memory: its node id is its environment's index
 * and its pos in the store (a rowid, kept for life) with the top bit set,
 * which no address has. A million profiles' pages can so stay in the
 * kernel's cache without costing the daemon anything.
 *
 * Nor has a link, a list's member's or a channel id's: its node id is a
 * number its directory's inode is given while the kernel holds it, and its
 * row (a member's profile pos, a channel id's pos: store.h), with bit 62
 * set. The kernel holds a link's directory as long as it holds the link, so
 * the number always finds the directory the link was looked up in.
 *
 * A file whose bytes are a snapshot (profiles.ndjson, .status.json, the
 * documents, list.json) owns them: each inode keeps the bytes it was looked
 * up with, and a lookup that finds other bytes makes a new inode for the
 * name. The old one stays readable, by whoever has it open, until the
 * kernel forgets it.
 *
 * All functions are thread-safe.
 */
#ifndef SPRINKLRFS_FS_FUSE_INODES_H
#define SPRINKLRFS_FS_FUSE_INODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fuse_lowlevel.h>

#include "fs/view/content.h"
#include "fs/view/tree.h"

struct ino;

fuse_ino_t ino_profile(size_t env, uint64_t pos);
/* Whether nodeid is a profile's, and which. */
bool ino_is_profile(fuse_ino_t nodeid, size_t *env, uint64_t *pos);

/*
 * A link's node id in directory dir, or 0 when it can have none (a row
 * beyond 2^40, or 2^22 directories with links held at once): the link
 * then gets an inode of its own (ino_enter).
 */
fuse_ino_t ino_link(struct ino *dir, uint64_t row);
/* Whether nodeid is a link's, and which: its directory's inode and row;
 * NULL as *dir when the directory is gone (a stale node id). */
bool ino_is_link(fuse_ino_t nodeid, struct ino **dir, uint64_t *row);

/* Whether nodeid is an inode's: neither a profile's nor a link's. */
bool ino_is_own(fuse_ino_t nodeid);
/* Not for a profile's or a link's node id. */
struct ino *ino_of(fuse_ino_t nodeid);
fuse_ino_t ino_nodeid(const struct ino *ino);
const struct node *ino_node(const struct ino *ino);
/* The snapshot an inode owns, or NULL: unchanged while the inode lives. */
const struct content *ino_snapshot(const struct ino *ino);

/*
 * One more lookup of `name` under `parent`: the named inode, or a new one
 * for `node` (whose strings are parent's or `own`, copied). With a snapshot,
 * an inode whose bytes differ is replaced by a new one that owns `snap`;
 * otherwise `snap` is closed and freed. NULL: out of memory.
 */
struct ino *ino_enter(struct ino *parent, const char *name,
		      const struct node *node, const char *own,
		      struct content *snap);
void ino_forget(struct ino *ino, uint64_t nlookup);
/*
 * The node id of the inode at names (NULL-terminated, from the root), or
 * 0; the node id of its directory (0 when unknown too), and whether it owns
 * a snapshot.
 */
fuse_ino_t ino_walk(const char *const names[], fuse_ino_t *parent,
		    bool *snapshot);
/*
 * Whether the kernel's copy of directory ino's entries, made when its
 * contents were at `version`, is still good; version is kept for the next
 * open either way.
 */
bool ino_dir_unchanged(struct ino *ino, uint64_t version);
/* How many inodes the kernel holds directly beneath the one at names. */
size_t ino_children_at(const char *const names[]);
size_t ino_count(void);
/* Frees every inode (at unmount, when the kernel is gone). */
void ino_clear(void);

#endif
