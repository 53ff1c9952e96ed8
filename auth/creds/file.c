/*
 * file.c - credentials in $XDG_CONFIG_HOME/sprinklrfs/ENV.json.
 *
 * For headless machines without a Secret Service, by explicit opt-in. The
 * directory is made 0700 and the file 0600; a file that is a symlink, not ours,
 * or readable by group or others is refused rather than trusted. A write goes
 * to a fresh temporary file in the same directory which is synced and renamed
 * over the old one, so a reader sees the old document or the new one, never a
 * mix, even after a crash.
 *
 * A refusal names the path it refused: the path, and the message built from
 * it, are kept per thread for cf_strerror().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "auth/creds/creds.h"
#include "auth/creds/file.h"
#include "auth/net/endpoint.h"

#define CF_MAX_SIZE (1u << 20)
#define CF_SUFFIX ".json"

/* The last refused path, and the last message: per thread. */
static GPrivate cf_refused = G_PRIVATE_INIT(g_free);
static GPrivate cf_message = G_PRIVATE_INIT(g_free);

static int cf_refuse(int err, const char *path)
{
	g_private_replace(&cf_refused, g_strdup(path));
	return err;
}

/* $XDG_CONFIG_HOME, else $HOME/.config; NULL when neither is absolute. */
static char *cf_config_home(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return g_strdup(xdg);
	if (home && home[0] == '/')
		return g_build_filename(home, ".config", NULL);
	return NULL;
}

static int cf_dir(char **dir)
{
	char *home = cf_config_home();

	if (!home)
		return -ENOENT;
	*dir = g_build_filename(home, "sprinklrfs", NULL);
	g_free(home);
	return 0;
}

static char *cf_file(const char *dir, const char *env)
{
	char *name = g_strconcat(env, CF_SUFFIX, NULL);
	char *path = g_build_filename(dir, name, NULL);

	g_free(name);
	return path;
}

static int cf_mkdir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/*
 * Make the config home (XDG says 0700) and our directory inside it. A config
 * home that cannot be made because its own parent is missing is -ENOTDIR,
 * the path kept for cf_strerror().
 */
static int cf_make_dir(char **dir)
{
	char *home = cf_config_home();
	char *made;
	int err;

	if (!home)
		return cf_refuse(-ENOTDIR, "$HOME");
	err = cf_mkdir(home);
	if (err == -ENOENT)
		err = cf_refuse(-ENOTDIR, home);
	if (err)
		goto out_free_home;
	made = g_build_filename(home, "sprinklrfs", NULL);
	err = cf_mkdir(made);
	if (err)
		g_free(made);
	else
		*dir = made;
out_free_home:
	g_free(home);
	return err;
}

static int cf_check(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return cf_refuse(-EPERM, path);
	if (st.st_size > CF_MAX_SIZE)
		return -EFBIG;
	return 0;
}

static int cf_read_all(int fd, char *buf, size_t size, size_t *len)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = read(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	if (done == size)
		return -EFBIG;
	*len = done;
	return 0;
}

static int cf_parse_fd(int fd, const char *env, struct creds *out)
{
	char *buf = malloc(CF_MAX_SIZE + 1);
	struct creds c = { 0 };
	size_t len = 0;
	int err;

	if (!buf)
		return -ENOMEM;
	err = cf_read_all(fd, buf, CF_MAX_SIZE + 1, &len);
	if (!err)
		err = creds_from_json(buf, len, &c);
	if (!err && strcmp(c.env, env) != 0)
		err = -EINVAL;
	explicit_bzero(buf, len);
	free(buf);
	if (err) {
		creds_clear(&c);
		return err;
	}
	*out = c;
	explicit_bzero(&c, sizeof(c));
	return 0;
}

static int cf_load_path(const char *path, const char *env, struct creds *out)
{
	/* O_NONBLOCK: a FIFO planted in our place must not hang us */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			    O_NONBLOCK);
	int err;

	if (fd < 0)
		return errno == ELOOP ? cf_refuse(-EPERM, path) : -errno;
	err = cf_check(fd, path);
	if (!err)
		err = cf_parse_fd(fd, env, out);
	close(fd);
	return err;
}

