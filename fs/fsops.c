/*
 * fsops.c - FUSE operations (libfuse's low-level API): find the inode's
 * path, ask node.c, adapt the answer.
 *
 * Files are never opened: the first open answers ENOSYS, and the kernel
 * then opens every file by itself and keeps its pages between opens. A warm
 * read is the kernel's alone. So nothing can depend on an open: a profile's
 * bytes are read from the store at each read that misses the page cache
 * (a sync that changes the profile tells the kernel to drop its pages), and
 * a file whose bytes are a snapshot (profiles.ndjson, .status.json, the
 * documents, list.json) is an inode per snapshot (inodes.h): a reader keeps
 * the snapshot it looked up until it closes, and the next lookup finds the
 * new one. profiles.ndjson and .status.json are looked up at every open
 * (entry timeout 0), the others after ttl.
 *
 * Concurrency: libfuse calls these from several threads at once. They share
 * only struct fs, whose environments and api are created in fsop_init()
 * before the first request and destroyed in fsop_destroy() after the last;
 * everything mutable below them has its own lock (env.h, inodes.c). Each
 * thread knows the request it serves (current), for sync.c's waits to see
 * an interrupt.
 *
 * SIGHUP asks for a full sync of every environment. libfuse's own handler
 * treats SIGHUP as "unmount", so ours is installed after libfuse's; it only
 * posts a semaphore, and a worker thread runs the listings.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/base/log.h"
#include "fsops.h"
#include "inodes.h"
#include "inval.h"
#include "node.h"
#include "sync.h"
#include "upkeep.h"

#define PATH_LEN 1024
#define UNKNOWN_INO 0xffffffff
#define XATTR_SYNC "user.sprinklr.sync"
#define XATTR_SYNC_FULL "user.sprinklr.sync.full"
#define XATTR_WAIT "user.sprinklr.wait"

static const char xattr_names[] =
	"user.sprinklr.id\0user.sprinklr.env\0user.sprinklr.modified";

static sem_t hup_sem;
static pthread_t hup_thread;
static volatile sig_atomic_t hup_quit;

static void on_sighup(int sig)
{
	(void)sig;
	sem_post(&hup_sem);
}

int fsop_install_sighup(void)
{
	struct sigaction sa = { .sa_handler = on_sighup };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGHUP, &sa, NULL) == 0 ? 0 : -errno;
}

static void *hup_worker(void *arg)
{
	struct fs *fs = arg;
	size_t i;

	for (;;) {
		while (sem_wait(&hup_sem) != 0 && errno == EINTR)
			;
		if (hup_quit)
			return NULL;
		log_info("SIGHUP: full sync of every environment");
		for (i = 0; i < fs->n_envs; i++)
			sync_profiles(fs->envs[i], SYNC_FULL);
	}
}

static int add_env(struct fs *fs, const char *name)
{
	struct fs_env **grown = realloc(fs->envs,
					(fs->n_envs + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	fs->envs = grown;
	grown[fs->n_envs] = env_new(fs, name);
	if (!grown[fs->n_envs])
		return -ENOMEM;
	fs->n_envs++;
	return 0;
}

static void add_named_envs(struct fs *fs)
{
	char *copy = strdup(fs->opts.envs);
	char *save = NULL;
	char *name;

	for (name = copy ? strtok_r(copy, ":", &save) : NULL; name;
	     name = strtok_r(NULL, ":", &save))
		if (!fs_find_env(fs, name, strlen(name)))
			add_env(fs, name);
	free(copy);
}

static void add_stored_envs(struct fs *fs)
{
	GStrv names = NULL;
	size_t i;
	int res = creds_list(fs->opts.creds_backend, &names);

	if (res < 0) {
		log_error("cannot list the stored environments: %s",
			  creds_strerror(fs->opts.creds_backend, res));
		return;
	}
	if (!names[0])
		log_warn("no environments are logged in; run: sprinklrfs auth "
			 "login ENV --key KEY");
	for (i = 0; names[i]; i++)
		add_env(fs, names[i]);
	g_strfreev(names);
}


static __thread fuse_req_t current;

bool fsop_interrupted(void)
{
	return current && fuse_req_interrupted(current);
}

/* The request this thread serves from now on, and its fs. */
static struct fs *serve(fuse_req_t req)
{
	current = req;
	return fuse_req_userdata(req);
}

