/*
 * xattr.c - values of the extended attributes (see xattr.h).
 */
#include <errno.h>
#include <string.h>

#include "fs/view/content.h"
#include "fs/view/xattr.h"

static const char profile_names[] =
	XATTR_ID "\0" XATTR_ENV "\0" XATTR_MODIFIED;

static int sync_value(struct view_env *e, enum sync_mode mode, char **value)
{
	size_t profiles;
	int res = view_sync_env(e, mode, &profiles);

	if (res == 0)
		*value = g_strdup_printf("%zu", profiles);
	return res;
}

static int profile_value(const struct view *v, const struct node *n,
			 const char *name, char **value)
{
	struct content c;
	int res;

	if (strcmp(name, XATTR_ID) != 0 && strcmp(name, XATTR_ENV) != 0 &&
	    strcmp(name, XATTR_MODIFIED) != 0)
		return -ENODATA;
	res = content_open(v, n, &c);
	if (res < 0)
		return res;
	if (strcmp(name, XATTR_ID) == 0)
		*value = g_strdup(c.item->id);
	else if (strcmp(name, XATTR_ENV) == 0)
		*value = g_strdup(n->env->name);
	else
		*value = g_strdup_printf("%lld", (long long)c.item->modified_ms);
	content_close(&c);
	return 0;
}

/* The value of attribute name of n; g_free *value. */
int xattr_get(const struct view *v, const struct node *n, const char *name,
	      char **value)
{
	if (n->kind == NODE_ENV && strcmp(name, XATTR_SYNC) == 0)
		return sync_value(n->env, SYNC_NOW, value);
	if (n->kind == NODE_ENV && strcmp(name, XATTR_SYNC_FULL) == 0)
		return sync_value(n->env, SYNC_FULL, value);
	if (n->kind == NODE_ENV && strcmp(name, XATTR_WAIT) == 0)
		return sync_value(n->env, SYNC_COMPLETE, value);
	if (n->kind == NODE_PROFILE)
		return profile_value(v, n, name, value);
	return -ENODATA;
}

/*
 * An upper bound of the value's length that needs no work, or 0 (then
 * xattr_get() tells): asking for the length of a sync attribute must not
 * run a sync.
 */
size_t xattr_bound(const struct node *n, const char *name)
{
	if (n->kind == NODE_ENV && (strcmp(name, XATTR_SYNC) == 0 ||
				    strcmp(name, XATTR_SYNC_FULL) == 0 ||
				    strcmp(name, XATTR_WAIT) == 0))
		return 32;
	return 0;
}

/* The names n has, each NUL-terminated (static; size 0 when none). */
int xattr_list(const struct node *n, char **names, size_t *size)
{
	*names = n->kind == NODE_PROFILE ? (char *)profile_names : NULL;
	*size = n->kind == NODE_PROFILE ? sizeof(profile_names) : 0;
	return 0;
}