int cf_load(const char *env, struct creds *out)
{
	char *dir = NULL, *path;
	int err = cf_dir(&dir);

	if (err)
		return err;
	path = cf_file(dir, env);
	err = cf_load_path(path, env, out);
	g_free(path);
	g_free(dir);
	return err;
}

static int cf_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cf_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Writes json to a new 0600 file next to path and syncs it: -errno or 0. */
static int cf_write_tmp(char *tmp, const char *json)
{
	int fd = mkostemp(tmp, O_CLOEXEC);	/* O_CREAT | O_EXCL, mode 0600 */
	int err;

	if (fd < 0)
		return -errno;
	err = cf_write_all(fd, json, strlen(json));
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* Write json to a new 0600 file next to path, then rename it over path. */
static int cf_replace(const char *dir, const char *path, const char *json)
{
	char *tmp = g_strconcat(path, ".tmp-XXXXXX", NULL);
	int err = cf_write_tmp(tmp, json);

	if (err)
		goto out_free_tmp;
	if (rename(tmp, path) < 0) {
		err = -errno;
		unlink(tmp);
		goto out_free_tmp;
	}
	err = cf_sync_dir(dir);
out_free_tmp:
	g_free(tmp);
	return err;
}

int cf_save(const struct creds *c)
{
	char *dir = NULL, *path, *json = NULL;
	int err = cf_make_dir(&dir);

	if (err)
		return err;
	path = cf_file(dir, c->env);
	err = creds_to_json(c, &json);
	if (!err)
		err = cf_replace(dir, path, json);
	creds_free_secret_string(json);
	g_free(path);
	g_free(dir);
	return err;
}

int cf_delete(const char *env)
{
	char *dir = NULL, *path;
	int err = cf_dir(&dir);

	if (err)
		return err;
	path = cf_file(dir, env);
	if (unlink(path) == 0)
		err = cf_sync_dir(dir);
	else if (errno != ENOENT)
		err = -errno;
	g_free(path);
	g_free(dir);
	return err;
}

/* "prod2.json" -> "prod2", or NULL when the name is not ours. */
static char *cf_env_of(const char *name)
{
	size_t len = strlen(name);
	char *env;

	if (len <= strlen(CF_SUFFIX) || !g_str_has_suffix(name, CF_SUFFIX))
		return NULL;
	env = g_strndup(name, len - strlen(CF_SUFFIX));
	if (ep_env_valid(env))
		return env;
	g_free(env);
	return NULL;
}

static int cf_scan(DIR *d, GPtrArray *envs)
{
	struct dirent *de;
	char *env;

	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			return errno ? -errno : 0;
		env = cf_env_of(de->d_name);
		if (env)
			g_ptr_array_add(envs, env);
	}
}

int cf_list(GPtrArray *envs)
{
	char *dir = NULL;
	int err = cf_dir(&dir);
	DIR *d;

	if (err)
		return err;
	d = opendir(dir);
	if (d) {
		err = cf_scan(d, envs);
		closedir(d);
	} else if (errno != ENOENT) {
		err = -errno;
	}
	g_free(dir);
	return err;
}

const char *cf_strerror(int err)
{
	const char *path = g_private_get(&cf_refused);
	char *msg;

	if (!path)
		path = "";
	switch (err) {
	case -EPERM:
		msg = g_strdup_printf("refusing %s: it must be a regular file "
				      "(not a symlink) owned by you that group "
				      "and others cannot read; fix it with: "
				      "chmod 600 %s", path, path);
		break;
	case -ENOTDIR:
		msg = g_strdup_printf("cannot create %s: the directory it goes "
				      "in does not exist (set HOME or "
				      "XDG_CONFIG_HOME to an existing "
				      "directory)", path);
		break;
	case -ENOENT:
		return "no credentials file for this environment under "
		       "$XDG_CONFIG_HOME/sprinklrfs (run: sprinklrfs auth "
		       "login ENV --store=file)";
	default:
		return NULL;
	}
	g_private_replace(&cf_message, msg);
	return msg;
}