static void reply_err(fuse_req_t req, int res)
{
	current = NULL;
	fuse_reply_err(req, -res);
}

static void fsop_init(void *data, struct fuse_conn_info *conn)
{
	struct fs *fs = data;
	struct api_options api_opts = {
		.creds = fs->opts.creds_backend,
		.refresh_margin_s = API_REFRESH_MARGIN_DEFAULT,
		.rate_per_second = fs->opts.rate_per_second,
		.rate_per_hour = fs->opts.rate_per_hour,
		.read_timeout_s = fs->opts.read_timeout,
		.retries = fs->opts.retries,
		.connect_timeout_s = fs->opts.connect_timeout,
		.stall_timeout_s = fs->opts.stall_timeout,
		.max_body = fs->opts.max_body,
	};

	(void)conn;
	if (inval_start(fs->se) < 0)
		log_warn("cannot start the cache invalidation thread; changes "
			 "show after ttl");
	fs->api = api_new(&api_opts);
	if (!fs->api)
		log_error("out of memory");
	if (fs->opts.envs)
		add_named_envs(fs);
	else
		add_stored_envs(fs);
	if (upkeep_start(fs->se, fs) < 0)
		log_warn("cannot start the memory upkeep thread");
	sem_init(&hup_sem, 0, 0);
	if (pthread_create(&hup_thread, NULL, hup_worker, fs) != 0)
		log_error("cannot start the SIGHUP worker");
}

/*
 * Ends the threads that call into libfuse on their own (invalidations, the
 * memory upkeep): the mount calls this once the loop has ended, before it
 * closes the device and before destroy.
 */
void fsop_quiesce(void)
{
	upkeep_stop();
	inval_stop();
}

static void fsop_destroy(void *data)
{
	struct fs *fs = data;
	size_t i;

	hup_quit = 1;
	sem_post(&hup_sem);
	pthread_join(hup_thread, NULL);
	sem_destroy(&hup_sem);
	ino_clear();		/* snapshots first: they read the stores */
	for (i = 0; i < fs->n_envs; i++)
		env_free(fs->envs[i]);
	free(fs->envs);
	fs->envs = NULL;
	fs->n_envs = 0;
	api_free(fs->api);
	fs->api = NULL;
}

static bool is_snapshot(enum node_kind kind)
{
	return kind == NODE_NDJSON || kind == NODE_STATUS || kind == NODE_DOC ||
	       kind == NODE_LIST_JSON;
}

/* What the kernel may cache, and for how long. */
static double entry_timeout(const struct fs *fs, enum node_kind kind)
{
	return kind == NODE_NDJSON || kind == NODE_STATUS ? 0 : fs->opts.ttl;
}

static double attr_timeout(const struct fs *fs, enum node_kind kind)
{
	return kind == NODE_STATUS ? 0 : fs->opts.ttl;
}

/* The node at an inode, or at one of its names. */
static int resolve(struct fs *fs, fuse_ino_t nodeid, const char *name,
		   struct node *n)
{
	char path[PATH_LEN];
	uint64_t pos;
	size_t env;
	int res;

	if (ino_is_profile(nodeid, &env, &pos))
		return name ? -ENOTDIR : env >= fs->n_envs ? -ENOENT :
		       node_profile_at(fs->envs[env], pos, n);
	res = ino_path(ino_of(nodeid), name, path, sizeof(path));
	return res < 0 ? res : tree_resolve(fs, path, n);
}

/* The snapshot a node id's inode owns, or NULL. */
static const struct content *snapshot_of(fuse_ino_t nodeid)
{
	uint64_t pos;
	size_t env;

	return ino_is_profile(nodeid, &env, &pos) ? NULL
						   : ino_snapshot(ino_of(nodeid));
}

static size_t env_index(const struct fs *fs, const struct fs_env *e)
{
	size_t i;

	for (i = 0; i < fs->n_envs && fs->envs[i] != e; i++)
		;
	return i;
}

