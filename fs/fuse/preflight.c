/*
 * preflight.c - the checks before mounting (see preflight.h).
 *
 * The credential store is asked in a child process: libsecret starts
 * threads and a D-Bus connection, and those made before fuse_daemonize()
 * forks would not survive in the daemon, which asks the store again in its
 * init. The child says what is wrong on stderr itself and exits 0 or 1.
 *
 * A sprinklrfs mount on the mount point is found in /proc/self/mountinfo
 * rather than by looking into the mount point: a hung daemon would hang the
 * look as well.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "auth/base/log.h"
#include "auth/creds/backend.h"
#include "fs/fuse/preflight.h"

#define MOUNTINFO "/proc/self/mountinfo"
#define FSNAME "sprinklrfs"

enum mount_at { AT_ELSEWHERE, AT_OTHER, AT_OURS };

/* sprinklrfs sets fsname=sprinklrfs; through mount.fuse3 its type may be
 * fuse.sprinklrfs instead. */
static bool is_sprinklrfs(const char *type, const char *source)
{
	return strcmp(type, "fuse." FSNAME) == 0 ||
	       (strcmp(type, "fuse") == 0 && strcmp(source, FSNAME) == 0);
}

/* What a mountinfo line mounts at path: "ID PARENT DEV ROOT POINT OPTS
 * [OPTIONAL...] - TYPE SOURCE SUPEROPTS", POINT with octal escapes. */
static enum mount_at mount_at(const char *line, const char *path)
{
	gchar **f = g_strsplit(line, " ", -1);
	guint n = g_strv_length(f), i = 5;
	enum mount_at at = AT_ELSEWHERE;
	char *point;

	while (i < n && strcmp(f[i], "-") != 0)
		i++;
	if (i + 2 < n) {
		point = g_strcompress(f[4]);
		if (strcmp(point, path) == 0)
			at = is_sprinklrfs(f[i + 1], f[i + 2]) ? AT_OURS
								: AT_OTHER;
		g_free(point);
	}
	g_strfreev(f);
	return at;
}

/* Whether the topmost mount at path (the last one listed) is sprinklrfs. */
static bool ours_on_top(const char *mountinfo, const char *path)
{
	gchar **lines = g_strsplit(mountinfo, "\n", -1);
	bool ours = false;
	enum mount_at at;
	size_t i;

	for (i = 0; lines[i]; i++) {
		at = mount_at(lines[i], path);
		if (at != AT_ELSEWHERE)
			ours = at == AT_OURS;
	}
	g_strfreev(lines);
	return ours;
}

static int check_not_mounted(const char *mountpoint)
{
	GError *error = NULL;
	char *text = NULL;
	bool ours;

	if (!g_file_get_contents(MOUNTINFO, &text, NULL, &error)) {
		log_warn("cannot read %s (%s); not checked whether sprinklrfs "
			 "is mounted on %s already", MOUNTINFO, error->message,
			 mountpoint);
		g_error_free(error);
		return 0;
	}
	ours = ours_on_top(text, mountpoint);
	g_free(text);
	if (!ours)
		return 0;
	log_error("sprinklrfs is mounted on %s already; to mount it again, "
		  "unmount it first: fusermount3 -u %s", mountpoint, mountpoint);
	return -1;
}

/* " --store file" for the file backend: what `auth login` needs then. */
static const char *store_flag(enum creds_backend backend)
{
	return backend == CREDS_FILE ? " --store file" : "";
}

/* In the child: env= names an environment without usable credentials. */
static bool named_envs_stored(const struct fs_options *o, GStrv names)
{
	enum creds_backend b = o->creds_backend;
	bool all = true;
	struct creds c;
	size_t i;
	int res;

	if (!names[0]) {
		log_error("-o env= names no environment; nothing to mount");
		return false;
	}
	for (i = 0; names[i]; i++) {
		memset(&c, 0, sizeof(c));
		res = creds_load(b, names[i], &c);
		creds_clear(&c);
		if (res == -ENOENT)
			log_error("%s: not logged in (no credentials in the %s "
				  "store), so it cannot be mounted; run: "
				  "sprinklrfs auth login %s --key KEY%s",
				  names[i], creds_backend_name(b), names[i],
				  store_flag(b));
		else if (res < 0)
			log_error("%s: cannot read its credentials: %s",
				  names[i], creds_strerror(b, res));
		all = all && res == 0;
	}
	return all;
}

/* In the child: no env=, so at least one stored environment. */
static bool some_env_stored(const struct fs_options *o)
{
	enum creds_backend b = o->creds_backend;
	GStrv names = NULL;
	bool some;
	int res = creds_list(b, &names);

	if (res < 0) {
		log_error("cannot list the stored environments, so there is "
			  "nothing to mount: %s%s", creds_strerror(b, res),
			  b == CREDS_KEYRING ? " (a mount finds credentials "
			  "kept in files with -o store=file)" : "");
		return false;
	}
	some = names[0] != NULL;
	if (!some)
		log_error("no environment is logged in (the %s store holds no "
			  "credentials), so there is nothing to mount; run: "
			  "sprinklrfs auth login ENV --key KEY%s",
			  creds_backend_name(b), store_flag(b));
	g_strfreev(names);
	return some;
}

static bool creds_usable(const struct fs_options *o)
{
	GStrv names = opt_env_names(o);
	bool ok = names ? named_envs_stored(o, names) : some_env_stored(o);

	g_strfreev(names);
	return ok;
}

/* Asks the credential store from a child (see the top of this file). */
static int check_creds(const struct fs_options *o)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_error("cannot start the credentials check: %s",
			  strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(creds_usable(o) ? 0 : 1);	/* the parent's exit is not ours */
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_error("credentials check: %s", strerror(errno));
			return -1;
		}
	}
	if (WIFSIGNALED(status))
		log_error("the credentials check was killed by signal %d",
			  WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* 0 when sprinklrfs can mount on mountpoint; else -1, and it said why. */
int preflight_check(const struct fs_options *o, const char *mountpoint)
{
	if (check_not_mounted(mountpoint) < 0)
		return -1;
	return check_creds(o);
}
