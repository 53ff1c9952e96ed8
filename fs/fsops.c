/*
 * fsops.c - FUSE operations: resolve the path, ask node.c, adapt the answer.
 *
 * Concurrency: libfuse calls these from several threads at once. They share
 * only struct fs, whose environments and api are created in fsop_init()
 * before the first request and destroyed in fsop_destroy() after the last;
 * everything mutable below them has its own lock (env.h). An open file owns a
 * struct content whose references keep its bytes alive and unchanged (a
 * profile's from its first read).
 *
 * Open files are also kept on a list (open_lock): at unmount the kernel may
 * drop RELEASE requests still queued, and destroy closes what is left.
 *
 * SIGHUP asks for a full sync of every environment. libfuse's own handler
 * treats SIGHUP as "unmount", so ours is installed after libfuse's; it only
 * posts a semaphore, and a worker thread runs the listings.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsops.h"
#include "inval.h"
#include "log.h"
#include "node.h"
#include "sync.h"
#include "upkeep.h"

#define XATTR_SYNC "user.sprinklr.sync"
#define XATTR_SYNC_FULL "user.sprinklr.sync.full"
#define XATTR_WAIT "user.sprinklr.wait"

static const char xattr_names[] =
	"user.sprinklr.id\0user.sprinklr.env\0user.sprinklr.modified";

/*
 * A profile's bytes are read on the first read of its open file, not at the
 * open: a warm cat reads the kernel's pages and never needs them.
 */
struct open_file {
	pthread_mutex_t lock;
	struct node n;
	bool pending;			/* protected by lock: c not read yet */
	struct content c;		/* protected by lock while pending */
	struct open_file *prev, *next;	/* protected by open_lock */
};

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_file *open_files;	/* protected by open_lock */
static sem_t hup_sem;
static pthread_t hup_thread;
static volatile sig_atomic_t hup_quit;

static struct fs *fs_of_context(void)
{
	return fuse_get_context()->private_data;
}

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
	char **names = NULL;
	size_t n = 0, i;
	int res = store_list(fs->opts.store_kind, &names, &n);

	if (res < 0) {
		log_error("cannot list the stored environments: %s",
			  store_strerror(fs->opts.store_kind, res));
		return;
	}
	if (n == 0)
		log_warn("no environments are logged in; run: sprinklrfs auth "
			 "login ENV --key KEY");
	for (i = 0; i < n; i++)
		add_env(fs, names[i]);
	store_list_free(names, n);
}

static void *fsop_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fs *fs = fs_of_context();
	struct api_options api_opts = {
		.store = fs->opts.store_kind,
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
	cfg->use_ino = 1;
	cfg->entry_timeout = fs->opts.ttl;
	cfg->attr_timeout = fs->opts.ttl;
	cfg->negative_timeout = 0;
	if (inval_start(fuse_get_context()->fuse) < 0)
		log_warn("cannot start the cache invalidation thread; changes "
			 "show after ttl");
	fs->api = api_new(&api_opts);
	if (!fs->api)
		log_error("out of memory");
	if (fs->opts.envs)
		add_named_envs(fs);
	else
		add_stored_envs(fs);
	if (upkeep_start(fuse_get_context()->fuse, fs) < 0)
		log_warn("cannot start the memory upkeep thread");
	sem_init(&hup_sem, 0, 0);
	if (pthread_create(&hup_thread, NULL, hup_worker, fs) != 0)
		log_error("cannot start the SIGHUP worker");
	return fs;
}

