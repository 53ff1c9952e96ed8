/*
 * sync.c - the sync command. It talks to the daemon through the mount
 * itself: an ioctl on an environment's directory (fs/fuse/control.h) runs
 * the sync (or waits for the first full listing) and answers with the
 * number of profiles. A read-only mount allows this, and no socket is
 * needed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib.h>

#include "auth/base/log.h"
#include "fs/cli/sync.h"
#include "fs/fuse/control.h"

static void usage(void)
{
	printf("usage: sprinklrfs sync MOUNTPOINT/ENV [--full | --wait]\n"
	       "\n"
	       "Syncs one environment of a running mount now and waits until it\n"
	       "is done: an incremental sync (profiles changed since the last\n"
	       "one), or with --full a full listing, which also removes profiles\n"
	       "deleted at Sprinklr; then fetches again the documents (me.json,\n"
	       "workspaces.json, custom-fields.json, lists) read before. With\n"
	       "--wait, syncs nothing: waits until the environment's first full\n"
	       "listing is complete (at once if it is), for scripts that must\n"
	       "not read a partial tree. Exit 0 when the sync succeeded.\n");
}

static int explain(const char *path, int err)
{
	if (err == ENOTTY || err == ENOTDIR || err == ENOENT)
		log_error("%s is not an environment directory of a sprinklrfs "
			  "mount", path);
	else if (err == EACCES)
		log_error("%s: Sprinklr rejected the credentials; see the mount's "
			  "log (run: sprinklrfs auth login ENV)", path);
	else
		log_error("%s: sync failed: %s (see the mount's log)", path,
			  strerror(err));
	return 1;
}

/* The control request cmd on the directory path: 0 or an errno. */
static int control(const char *path, unsigned long cmd, uint64_t *profiles)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (ioctl(fd, cmd, profiles) < 0)
		err = errno;
	close(fd);
	return err;
}

int sync_main(int argc, char *argv[])
{
	unsigned long cmd = CONTROL_SYNC;
	const char *path = NULL, *done = "synced";
	uint64_t profiles = 0;
	char *name;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--full") == 0) {
			cmd = CONTROL_SYNC_FULL;
		} else if (strcmp(argv[i], "--wait") == 0) {
			cmd = CONTROL_WAIT;
			done = "complete";
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			usage();
			return 0;
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			log_error("unexpected argument '%s' (see sprinklrfs sync --help)",
				  argv[i]);
			return 2;
		}
	}
	if (!path) {
		usage();
		return 2;
	}
	err = control(path, cmd, &profiles);
	if (err)
		return explain(path, err);
	name = g_path_get_basename(path);
	printf("%s: %s, %llu profiles\n", name, done,
	       (unsigned long long)profiles);
	g_free(name);
	return 0;
}
