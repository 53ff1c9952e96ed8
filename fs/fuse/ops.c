/*
 * ops.c - FUSE operations (libfuse's low-level API): find the inode's
 * node, ask the view, adapt the answer.
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
 * only struct fs, whose api and view are made in ops_init() before the
 * first request and freed in ops_destroy() after the last; everything
 * mutable below them has its own lock. Each thread knows the request it
 * serves (current), for the sync layer's waits to see an interrupt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/base/log.h"
#include "fs/fuse/control.h"
#include "fs/fuse/inodes.h"
#include "fs/fuse/inval.h"
#include "fs/fuse/ops.h"
#include "fs/fuse/upkeep.h"
#include "fs/view/attr.h"
#include "fs/view/entries.h"
#include "fs/view/find.h"
#include "fs/view/xattr.h"

#define UNKNOWN_INO 0xffffffff

static __thread fuse_req_t current;

/* The sync layer's hook: whether the request this thread serves was
 * interrupted. */
static bool interrupted(void *arg)
{
	(void)arg;
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

/* --- start and end ---------------------------------------------------------- */

static void add_named_envs(struct fs *fs)
{
	GStrv names = opt_env_names(&fs->opts);
	size_t i;

	for (i = 0; names[i]; i++)
		view_add_env(fs->view, names[i]);
	g_strfreev(names);
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
		view_add_env(fs->view, names[i]);
	g_strfreev(names);
}

static struct view *make_view(struct fs *fs)
{
	const struct fs_options *o = &fs->opts;
	struct view_config cfg = {
		.cache_dir = o->cache_dir, .memory_limit = o->memory_limit,
		.uid = o->uid, .gid = o->gid, .umask = o->umask,
		.sync = {
			.ttl = o->ttl, .doc_ttl = o->doc_ttl,
			.full_sync = o->full_sync,
			.read_timeout = o->read_timeout,
			.page_size = o->page_size, .partitions = o->partitions,
			.rate_per_second = o->rate_per_second,
			.rate_per_hour = o->rate_per_hour,
			.rate_window = o->rate_window,
			.background_share = o->background_share,
		},
	};
	struct sync_hooks hooks = { .interrupted = interrupted };

	inval_hooks(&hooks);
	return view_new(&cfg, fs->api, &hooks);
}

static void ops_init(void *data, struct fuse_conn_info *conn)
{
	struct fs *fs = data;
	struct api_options api_opts = {
		.creds = fs->opts.creds_backend,
		.refresh_margin_s = API_REFRESH_MARGIN_DEFAULT,
		.rate_per_second = fs->opts.rate_per_second,
		.rate_per_hour = fs->opts.rate_per_hour,
		.rate_window_s = fs->opts.rate_window,
		.background_share = fs->opts.background_share,
		.read_timeout_s = fs->opts.read_timeout,
		.retries = fs->opts.retries,
		.connect_timeout_s = fs->opts.connect_timeout,
		.stall_timeout_s = fs->opts.stall_timeout,
		.max_body = fs->opts.max_body,
	};

	/* a link's target changes only with its profile's time, so the
	 * kernel may keep it with its attributes (ls -l reads every one) */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (inval_start(fs->se) < 0)
		log_warn("cannot start the cache invalidation thread; changes "
			 "show after ttl");
	fs->api = api_new(&api_opts);
	if (!fs->api)
		log_error("out of memory");
	fs->view = make_view(fs);
	if (fs->opts.envs)
		add_named_envs(fs);
	else
		add_stored_envs(fs);
	if (upkeep_start(fs->se, fs->view, fs->mountpoint,
			 fs->opts.memory_limit) < 0)
		log_warn("cannot start the upkeep thread");
}

/*
 * Ends the threads that call into libfuse on their own (invalidations, the
 * upkeep): the mount calls this once the loop has ended, before it closes
 * the device and before destroy.
 */
void ops_quiesce(void)
{
	upkeep_stop();
	inval_stop();
}

static void ops_destroy(void *data)
{
	struct fs *fs = data;

	ino_clear();		/* snapshots first: they read the stores */
	view_free(fs->view);
	fs->view = NULL;
	api_free(fs->api);
	fs->api = NULL;
}

/* --- nodes ---------------------------------------------------------------- */

/* What the kernel may cache, and for how long. */
static double entry_timeout(const struct fs *fs, enum node_kind kind)
{
	return tree_is_export(kind) || kind == NODE_STATUS ? 0 : fs->opts.ttl;
}

static double attr_timeout(const struct fs *fs, enum node_kind kind)
{
	return kind == NODE_STATUS ? 0 : fs->opts.ttl;
}

/* The node of a node id; a profile's or a link's id goes in id. */
static int resolve(struct fs *fs, fuse_ino_t nodeid, struct node *n,
		   char id[TREE_NAME_MAX + 1])
{
	struct ino *dir;
	uint64_t pos;
	size_t env;

	if (ino_is_link(nodeid, &dir, &pos))
		return dir ? find_link_at(ino_node(dir), pos, n, id) : -ENOENT;
	if (!ino_is_profile(nodeid, &env, &pos)) {
		*n = *ino_node(ino_of(nodeid));
		return 0;
	}
	if (env >= view_env_count(fs->view))
		return -ENOENT;
	return find_profile_at(view_env_at(fs->view, env), pos, n, id);
}

/* The snapshot a node id's inode owns, or NULL. */
static const struct content *snapshot_of(fuse_ino_t nodeid)
{
	return ino_is_own(nodeid) ? ino_snapshot(ino_of(nodeid)) : NULL;
}

/* A file's snapshot (*snap) or any node's attributes (st). */
static int look(struct fs *fs, const struct node *n, struct content **snap,
		struct stat *st)
{
	int res;

	*snap = NULL;
	if (!tree_is_snapshot(n->kind))
		return attr_get(fs->view, n, st);
	*snap = malloc(sizeof(**snap));
	if (!*snap)
		return -ENOMEM;
	res = content_open(fs->view, n, *snap);
	if (res < 0) {
		free(*snap);
		*snap = NULL;
		return res;
	}
	*st = (*snap)->st;
	return 0;
}

/* --- operations ----------------------------------------------------------- */

/* A profile: no inode is kept; its node id says where it is in the store. */
static int lookup_profile(struct fs *fs, const struct node *n,
			  struct fuse_entry_param *e)
{
	uint64_t pos;
	int res = attr_profile(fs->view, n, &e->attr, &pos);

	if (res == 0)
		e->ino = ino_profile(n->env->index, pos);
	return res;
}

/* A link: no inode either, unless it can have no node id of its own
 * (inodes.h). */
static int lookup_link(struct fs *fs, fuse_ino_t parent, const char *name,
		       const struct node *n, const char *own,
		       struct fuse_entry_param *e, struct ino **ino)
{
	uint64_t row;
	int res = attr_link_row(fs->view, n, &e->attr, &row);

	if (res < 0)
		return res;
	e->ino = ino_link(ino_of(parent), row);
	if (e->ino)
		return 0;
	*ino = ino_enter(ino_of(parent), name, n, own, NULL);
	if (!*ino)
		return -ENOMEM;
	e->ino = ino_nodeid(*ino);
	return 0;
}

static int lookup_other(struct fs *fs, fuse_ino_t parent, const char *name,
			const struct node *n, const char *own,
			struct fuse_entry_param *e, struct ino **ino)
{
	struct content *snap = NULL;
	int res = look(fs, n, &snap, &e->attr);

	if (res < 0)
		return res;
	*ino = ino_enter(ino_of(parent), name, n, own, snap);
	if (!*ino)
		return -ENOMEM;
	e->ino = ino_nodeid(*ino);
	if (ino_snapshot(*ino))	/* the one kept, when the same */
		e->attr = ino_snapshot(*ino)->st;
	return 0;
}

static void ops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = serve(req);
	struct fuse_entry_param e = { 0 };
	char id[TREE_NAME_MAX + 1], own[TREE_NAME_MAX + 1];
	struct node dir, n;
	struct ino *ino = NULL;
	int res;

	res = resolve(fs, parent, &dir, id);
	if (res == 0)
		res = tree_child(fs->view, &dir, name, &n, own);
	if (res == 0 && n.kind == NODE_PROFILE)
		res = lookup_profile(fs, &n, &e);
	else if (res == 0 && (n.kind == NODE_LIST_LINK ||
			      n.kind == NODE_CHANNEL_LINK))
		res = lookup_link(fs, parent, name, &n, own, &e, &ino);
	else if (res == 0)
		res = lookup_other(fs, parent, name, &n, own, &e, &ino);
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	e.entry_timeout = entry_timeout(fs, n.kind);
	e.attr_timeout = attr_timeout(fs, n.kind);
	current = NULL;
	if (fuse_reply_entry(req, &e) != 0 && ino)
		ino_forget(ino, 1);	/* the kernel did not take it */
}

