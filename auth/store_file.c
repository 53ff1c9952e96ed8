/*
 * store_file.c - credentials in $XDG_CONFIG_HOME/sprinklrfs/ENV.json.
 *
 * For headless machines without a Secret Service, by explicit opt-in. The
 * directory is made 0700 and the file 0600; a file that is a symlink, not ours,
 * or readable by group or others is refused rather than trusted. A write goes
 * to a fresh temporary file in the same directory which is synced and renamed
 * over the old one, so a reader sees the old document or the new one, never a
 * mix, even after a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_backend.h"

#define SF_MAX_SIZE (1u << 20)
#define SF_SUFFIX ".json"

/* The path of the last refused file, for sf_strerror() on the same thread. */
static __thread char sf_refused[PATH_MAX];

static int sf_config_home(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.config", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int sf_dir(char *buf, size_t size)
{
	char home[PATH_MAX];
	int err = sf_config_home(home, sizeof(home));
	int n;

	if (err)
		return err;
	n = snprintf(buf, size, "%s/sprinklrfs", home);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int sf_path(const char *env, char *buf, size_t size)
{
	char dir[PATH_MAX];
	int err = sf_dir(dir, sizeof(dir));
	int n;

	if (err)
		return err;
	n = snprintf(buf, size, "%s/%s%s", dir, env, SF_SUFFIX);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int sf_mkdir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/*
 * Make the config home (XDG says 0700) and our directory inside it. A config
 * home that cannot be made because its own parent is missing is -ENOTDIR,
 * the path kept for sf_strerror().
 */
static int sf_make_dir(char *dir, size_t size)
{
	char home[PATH_MAX];
	int err = sf_config_home(home, sizeof(home));

	if (err == -ENOENT) {
		snprintf(sf_refused, sizeof(sf_refused), "$HOME");
		return -ENOTDIR;
	}
	if (!err)
		err = sf_mkdir(home);
	if (err == -ENOENT) {
		snprintf(sf_refused, sizeof(sf_refused), "%s", home);
		return -ENOTDIR;
	}
	if (!err)
		err = sf_dir(dir, size);
	if (!err)
		err = sf_mkdir(dir);
	return err;
}

static int sf_refuse(const char *path)
{
	snprintf(sf_refused, sizeof(sf_refused), "%s", path);
	return -EPERM;
}

static int sf_check(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return sf_refuse(path);
	if (st.st_size > SF_MAX_SIZE)
		return -EFBIG;
	return 0;
}

static int sf_read_all(int fd, char *buf, size_t size, size_t *len)
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

static int sf_parse_fd(int fd, const char *env, struct creds *out)
{
	char *buf = malloc(SF_MAX_SIZE + 1);
	struct creds c = { 0 };
	size_t len = 0;
	int err;

	if (!buf)
		return -ENOMEM;
	err = sf_read_all(fd, buf, SF_MAX_SIZE + 1, &len);
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

int sf_load(const char *env, struct creds *out)
{
	char path[PATH_MAX];
	int err = sf_path(env, path, sizeof(path));
	int fd;

	if (err)
		return err;
	/* O_NONBLOCK: a FIFO planted in our place must not hang us */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		  O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? sf_refuse(path) : -errno;
	err = sf_check(fd, path);
	if (!err)
		err = sf_parse_fd(fd, env, out);
	close(fd);
	return err;
}

static int sf_write_all(int fd, const char *buf, size_t len)
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

static int sf_sync_dir(const char *dir)
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

/* Write json to a new 0600 file next to path, then rename it over path. */
static int sf_replace(const char *dir, const char *path, const char *json)
{
	char tmp[PATH_MAX];
	int err = 0;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);	/* O_CREAT | O_EXCL, mode 0600 */
	if (fd < 0)
		return -errno;
	err = sf_write_all(fd, json, strlen(json));
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		goto out_unlink_tmp;
	return sf_sync_dir(dir);

out_unlink_tmp:
	unlink(tmp);
	return err;
}

int sf_save(const struct creds *c)
{
	char dir[PATH_MAX], path[PATH_MAX];
	char *json = NULL;
	int err;

	err = sf_make_dir(dir, sizeof(dir));
	if (!err)
		err = sf_path(c->env, path, sizeof(path));
	if (err)
		return err;
	err = creds_to_json(c, &json);
	if (err)
		return err;
	err = sf_replace(dir, path, json);
	creds_free_secret_string(json);
	return err;
}

int sf_delete(const char *env)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int err = sf_dir(dir, sizeof(dir));

	if (!err)
		err = sf_path(env, path, sizeof(path));
	if (err)
		return err;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;
	return sf_sync_dir(dir);
}

/* "prod2.json" -> a copy of "prod2", or NULL when the name is not ours. */
static char *sf_env_of(const char *name)
{
	size_t len = strlen(name);
	size_t slen = strlen(SF_SUFFIX);
	char env[EP_ENV_MAX + 1];

	if (len <= slen || len - slen > EP_ENV_MAX ||
	    strcmp(name + len - slen, SF_SUFFIX) != 0)
		return NULL;
	memcpy(env, name, len - slen);
	env[len - slen] = '\0';
	return ep_env_valid(env) ? strdup(env) : NULL;
}

static int sf_push(char ***envs, size_t *count, size_t *cap, char *env)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char **grown = realloc(*envs, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		*envs = grown;
		*cap = ncap;
	}
	(*envs)[(*count)++] = env;
	return 0;
}

static int sf_scan(DIR *d, char ***envs, size_t *count)
{
	size_t cap = 0;
	struct dirent *de;

	for (;;) {
		char *env;

		errno = 0;
		de = readdir(d);
		if (!de)
			return errno ? -errno : 0;
		env = sf_env_of(de->d_name);
		if (env && sf_push(envs, count, &cap, env)) {
			free(env);
			return -ENOMEM;
		}
	}
}

int sf_list(char ***envs, size_t *count)
{
	char dir[PATH_MAX];
	char **found = NULL;
	size_t n = 0;
	int err = sf_dir(dir, sizeof(dir));
	DIR *d;

	if (err)
		return err;
	d = opendir(dir);
	if (!d && errno != ENOENT)
		return -errno;
	if (d) {
		err = sf_scan(d, &found, &n);
		closedir(d);
	}
	if (err) {
		store_list_free(found, n);
		return err;
	}
	*count = store_envs_normalize(found, n);
	*envs = found;
	return 0;
}

const char *sf_strerror(int err)
{
	static __thread char msg[2 * PATH_MAX + 256];

	switch (err) {
	case -EPERM:
		snprintf(msg, sizeof(msg),
			 "refusing %s: it must be a regular file (not a "
			 "symlink) owned by you that group and others cannot "
			 "read; fix it with: chmod 600 %s",
			 sf_refused, sf_refused);
		return msg;
	case -ENOTDIR:
		snprintf(msg, sizeof(msg),
			 "cannot create %s: the directory it goes in does not "
			 "exist (set HOME or XDG_CONFIG_HOME to an existing "
			 "directory)", sf_refused);
		return msg;
	case -ENOENT:
		return "no credentials file for this environment under "
		       "$XDG_CONFIG_HOME/sprinklrfs (run: sprinklrfs auth "
		       "login ENV --store=file)";
	}
	return NULL;
}