/* A file's snapshot (*snap) or any node's attributes (st). */
static int look(struct fs *fs, const struct node *n, struct content **snap,
		struct stat *st)
{
	int res;

	*snap = NULL;
	if (!is_snapshot(n->kind))
		return node_stat(fs, n, st);
	*snap = malloc(sizeof(**snap));
	if (!*snap)
		return -ENOMEM;
	res = node_open(fs, n, *snap);
	if (res < 0) {
		free(*snap);
		*snap = NULL;
		return res;
	}
	*st = (*snap)->st;
	return 0;
}

static void fsop_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = serve(req);
	struct fuse_entry_param e = { 0 };
	struct content *snap = NULL;
	struct ino *ino = NULL;
	struct node n;
	uint64_t pos;
	int res;

	res = resolve(fs, parent, name, &n);
	if (res == 0 && n.kind == NODE_PROFILE) {
		/* no inode is kept for a profile */
		res = node_profile_stat(fs, &n, &e.attr, &pos);
		if (res == 0)
			e.ino = ino_profile(env_index(fs, n.env), pos);
	} else if (res == 0) {
		res = look(fs, &n, &snap, &e.attr);
		if (res == 0) {
			ino = ino_enter(ino_of(parent), name, snap);
			res = ino ? 0 : -ENOMEM;
		}
	}
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	if (ino) {
		e.ino = ino_nodeid(ino);
		if (ino_snapshot(ino))	/* the one kept, when the same */
			e.attr = ino_snapshot(ino)->st;
	}
	e.entry_timeout = entry_timeout(fs, n.kind);
	e.attr_timeout = attr_timeout(fs, n.kind);
	current = NULL;
	if (fuse_reply_entry(req, &e) != 0 && ino)
		ino_forget(ino, 1);	/* the kernel did not take it */
}

static void forget(fuse_ino_t nodeid, uint64_t nlookup)
{
	uint64_t pos;
	size_t env;

	log_debug("FORGET %llu/%llu", (unsigned long long)nodeid,
		  (unsigned long long)nlookup);
	if (!ino_is_profile(nodeid, &env, &pos))
		ino_forget(ino_of(nodeid), nlookup);
}

static void fsop_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup)
{
	forget(nodeid, nlookup);
	fuse_reply_none(req);
}

static void fsop_forget_multi(fuse_req_t req, size_t count,
			      struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++) {
		forget(forgets[i].ino, forgets[i].nlookup);
	}
	fuse_reply_none(req);
}

static void fsop_getattr(fuse_req_t req, fuse_ino_t nodeid,
			 struct fuse_file_info *fi)
{
	struct fs *fs = serve(req);
	const struct content *snap = snapshot_of(nodeid);
	struct stat st;
	struct node n;
	int res;

	(void)fi;
	res = resolve(fs, nodeid, NULL, &n);
	if (res == 0 && snap)
		st = snap->st;
	else if (res == 0)
		res = node_stat(fs, &n, &st);
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	current = NULL;
	fuse_reply_attr(req, &st, attr_timeout(fs, n.kind));
}