static void forget(fuse_ino_t nodeid, uint64_t nlookup)
{
	log_debug("FORGET %llu/%llu", (unsigned long long)nodeid,
		  (unsigned long long)nlookup);
	if (ino_is_own(nodeid))
		ino_forget(ino_of(nodeid), nlookup);
}

static void ops_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup)
{
	forget(nodeid, nlookup);
	fuse_reply_none(req);
}

static void ops_forget_multi(fuse_req_t req, size_t count,
			     struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void ops_getattr(fuse_req_t req, fuse_ino_t nodeid,
			struct fuse_file_info *fi)
{
	struct fs *fs = serve(req);
	const struct content *snap = snapshot_of(nodeid);
	char id[TREE_NAME_MAX + 1];
	struct stat st;
	struct node n;
	int res;

	(void)fi;
	res = resolve(fs, nodeid, &n, id);
	if (res == 0 && snap)
		st = snap->st;
	else if (res == 0)
		res = attr_get(fs->view, &n, &st);
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	current = NULL;
	fuse_reply_attr(req, &st, attr_timeout(fs, n.kind));
}

/* The kernel opens files by itself from now on (see the top). */
static void ops_open(fuse_req_t req, fuse_ino_t nodeid,
		     struct fuse_file_info *fi)
{
	(void)nodeid;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

/*
 * The version of a directory's entries: any listing's change, and the
 * store's count (a profile fetched by name adds one without a change).
 */
static uint64_t dir_version(const struct node *n)
{
	return inval_changes() << 40 | (uint64_t)store_count(n->env->store);
}

/*
 * profiles/ and channels/TYPE/ are the large directories: the kernel keeps
 * their entries (FOPEN_CACHE_DIR) from one open to the next while their
 * version stays, so that a warm ls -l is the kernel's alone. The sync that
 * a readdir would run if due runs first, here. Not before the first full
 * listing's end: it adds profiles without a change.
 */
static void ops_opendir(fuse_req_t req, fuse_ino_t nodeid,
			struct fuse_file_info *fi)
{
	struct fs *fs = serve(req);
	char id[TREE_NAME_MAX + 1];
	struct stat st;
	struct node n;
	int res = resolve(fs, nodeid, &n, id);
	bool large = res == 0 && (n.kind == NODE_PROFILES ||
				  n.kind == NODE_CHANNEL_TYPE);

	if (large)
		res = attr_get(fs->view, &n, &st);
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	if (large && sync_complete(n.env->sync)) {
		fi->cache_readdir = 1;
		fi->keep_cache = ino_dir_unchanged(ino_of(nodeid),
						   dir_version(&n));
	}
	current = NULL;
	fuse_reply_open(req, fi);
}

/* A profile's bytes, from the store. */
static ssize_t read_node(struct fs *fs, fuse_ino_t nodeid, char *buf,
			 size_t size, off_t off)
{
	char id[TREE_NAME_MAX + 1];
	struct content c;
	struct node n;
	ssize_t res = resolve(fs, nodeid, &n, id);

	if (res == 0)
		res = content_open(fs->view, &n, &c);
	if (res < 0)
		return res;
	res = content_read(&c, buf, size, off);
	content_close(&c);
	return res;
}

static void ops_read(fuse_req_t req, fuse_ino_t nodeid, size_t size,
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
		res = content_read(snap, buf, size, off);
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
 * The view's entries into a reply. Entries of small directories come
 * without offsets and are numbered here; those of profile directories carry
 * their own. With `plus`, an entry that has attributes is looked up too.
 */
struct dir_fill {
	fuse_req_t req;
	struct fs *fs;
	struct ino *dir;
	struct node node;	/* the directory's */
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

/* The entry's node id and inode (none for a profile nor a link); 0 when
 * none. */
static fuse_ino_t enter_entry(struct dir_fill *d, const char *name, off_t off,
			      struct ino **ino)
{
	char own[TREE_NAME_MAX + 1];
	struct node n;
	fuse_ino_t link;

	if (d->node.kind == NODE_PROFILES)
		return ino_profile(d->node.env->index,
				   (uint64_t)(off - ENTRIES_POS_OFF));
	if (d->node.kind == NODE_LIST_PROFILES ||
	    d->node.kind == NODE_CHANNEL_TYPE) {
		link = ino_link(d->dir, (uint64_t)(off - ENTRIES_POS_OFF));
		if (link)
			return link;
	}
	if (tree_child(d->fs->view, &d->node, name, &n, own) < 0)
		return 0;
	*ino = ino_enter(d->dir, name, &n, own, NULL);
	return *ino ? ino_nodeid(*ino) : 0;
}

static size_t add_plus(struct dir_fill *d, const char *name,
		       const struct stat *st, off_t off, struct ino **ino)
{
	struct fuse_entry_param e = { 0 };

	e.attr.st_ino = st ? st->st_ino : UNKNOWN_INO;
	e.attr.st_mode = st ? st->st_mode : 0;
	if (st && !dot_or_dotdot(name)) {
		e.ino = enter_entry(d, name, off, ino);
		if (e.ino) {
			e.attr = *st;
			e.entry_timeout = entry_timeout(d->fs, NODE_PROFILE);
			e.attr_timeout = attr_timeout(d->fs, NODE_PROFILE);
		}
	}
	return fuse_add_direntry_plus(d->req, d->buf + d->used,
				      d->size - d->used, name, &e, off);
}

static int add_entry(void *arg, const char *name, const struct stat *st,
		     off_t off)
{
	struct dir_fill *d = arg;
	struct ino *ino = NULL;
	struct stat plain = { 0 };
	size_t left = d->size - d->used, len;

	if (off == 0) {
		off = ++d->count;
		if (off <= d->start)
			return 0;
	}
	if (d->plus) {
		len = add_plus(d, name, st, off, &ino);
	} else {
		/* readdir(3) skips entries with inode number 0 */
		plain.st_ino = st ? st->st_ino : UNKNOWN_INO;
		plain.st_mode = st ? st->st_mode : 0;
		len = fuse_add_direntry(d->req, d->buf + d->used, left, name,
					&plain, off);
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
	char id[TREE_NAME_MAX + 1];
	int res;

	d.buf = malloc(size ? size : 1);
	res = d.buf ? resolve(fs, nodeid, &d.node, id) : -ENOMEM;
	if (res == 0 && !tree_is_dir(d.node.kind))
		res = -ENOTDIR;
	if (res == 0) {
		d.dir = ino_of(nodeid);
		res = entries_list(fs->view, &d.node, off, add_entry, &d);
	}
	if (res < 0 && d.used == 0) {
		reply_err(req, res);
	} else {
		current = NULL;
		fuse_reply_buf(req, d.buf, d.used);
	}
	free(d.buf);
}

static void ops_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_any(req, nodeid, size, off, false);
}

static void ops_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size,
			    off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_any(req, nodeid, size, off, true);
}

static void ops_readlink(fuse_req_t req, fuse_ino_t nodeid)
{
	struct fs *fs = serve(req);
	char id[TREE_NAME_MAX + 1];
	char *target = NULL;
	struct node n;
	int res = resolve(fs, nodeid, &n, id);

	if (res == 0)
		res = entries_readlink(fs->view, &n, &target);
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	current = NULL;
	fuse_reply_readlink(req, target);
	g_free(target);
}

/* A value's length (size 0), the value, or -ERANGE when it does not fit. */
static void reply_xattr(fuse_req_t req, const char *value, size_t len,
			size_t size)
{
	current = NULL;
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
}

/*
 * Without -o xattr the first getxattr and listxattr answer ENOSYS, and the
 * kernel answers every later one by itself (EOPNOTSUPP): ls -l asks two per
 * file, each a round trip to the daemon otherwise.
 */
static bool xattr_off(fuse_req_t req, const struct fs *fs)
{
	if (fs->opts.xattr)
		return false;
	fuse_reply_err(req, ENOSYS);
	return true;
}

static void ops_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name,
			 size_t size)
{
	struct fs *fs = fuse_req_userdata(req);
	char id[TREE_NAME_MAX + 1];
	char *value = NULL;
	struct node n;
	int res;

	if (xattr_off(req, fs))
		return;
	serve(req);
	res = resolve(fs, nodeid, &n, id);
	if (res == 0 && size == 0 && xattr_bound(&n, name)) {
		current = NULL;
		fuse_reply_xattr(req, xattr_bound(&n, name));
		return;
	}
	if (res == 0)
		res = xattr_get(fs->view, &n, name, &value);
	if (res < 0)
		reply_err(req, res);
	else
		reply_xattr(req, value, strlen(value), size);
	g_free(value);
}

static void ops_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size)
{
	struct fs *fs = fuse_req_userdata(req);
	char id[TREE_NAME_MAX + 1];
	char *names;
	size_t len;
	struct node n;
	int res;

	if (xattr_off(req, fs))
		return;
	serve(req);
	res = resolve(fs, nodeid, &n, id);
	if (res == 0)
		res = xattr_list(&n, &names, &len);
	if (res < 0)
		reply_err(req, res);
	else
		reply_xattr(req, names, len, size);
}

/* The sync a control request asks for (control.h), or -ENOTTY. */
static int control_mode(unsigned int cmd, enum sync_mode *mode)
{
	if (cmd == CONTROL_SYNC)
		*mode = SYNC_NOW;
	else if (cmd == CONTROL_SYNC_FULL)
		*mode = SYNC_FULL;
	else if (cmd == CONTROL_WAIT)
		*mode = SYNC_COMPLETE;
	else
		return -ENOTTY;
	return 0;
}

static void ops_ioctl(fuse_req_t req, fuse_ino_t nodeid, unsigned int cmd,
		      void *arg, struct fuse_file_info *fi, unsigned flags,
		      const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct fs *fs = serve(req);
	char id[TREE_NAME_MAX + 1];
	enum sync_mode mode;
	struct node n;
	size_t profiles = 0;
	uint64_t answer;
	int res = control_mode(cmd, &mode);

	(void)arg, (void)fi, (void)flags, (void)in_buf, (void)in_bufsz;
	if (res == 0 && out_bufsz < sizeof(answer))
		res = -EINVAL;
	if (res == 0)
		res = resolve(fs, nodeid, &n, id);
	if (res == 0 && n.kind != NODE_ENV)
		res = -ENOTTY;
	if (res == 0)
		res = view_sync_env(n.env, mode, &profiles);
	if (res < 0) {
		reply_err(req, res);
		return;
	}
	answer = profiles;
	current = NULL;
	fuse_reply_ioctl(req, 0, &answer, sizeof(answer));
}

static const struct fuse_lowlevel_ops operations = {
	.init = ops_init,
	.destroy = ops_destroy,
	.lookup = ops_lookup,
	.forget = ops_forget,
	.forget_multi = ops_forget_multi,
	.getattr = ops_getattr,
	.open = ops_open,
	.read = ops_read,
	.opendir = ops_opendir,
	.readdir = ops_readdir,
	.readdirplus = ops_readdirplus,
	.readlink = ops_readlink,
	.getxattr = ops_getxattr,
	.listxattr = ops_listxattr,
	.ioctl = ops_ioctl,
};

const struct fuse_lowlevel_ops *ops_table(void)
{
	return &operations;
}
