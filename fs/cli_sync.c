/*
 * cli_sync.c - the sync command. It talks to the daemon through the mount
 * itself: reading the extended attribute user.sprinklr.sync (.sync.full,
 * .wait) of an environment's directory runs the sync (or waits for the first
 * full listing) and answers with the number of profiles. A read-only mount
 * allows this, and no socket is needed.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

#include "auth/base/log.h"
#include "cli_sync.h"

static void usage(void)
{
	printf("usage: sprinklrfs sync MOUNTPOINT/ENV [--full | --wait]\n"
	       "\n"
	       "Syncs one environment of a running mount now and waits until it\n"
	       "is done: an incremental sync (profiles changed since the last\n"
	       "one), or with --full a full listing, which also removes profiles\n"
	       "deleted at Sprinklr. With --wait, syncs nothing: waits until the\n"
	       "environment's first full listing is complete (at once if it is),\n"
	       "for scripts that must not read a partial tree. Exit 0 when the\n"
	       "sync succeeded.\n");
}

static int explain(const char *path, int err)
{
	if (err == ENODATA || err == ENOTSUP || err == ENOENT)
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

int sync_main(int argc, char *argv[])
{
	const char *attr = "user.sprinklr.sync";
	const char *path = NULL, *done = "synced";
	char value[64], copy[4096];
	ssize_t len;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--full") == 0) {
			attr = "user.sprinklr.sync.full";
		} else if (strcmp(argv[i], "--wait") == 0) {
			attr = "user.sprinklr.wait";
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
	len = getxattr(path, attr, value, sizeof(value) - 1);
	if (len < 0)
		return explain(path, errno);
	value[len] = '\0';
	snprintf(copy, sizeof(copy), "%s", path);
	printf("%s: %s, %s profiles\n", basename(copy), done, value);
	return 0;
}