/* The kernel opens files by itself from now on (see the top). */
static void fsop_open(fuse_req_t req, fuse_ino_t nodeid,
		      struct fuse_file_info *fi)
{
	(void)nodeid;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

/* A profile's bytes, from the store. */
static ssize_t read_node(struct fs *fs, fuse_ino_t nodeid, char *buf,
			 size_t size, off_t off)
{
	struct content c;
	struct node n;
	ssize_t res = resolve(fs, nodeid, NULL, &n);

	if (res == 0)
		res = node_open(fs, &n, &c);
	if (res < 0)
		return res;
	res = node_read(&c, buf, size, off);
	node_close(&c);
	return res;
}

static void fsop_read(fuse_req_t req, fuse_ino_t nodeid, size_t size,
		      off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = serve(req);
	const struct content *snap = snapshot_of(nodeid);
	char *buf = malloc(size ? size : 1);
	ssize_t res;

	(void)fi;
	if (!buf)
		res = -ENOMEM;
	else if (snap)
		res = node_read(snap, buf, size, off);
	else
		res = read_node(fs, nodeid, buf, size, off);
	if (res < 0) {
		reply_err(req, (int)res);
	} else {
		current = NULL;
		fuse_reply_buf(req, buf, (size_t)res);
	}
	free(buf);
}

/*
 * node_readdir's entries into a reply. Entries of small directories come
 * without offsets and are numbered here; those of profile directories carry
 * their own. With `plus`, an entry that has attributes is looked up too.
 */
struct dir_fill {
	fuse_req_t req;
	struct fs *fs;
	struct ino *dir;
	bool profiles;		/* the entries are profiles: no inodes */
	size_t env;
	bool plus;
	char *buf;
	size_t size, used;
	off_t start;		/* entries at or before it were sent */
	off_t count;
};

static bool dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static int fill_dir(void *arg, const char *name, const struct stat *st,
		    off_t off, enum fuse_fill_dir_flags flags)
{
	struct dir_fill *d = arg;
	struct fuse_entry_param e = { 0 };
	struct ino *ino = NULL;
	size_t left = d->size - d->used, len;

	if (off == 0) {
		off = ++d->count;
		if (off <= d->start)
			return 0;
	}
	/* readdir(3) skips entries with inode number 0 */
	e.attr.st_ino = st ? st->st_ino : UNKNOWN_INO;
	e.attr.st_mode = st ? st->st_mode : 0;
	if (!d->plus) {
		len = fuse_add_direntry(d->req, d->buf + d->used, left, name,
					&e.attr, off);
	} else {
		if (st && (flags & FUSE_FILL_DIR_PLUS) && !dot_or_dotdot(name)) {
			if (d->profiles) {
				e.ino = ino_profile(d->env, (uint64_t)(off -
							     NODE_POS_OFF));
			} else {
				ino = ino_enter(d->dir, name, NULL);
				e.ino = ino ? ino_nodeid(ino) : 0;
			}
			if (e.ino) {
				e.attr = *st;
				e.entry_timeout = entry_timeout(d->fs,
								NODE_PROFILE);
				e.attr_timeout = attr_timeout(d->fs,
							      NODE_PROFILE);
			}
		}
		len = fuse_add_direntry_plus(d->req, d->buf + d->used, left,
					     name, &e, off);
	}
	if (len > left) {
		if (ino)
			ino_forget(ino, 1);
		return 1;
	}
	d->used += len;
	return 0;
}

static void readdir_any(fuse_req_t req, fuse_ino_t nodeid, size_t size,
			off_t off, bool plus)
{
	struct fs *fs = serve(req);
	struct dir_fill d = {
		.req = req, .fs = fs, .plus = plus, .size = size, .start = off,
	};
	struct node n;
	int res;

	d.buf = malloc(size ? size : 1);
	res = d.buf ? resolve(fs, nodeid, NULL, &n) : -ENOMEM;
	if (res == 0 && !tree_is_dir(n.kind))
		res = -ENOTDIR;
	if (res == 0) {
		d.dir = ino_of(nodeid);
		d.profiles = n.kind == NODE_PROFILES;
		d.env = env_index(fs, n.env);
		res = node_readdir(fs, &n, off, &d, fill_dir);
	}
	if (res < 0 && d.used == 0) {
		reply_err(req, res);
	} else {
		current = NULL;
		fuse_reply_buf(req, d.buf, d.used);
	}
	free(d.buf);
}

static void fsop_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size,
			 off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_any(req, nodeid, size, off, false);
}

static void fsop_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size,
			     off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_any(req, nodeid, size, off, true);
}

static void fsop_readlink(fuse_req_t req, fuse_ino_t nodeid)
{
	struct fs *fs = serve(req);
	char target[PATH_LEN];
	struct node n;
	int res = resolve(fs, nodeid, NULL, &n);

	if (res == 0)
		res = node_readlink(fs, &n, target, sizeof(target));
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	current = NULL;
	fuse_reply_readlink(req, target);
}

static int copy_value(const char *value, char *buf, size_t size)
{
	size_t len = strlen(value);

	if (size == 0)
		return (int)len;
	if (size < len)
		return -ERANGE;
	memcpy(buf, value, len);
	return (int)len;
}

