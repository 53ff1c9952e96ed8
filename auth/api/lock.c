/*
 * lock.c - where the per-environment refresh lock lives.
 *
 * The lock file lives in $XDG_RUNTIME_DIR/sprinklrfs/ or, without a runtime
 * directory, in /tmp/sprinklrfs-UID/. Either directory must be ours and closed
 * to group and others, checked with lstat so that nobody else can pre-create
 * it, or a symlink in its place, in the shared /tmp. Taking the lock is
 * base/flock's: a timeout_ms below zero waits without limit; zero tries once.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "auth/api/lock.h"
#include "auth/base/flock.h"
#include "auth/net/endpoint.h"

static char *lock_dir(void)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");

	if (runtime && runtime[0] == '/')
		return g_build_filename(runtime, "sprinklrfs", NULL);
	return g_strdup_printf("/tmp/sprinklrfs-%u", (unsigned)geteuid());
}

/* Make dir if needed and require a real directory of ours, mode 0700. */
static int lock_make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return -EPERM;
	return 0;
}

/* Takes env's refresh lock: *fd holds it until flock_release(). */
int lock_env(const char *env, int timeout_ms, int *fd)
{
	char *dir, *path;
	int err;

	if (!ep_env_valid(env) || !fd)
		return -EINVAL;
	dir = lock_dir();
	err = lock_make_dir(dir);
	if (err)
		goto out_free_dir;
	path = g_strdup_printf("%s/%s.lock", dir, env);
	err = flock_take(path, timeout_ms, NULL, NULL, fd);
	g_free(path);
	/* a symlink in the lock file's place is not ours to follow */
	if (err == -ELOOP)
		err = -EPERM;
out_free_dir:
	g_free(dir);
	return err;
}
