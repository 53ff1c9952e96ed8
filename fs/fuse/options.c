/*
 * options.c - parse sprinklrfs's mount options with fuse_opt.
 */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "auth/api/api.h"
#include "auth/base/log.h"
#include "auth/net/endpoint.h"
#include "fs/fuse/options.h"
#include "fs/sync/pagesize.h"

#define OPT(t, p) { t, offsetof(struct fs_options, p), 1 }

enum { KEY_IGNORED, KEY_UMASK, KEY_UID, KEY_GID, KEY_PAGE_SIZE };

static const struct fuse_opt opt_spec[] = {
	OPT("env=%s", envs),
	OPT("ttl=%lf", ttl),
	OPT("doc_ttl=%lf", doc_ttl),
	OPT("full_sync=%lf", full_sync),
	FUSE_OPT_KEY("page_size=", KEY_PAGE_SIZE),
	OPT("store=%s", store),
	OPT("rate_per_second=%u", rate_per_second),
	OPT("rate_per_hour=%u", rate_per_hour),
	OPT("rate_window=%lf", rate_window),
	OPT("background_share=%u", background_share),
	OPT("read_timeout=%lf", read_timeout),
	OPT("retries=%u", retries),
	OPT("stall_timeout=%u", stall_timeout),
	OPT("connect_timeout=%u", connect_timeout),
	OPT("max_body=%lu", max_body),
	OPT("cache_dir=%s", cache_dir),
	OPT("partitions=%d", partitions),
	OPT("memory_limit=%lu", memory_limit),
	OPT("xattr", xattr),
	OPT("log_level=%s", log_level),
	FUSE_OPT_KEY("uid=", KEY_UID),
	FUSE_OPT_KEY("gid=", KEY_GID),
	FUSE_OPT_KEY("umask=", KEY_UMASK),
	FUSE_OPT_KEY("_netdev", KEY_IGNORED),
	FUSE_OPT_KEY("auto", KEY_IGNORED),
	FUSE_OPT_KEY("noauto", KEY_IGNORED),
	FUSE_OPT_KEY("user", KEY_IGNORED),
	FUSE_OPT_KEY("users", KEY_IGNORED),
	FUSE_OPT_KEY("nofail", KEY_IGNORED),
	FUSE_OPT_KEY("defaults", KEY_IGNORED),
	FUSE_OPT_END
};

void opt_help(void)
{
	printf("sprinklrfs options:\n"
	       "    -o env=A:B             environments to mount (default: all stored)\n"
	       "    -o ttl=SECONDS         cache lifetime and sync interval (default: 60)\n"
	       "    -o doc_ttl=SECONDS     lifetime of me.json, workspaces.json,\n"
	       "                           custom-fields.json and the lists\n"
	       "                           (default: 3600)\n"
	       "    -o full_sync=SECONDS   interval of full listings (default: 21600)\n"
	       "    -o page_size=N|auto    profiles per search page, 1 to 1000; auto:\n"
	       "                           the most the server takes (default: auto)\n"
	       "    -o uid=N,gid=N         owner of every file (default: the mounting user)\n"
	       "    -o umask=M             mask applied to 0444 files and 0555 directories\n"
	       "    -o store=keyring|file  where credentials are (default: keyring)\n"
	       "    -o rate_per_second=N   calls per second per API key (default: 10)\n"
	       "    -o rate_per_hour=N     calls per hour per API key (default: 1000)\n"
	       "    -o rate_window=S       length of rate_per_hour's window (default: 3600)\n"
	       "    -o background_share=P  percent of each window full listings may use;\n"
	       "                           the rest is kept for readers (default: 80)\n"
	       "    -o read_timeout=S      longest wait of a read for quota and retries\n"
	       "                           (default: 60)\n"
	       "    -o retries=N           retries after a transient failure (default: 4)\n"
	       "    -o stall_timeout=S     abandon a transfer silent this long (default: 30)\n"
	       "    -o connect_timeout=S   (default: 10)\n"
	       "    -o max_body=BYTES      largest answer accepted (default: 67108864)\n"
	       "    -o cache_dir=DIR       where the profile stores are\n"
	       "                           (default: $XDG_CACHE_HOME/sprinklrfs)\n"
	       "    -o partitions=K        cursors a full listing follows at once\n"
	       "                           (default: 1)\n"
	       "    -o memory_limit=MIB    bound of the daemon's memory (default: 256)\n"
	       "    -o xattr               serve the user.sprinklr.* extended\n"
	       "                           attributes (default: none, and no\n"
	       "                           xattr request reaches the daemon)\n"
	       "    -o log_level=LEVEL     error, warning, info or debug (default: info);\n"
	       "                           debug traces every API call; -d and -o debug\n"
	       "                           (libfuse's) imply it\n"
	       "\n");
}

