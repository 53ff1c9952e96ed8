/*
 * mount.c - command line to running filesystem.
 *
 * Order matters (libfuse doc/README.daemonize): parse, check that there is
 * something to serve (preflight.h), mount, daemonize, and only then start
 * anything that owns threads or sockets (in the init operation), since
 * threads made before the fork do not survive it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <fuse_lowlevel.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "auth/base/log.h"
#include "config.h"
#include "fs/fuse/mount.h"
#include "fs/fuse/ops.h"
#include "fs/fuse/options.h"
#include "fs/fuse/preflight.h"
#include "fs/fuse/upkeep.h"

void mount_usage(const char *progname)
{
	printf("usage: %s MOUNTPOINT [-f] [-o OPTIONS]\n"
	       "       %s auth login|import|list|status|refresh|logout ... "
	       "(see %s auth --help)\n"
	       "       %s sync MOUNTPOINT/ENV [--full | --wait] "
	       "(see %s sync --help)\n"
	       "       %s --version | --help\n"
	       "\n"
	       "Mounts Sprinklr as a read-only filesystem. See sprinklrfs(1).\n"
	       "\n",
	       progname, progname, progname, progname, progname, progname);
}

static void print_version(void)
{
	printf("sprinklrfs version %s\n", PACKAGE_VERSION);
	printf("FUSE library version %s\n", fuse_pkgversion());
	printf("libcurl version %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("cJSON version %s\n", cJSON_Version());
}

static int print_help(const char *progname)
{
	mount_usage(progname);
	opt_help();
	printf("FUSE options:\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
	printf("\n");
	return MOUNT_OK;
}

static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *opts)
{
	struct fuse_loop_config *loop_cfg;
	int res;

	if (opts->singlethread)
		return fuse_session_loop(se) < 0 ? MOUNT_LOOP : MOUNT_OK;
	loop_cfg = fuse_loop_cfg_create();
	if (!loop_cfg)
		return MOUNT_LOOP;
	fuse_loop_cfg_set_clone_fd(loop_cfg, opts->clone_fd);
	fuse_loop_cfg_set_max_threads(loop_cfg, opts->max_threads);
	/* -1 means "no limit"; fuse 3.14 logs an error when handed it */
	if (opts->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(loop_cfg, opts->max_idle_threads);
	res = fuse_session_loop_mt(se, loop_cfg);
	fuse_loop_cfg_destroy(loop_cfg);
	return res < 0 ? MOUNT_LOOP : MOUNT_OK;
}

static int run(struct fuse_args *args, const struct fuse_cmdline_opts *opts,
	       struct fs *fs)
{
	struct fuse_session *se;
	int res;

	se = fuse_session_new(args, ops_table(),
			      sizeof(struct fuse_lowlevel_ops), fs);
	if (!se)
		return MOUNT_SETUP;
	fs->se = se;
	fs->mountpoint = opts->mountpoint;	/* realpath'd by libfuse */
	res = MOUNT_MOUNT;
	if (fuse_session_mount(se, opts->mountpoint) != 0)
		goto out_destroy;
	res = MOUNT_DAEMON;
	if (fuse_daemonize(opts->foreground) != 0)
		goto out_unmount;
	if (!opts->foreground)
		log_to_syslog(true);
	if (fuse_set_signal_handlers(se) != 0)
		goto out_unmount;
	if (upkeep_install_sighup() < 0)
		goto out_unmount;
	res = serve(se, opts);
	fuse_remove_signal_handlers(se);
out_unmount:
	/* the loop has reset the session: marked exited again, a notification
	 * sent before the threads stop fails quietly, and none is written
	 * once the device is closed */
	fuse_session_exit(se);
	ops_quiesce();
	fuse_session_unmount(se);
out_destroy:
	fuse_session_destroy(se);
	return res;
}

int mount_main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts = { 0 };
	struct fs fs = { 0 };
	int res = MOUNT_USAGE;

	log_install_fuse();
	if (opt_parse(&args, &fs.opts) < 0)
		goto out_free;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto out_free;
	/* after parsing, args is ours to extend; later user options win */
	if (fuse_opt_insert_arg(&args, 1, "-ofsname=sprinklrfs,default_permissions") != 0)
		goto out_free;
	/* last, so that no "rw" (mount(8) always passes one) wins over it */
	if (fuse_opt_add_arg(&args, "-oro") != 0)
		goto out_free;
	if (opts.show_version) {
		print_version();
		res = MOUNT_OK;
	} else if (opts.show_help) {
		res = print_help(argv[0]);
	} else if (!opts.mountpoint) {
		log_error("no mount point given (see %s --help)", argv[0]);
	} else {
		/* libfuse's -d / -o debug also turns on our trace */
		log_set_level(opts.debug ? LOG_LEVEL_DEBUG : fs.opts.level);
		if (preflight_check(&fs.opts, opts.mountpoint) == 0)
			res = run(&args, &opts, &fs);
	}
out_free:
	opt_free(&fs.opts);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return res;
}