static void free_open(struct open_file *f)
{
	node_close(&f->c);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static void close_all(void)
{
	struct open_file *f, *next;

	pthread_mutex_lock(&open_lock);
	for (f = open_files; f; f = next) {
		next = f->next;
		free_open(f);
	}
	open_files = NULL;
	pthread_mutex_unlock(&open_lock);
}

/*
 * Ends the threads that call into libfuse on their own (invalidations, the
 * memory upkeep). libfuse calls our destroy from fuse_destroy() only after it
 * has freed its nodes, which fuse_invalidate_path() walks: so the mount
 * calls this first, once unmounted (a notification then finds no device and
 * fails harmlessly). Stopping twice is a no-op.
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

	fsop_quiesce();
	close_all();
	hup_quit = 1;
	sem_post(&hup_sem);
	pthread_join(hup_thread, NULL);
	sem_destroy(&hup_sem);
	for (i = 0; i < fs->n_envs; i++)
		env_free(fs->envs[i]);
	free(fs->envs);
	fs->envs = NULL;
	fs->n_envs = 0;
	api_free(fs->api);
	fs->api = NULL;
}

static int fsop_getattr(const char *path, struct stat *st,
			struct fuse_file_info *fi)
{
	struct fs *fs = fs_of_context();
	struct node n;
	int res;

	if (fi && fi->fh) {
		struct open_file *f = (struct open_file *)(uintptr_t)fi->fh;
		bool known;

		pthread_mutex_lock(&f->lock);
		known = !f->pending;
		if (known)
			*st = f->c.st;
		pthread_mutex_unlock(&f->lock);
		if (known)
			return 0;
	}
	res = tree_resolve(fs, path, &n);
	return res < 0 ? res : node_stat(fs, &n, st);
}

static int fsop_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
			off_t offset, struct fuse_file_info *fi,
			enum fuse_readdir_flags flags)
{
	struct fs *fs = fs_of_context();
	struct node n;
	int res;

	(void)fi;
	(void)flags;
	res = tree_resolve(fs, path, &n);
	return res < 0 ? res : node_readdir(fs, &n, offset, buf, filler);
}

/*
 * Whether profiles.ndjson's cached pages are still this open's snapshot: its
 * size and mtime (the newest profile's) are the last open's.
 */
static bool same_ndjson(struct fs_env *e, const struct stat *st)
{
	bool same;

	pthread_mutex_lock(&e->lock);
	same = e->ndjson_opened.st_size == st->st_size &&
	       e->ndjson_opened.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	       e->ndjson_opened.st_mtim.tv_nsec == st->st_mtim.tv_nsec;
	e->ndjson_opened = *st;
	pthread_mutex_unlock(&e->lock);
	return same;
}

/*
 * Pages: a profile's stay cached across opens (a sync that changes it tells
 * the kernel, inval.c); profiles.ndjson's as long as each open's snapshot is
 * the same; .status.json is never cached; documents are small and read anew.
 */
static int fsop_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of_context();
	struct open_file *f;
	struct node n;
	int res;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	res = tree_resolve(fs, path, &n);
	if (res < 0)
		return res;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->n = n;
	if (n.kind == NODE_PROFILE) {
		res = sync_profiles(n.env, SYNC_IF_DUE);
		f->pending = true;
	} else {
		res = node_open(fs, &n, &f->c);
	}
	if (res < 0) {
		free(f);
		return res;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_lock(&open_lock);
	f->next = open_files;
	if (open_files)
		open_files->prev = f;
	open_files = f;
	pthread_mutex_unlock(&open_lock);
	fi->direct_io = n.kind == NODE_STATUS;
	fi->keep_cache = n.kind == NODE_PROFILE ||
			 (n.kind == NODE_NDJSON && same_ndjson(n.env, &f->c.st));
	fi->fh = (uintptr_t)f;
	return 0;
}

static int fsop_read(const char *path, char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct open_file *f = (struct open_file *)(uintptr_t)fi->fh;
	int res = 0;

	(void)path;
	pthread_mutex_lock(&f->lock);
	if (f->pending) {
		res = node_open(fs_of_context(), &f->n, &f->c);
		f->pending = res < 0;
	}
	pthread_mutex_unlock(&f->lock);
	return res < 0 ? res : (int)node_read(&f->c, buf, size, off);
}

static int fsop_release(const char *path, struct fuse_file_info *fi)
{
	struct open_file *f = (struct open_file *)(uintptr_t)fi->fh;

	(void)path;
	pthread_mutex_lock(&open_lock);
	if (f->prev)
		f->prev->next = f->next;
	else
		open_files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&open_lock);
	free_open(f);
	return 0;
}

static int fsop_readlink(const char *path, char *buf, size_t size)
{
	struct fs *fs = fs_of_context();
	struct node n;
	int res;

	res = tree_resolve(fs, path, &n);
	return res < 0 ? res : node_readlink(fs, &n, buf, size);
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

static int fsop_getxattr(const char *path, const char *name, char *buf,
			 size_t size)
{
	struct fs *fs = fs_of_context();
	struct node n;
	int res;

	res = tree_resolve(fs, path, &n);
	if (res < 0)
		return res;
	if (n.kind == NODE_ENV && strcmp(name, XATTR_SYNC) == 0)
		return sync_xattr(n.env, SYNC_NOW, buf, size);
	if (n.kind == NODE_ENV && strcmp(name, XATTR_SYNC_FULL) == 0)
		return sync_xattr(n.env, SYNC_FULL, buf, size);
	if (n.kind == NODE_ENV && strcmp(name, XATTR_WAIT) == 0)
		return sync_xattr(n.env, SYNC_COMPLETE, buf, size);
	if (n.kind == NODE_PROFILE)
		return profile_xattr(fs, &n, name, buf, size);
	return -ENODATA;
}

static int fsop_listxattr(const char *path, char *buf, size_t size)
{
	struct fs *fs = fs_of_context();
	struct node n;
	int res;

	res = tree_resolve(fs, path, &n);
	if (res < 0 || n.kind != NODE_PROFILE)
		return res < 0 ? res : 0;
	if (size == 0)
		return sizeof(xattr_names);
	if (size < sizeof(xattr_names))
		return -ERANGE;
	memcpy(buf, xattr_names, sizeof(xattr_names));
	return sizeof(xattr_names);
}

static const struct fuse_operations operations = {
	.init = fsop_init,
	.destroy = fsop_destroy,
	.getattr = fsop_getattr,
	.readdir = fsop_readdir,
	.open = fsop_open,
	.read = fsop_read,
	.release = fsop_release,
	.readlink = fsop_readlink,
	.getxattr = fsop_getxattr,
	.listxattr = fsop_listxattr,
};

const struct fuse_operations *fsop_operations(void)
{
	return &operations;
}