static int parse_number(const char *arg, int base, unsigned long max,
			unsigned long *out)
{
	const char *value = strchr(arg, '=') + 1;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(value, &end, base);
	if (errno || *value == '\0' || *end || n > max)
		return -1;
	*out = n;
	return 0;
}

static int parse_id_option(struct fs_options *o, const char *arg, int key)
{
	unsigned long n;

	if (parse_number(arg, key == KEY_UMASK ? 8 : 10,
			 key == KEY_UMASK ? 0777 : 0xfffffffeUL, &n) < 0) {
		log_error("invalid option -o %s", arg);
		return -1;
	}
	if (key == KEY_UID)
		o->uid = (uid_t)n;
	else if (key == KEY_GID)
		o->gid = (gid_t)n;
	else
		o->umask = (mode_t)n;
	return 0;
}

/* page_size=N (1 to 1000) or page_size=auto. */
static int parse_page_size(struct fs_options *o, const char *arg)
{
	unsigned long n;

	if (strcmp(arg, "page_size=auto") == 0) {
		o->page_size = PAGESIZE_AUTO;
		return 0;
	}
	if (parse_number(arg, 10, PAGESIZE_MAX, &n) < 0 || n < 1) {
		log_error("-o page_size takes 1 to %d, or auto", PAGESIZE_MAX);
		return -1;
	}
	o->page_size = (int)n;
	return 0;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct fs_options *o = data;

	(void)outargs;
	switch (key) {
	case KEY_IGNORED:
		return 0;
	case KEY_UID:
	case KEY_GID:
	case KEY_UMASK:
		return parse_id_option(o, arg, key);
	case KEY_PAGE_SIZE:
		return parse_page_size(o, arg);
	case FUSE_OPT_KEY_NONOPT:
		if (o->n_positional == 2) {
			log_error("unexpected argument '%s'", arg);
			return -1;
		}
		o->positional[o->n_positional++] = strdup(arg);
		return 0;
	default:
		return 1;
	}
}

static int check_envs(const char *list)
{
	gchar **names = g_strsplit(list, ":", -1);
	gchar **name;
	int res = 0;

	for (name = names; *name; name++) {
		if (**name && !ep_env_valid(*name)) {
			log_error("-o env: '%s' is not an environment name", *name);
			res = -1;
		}
	}
	g_strfreev(names);
	return res;
}

static int check_values(struct fs_options *o)
{
	if (o->ttl <= 0 || o->doc_ttl <= 0 || o->full_sync <= 0) {
		log_error("-o ttl, doc_ttl and full_sync take a positive number "
			  "of seconds");
		return -1;
	}
	if (o->read_timeout <= 0 || o->stall_timeout == 0 ||
	    o->connect_timeout == 0 || o->max_body < 1024) {
		log_error("-o read_timeout, stall_timeout and connect_timeout take "
			  "positive seconds, max_body at least 1024 bytes");
		return -1;
	}
	if (o->rate_window <= 0 || o->background_share < 1 ||
	    o->background_share > 100) {
		log_error("-o rate_window takes positive seconds, "
			  "background_share 1 to 100 (percent)");
		return -1;
	}
	if (o->partitions < 1 || o->partitions > 16 || o->memory_limit < 16) {
		log_error("-o partitions takes 1 to 16, memory_limit at least 16 "
			  "(MiB)");
		return -1;
	}
	if (o->log_level && log_parse_level(o->log_level, &o->level) < 0) {
		log_error("-o log_level takes error, warning, info or debug");
		return -1;
	}
	if (creds_backend_parse(o->store ? o->store : "keyring",
				&o->creds_backend) < 0) {
		log_error("-o store takes keyring or file");
		return -1;
	}
	return o->envs ? check_envs(o->envs) : 0;
}

