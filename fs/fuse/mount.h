/*
 * mount.h - `sprinklrfs MOUNTPOINT [options]`: parse, mount, daemonize, serve.
 *
 * mount_main() returns the process exit status, one per start-up step, like
 * libfuse's fuse_main_real(); see enum mount_status.
 */
#ifndef SPRINKLRFS_FS_FUSE_MOUNT_H
#define SPRINKLRFS_FS_FUSE_MOUNT_H

enum mount_status {
	MOUNT_OK = 0,
	MOUNT_USAGE = 1,	/* bad command line, or nothing to serve */
	MOUNT_SETUP = 2,	/* the filesystem could not be set up */
	MOUNT_MOUNT = 3,	/* the kernel refused the mount */
	MOUNT_DAEMON = 4,	/* daemonizing or signal handlers failed */
	MOUNT_LOOP = 5,		/* the event loop failed */
};

int mount_main(int argc, char *argv[]);
void mount_usage(const char *progname);

#endif