/* `sprinklrfs sync`: getxattr on an environment's directory runs a sync. */
static int sync_xattr(struct fs_env *e, enum sync_mode mode, char *buf,
		      size_t size)
{
	char value[32];
	int res;

	if (size == 0)
		return sizeof(value);
	res = sync_profiles(e, mode);
	if (res < 0)
		return res;
	snprintf(value, sizeof(value), "%zu", idx_count(e->idx));
	return copy_value(value, buf, size);
}

static int profile_xattr(struct fs *fs, const struct node *n, const char *name,
			 char *buf, size_t size)
{
	struct content c;
	char value[IDX_ID_MAX + 1];
	int res = node_open(fs, n, &c);

	if (res < 0)
		return res;
	if (strcmp(name, "user.sprinklr.id") == 0)
		snprintf(value, sizeof(value), "%s", c.item->id);
	else if (strcmp(name, "user.sprinklr.env") == 0)
		snprintf(value, sizeof(value), "%s", n->env->name);
	else if (strcmp(name, "user.sprinklr.modified") == 0)
		snprintf(value, sizeof(value), "%lld",
			 (long long)c.item->modified_ms);
	else
		res = -ENODATA;
	node_close(&c);
	return res < 0 ? res : copy_value(value, buf, size);
}

static int get_xattr(struct fs *fs, const struct node *n, const char *name,
		     char *buf, size_t size)
{
	if (n->kind == NODE_ENV && strcmp(name, XATTR_SYNC) == 0)
		return sync_xattr(n->env, SYNC_NOW, buf, size);
	if (n->kind == NODE_ENV && strcmp(name, XATTR_SYNC_FULL) == 0)
		return sync_xattr(n->env, SYNC_FULL, buf, size);
	if (n->kind == NODE_ENV && strcmp(name, XATTR_WAIT) == 0)
		return sync_xattr(n->env, SYNC_COMPLETE, buf, size);
	if (n->kind == NODE_PROFILE)
		return profile_xattr(fs, n, name, buf, size);
	return -ENODATA;
}

static int list_xattr(const struct node *n, char *buf, size_t size)
{
	if (n->kind != NODE_PROFILE)
		return 0;
	if (size == 0)
		return sizeof(xattr_names);
	if (size < sizeof(xattr_names))
		return -ERANGE;
	memcpy(buf, xattr_names, sizeof(xattr_names));
	return sizeof(xattr_names);
}

/* A value's length (size 0) or the value. */
static void reply_xattr(fuse_req_t req, const char *buf, size_t size, int res)
{
	current = NULL;
	if (res < 0)
		fuse_reply_err(req, -res);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)res);
	else
		fuse_reply_buf(req, buf, (size_t)res);
}

static void fsop_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name,
			  size_t size)
{
	struct fs *fs = serve(req);
	char *buf = malloc(size ? size : 1);
	struct node n;
	int res = buf ? resolve(fs, nodeid, NULL, &n) : -ENOMEM;

	if (res == 0)
		res = get_xattr(fs, &n, name, buf, size);
	reply_xattr(req, buf, size, res);
	free(buf);
}

static void fsop_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size)
{
	struct fs *fs = serve(req);
	char *buf = malloc(size ? size : 1);
	struct node n;
	int res = buf ? resolve(fs, nodeid, NULL, &n) : -ENOMEM;

	if (res == 0)
		res = list_xattr(&n, buf, size);
	reply_xattr(req, buf, size, res);
	free(buf);
}

static const struct fuse_lowlevel_ops operations = {
	.init = fsop_init,
	.destroy = fsop_destroy,
	.lookup = fsop_lookup,
	.forget = fsop_forget,
	.forget_multi = fsop_forget_multi,
	.getattr = fsop_getattr,
	.open = fsop_open,
	.read = fsop_read,
	.readdir = fsop_readdir,
	.readdirplus = fsop_readdirplus,
	.readlink = fsop_readlink,
	.getxattr = fsop_getxattr,
	.listxattr = fsop_listxattr,
};

const struct fuse_lowlevel_ops *fsop_operations(void)
{
	return &operations;
}
