/*
 * test_inodes.c - the node ids of inodes, profiles and links
 * (fs/fuse/inodes.c): a link's node id finds the directory it was looked
 * up in for as long as the directory lives, the kinds never mix, and a
 * directory's number goes to another once it is forgotten.
 */
#include "check.h"
#include <string.h>

#include "fs/fuse/inodes.h"

static struct ino *enter_dir(struct ino *parent, const char *name,
			     enum node_kind kind)
{
	struct node n;

	tree_root(&n);
	n.kind = kind;
	return ino_enter(parent, name, &n, NULL, NULL);
}

static void test_kinds(void)
{
	struct ino *root = ino_of(FUSE_ROOT_ID), *dir = enter_dir(root, "env",
						NODE_ENV);
	struct ino *found;
	fuse_ino_t link, profile = ino_profile(3, 42);
	uint64_t row, pos;
	size_t env;

	check(dir);
	link = ino_link(dir, 42);
	check(link != 0);
	check(ino_is_link(link, &found, &row) && found == dir && row == 42);
	check(!ino_is_profile(link, &env, &pos));
	check(ino_is_profile(profile, &env, &pos) && env == 3 && pos == 42);
	check(!ino_is_link(profile, &found, &row));
	check(!ino_is_link(ino_nodeid(dir), &found, &row));
	check(!ino_is_link(FUSE_ROOT_ID, &found, &row));
	/* only an inode's own node id is one */
	check(ino_is_own(FUSE_ROOT_ID) && ino_is_own(ino_nodeid(dir)));
	check(!ino_is_own(link) && !ino_is_own(profile));
	check(!ino_is_own(ino_link(dir, 0)) && !ino_is_own(ino_profile(0, 0)));
	/* the same directory, the same number; another row, another id */
	check(ino_link(dir, 42) == link);
	check(ino_link(dir, 43) != link);
	/* a row past 2^40 gets none: the link then has an inode */
	check(ino_link(dir, 1ULL << 40) == 0);
	check(ino_link(dir, (1ULL << 40) - 1) != 0);
	/* the root has no links */
	check(ino_link(root, 1) == 0);
	ino_forget(dir, 1);
}

static void test_forgotten_directory(void)
{
	struct ino *root = ino_of(FUSE_ROOT_ID);
	struct ino *a = enter_dir(root, "a", NODE_ENV);
	struct ino *b = enter_dir(root, "b", NODE_ENV);
	struct ino *found;
	fuse_ino_t in_a, in_b, again;
	uint64_t row;

	check(a && b);
	in_a = ino_link(a, 7);
	in_b = ino_link(b, 7);
	check(in_a && in_b && in_a != in_b);
	ino_forget(a, 1);
	/* a stale id finds no directory */
	check(ino_is_link(in_a, &found, &row) && found == NULL && row == 7);
	check(ino_is_link(in_b, &found, &row) && found == b);
	/* the number goes to the next directory numbered */
	a = enter_dir(root, "c", NODE_ENV);
	again = ino_link(a, 7);
	check(again == in_a);
	check(ino_is_link(again, &found, &row) && found == a);
	ino_forget(a, 1);
	ino_forget(b, 1);
	check(ino_count() == 0);
}

int main(void)
{
	test_kinds();
	test_forgotten_directory();
	ino_clear();
	printf("test_inodes: OK\n");
	return 0;
}