/*
 * The user's home: $HOME when it is theirs, else the password database's
 * (mount(8) and mount.fuse3 may hand a user's mount HOME=/root, or none).
 */
static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	struct stat st;

	if (home && home[0] == '/' && stat(home, &st) == 0 &&
	    st.st_uid == getuid())
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : home;
}

/* The cache directory as an absolute path: the daemon runs in /. */
static int resolve_cache_dir(struct fs_options *o)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = home_dir();
	char *cwd, *path;

	if (o->cache_dir && o->cache_dir[0] == '/')
		return 0;
	if (o->cache_dir) {
		cwd = g_get_current_dir();
		path = g_build_filename(cwd, o->cache_dir, NULL);
		g_free(cwd);
	} else if (xdg && xdg[0] == '/') {
		path = g_build_filename(xdg, "sprinklrfs", NULL);
	} else if (home && home[0] == '/') {
		path = g_build_filename(home, ".cache", "sprinklrfs", NULL);
	} else {
		log_error("no cache directory: set HOME or -o cache_dir=DIR");
		return -1;
	}
	free(o->cache_dir);
	o->cache_dir = strdup(path);
	g_free(path);
	return o->cache_dir ? 0 : -1;
}

/* Handing the mount point (the last positional) back to libfuse. */
static int restore_mountpoint(struct fuse_args *args, struct fs_options *o)
{
	const char *mountpoint;

	if (o->n_positional == 0)
		return 0;
	mountpoint = o->positional[o->n_positional - 1];
	return fuse_opt_add_arg(args, mountpoint);
}

int opt_parse(struct fuse_args *args, struct fs_options *o)
{
	memset(o, 0, sizeof(*o));
	o->ttl = 60;
	o->doc_ttl = 3600;
	o->full_sync = 6 * 3600;
	o->page_size = PAGESIZE_AUTO;
	o->rate_per_second = 10;
	o->rate_per_hour = 1000;
	o->rate_window = 3600;
	o->background_share = API_BACKGROUND_SHARE_DEFAULT;
	o->read_timeout = 60;
	o->retries = 4;
	o->stall_timeout = 30;
	o->connect_timeout = 10;
	o->max_body = 64ul << 20;
	o->partitions = 1;
	o->memory_limit = 256;
	o->level = LOG_LEVEL_INFO;
	o->uid = getuid();
	o->gid = getgid();
	if (fuse_opt_parse(args, o, opt_spec, opt_proc) < 0)
		return -EINVAL;
	if (restore_mountpoint(args, o) < 0 || check_values(o) < 0 ||
	    resolve_cache_dir(o) < 0)
		return -EINVAL;
	return 0;
}

static bool has_name(const GPtrArray *names, const char *name)
{
	guint i;

	for (i = 0; i < names->len; i++)
		if (strcmp(g_ptr_array_index(names, i), name) == 0)
			return true;
	return false;
}

/* The environments env= names, each once, in order (none: an empty
 * vector); NULL without env=. Free with g_strfreev(). */
GStrv opt_env_names(const struct fs_options *o)
{
	gchar **names, **name;
	GPtrArray *distinct;

	if (!o->envs)
		return NULL;
	names = g_strsplit(o->envs, ":", -1);
	distinct = g_ptr_array_new();
	for (name = names; *name; name++)
		if (**name && !has_name(distinct, *name))
			g_ptr_array_add(distinct, g_strdup(*name));
	g_strfreev(names);
	g_ptr_array_add(distinct, NULL);
	return (GStrv)g_ptr_array_free(distinct, FALSE);
}

void opt_free(struct fs_options *o)
{
	free(o->envs);
	free(o->store);
	free(o->cache_dir);
	free(o->log_level);
	free(o->positional[0]);
	free(o->positional[1]);
	memset(o, 0, sizeof(*o));
}
