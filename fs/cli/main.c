/*
 * main.c - the sprinklrfs binary: everything else lives in the core library.
 *
 * libcurl is initialised here, before anything can start a thread.
 */
#include <string.h>

#include "auth/base/log.h"
#include "auth/cli/auth.h"
#include "auth/net/http.h"
#include "auth/net/pacer.h"
#include "fs/cli/sync.h"
#include "fs/fuse/mount.h"

int main(int argc, char *argv[])
{
	int res;

	if (http_global_init() < 0) {
		log_error("cannot initialise libcurl");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "auth") == 0)
		res = auth_main(argc - 1, argv + 1);
	else if (argc > 1 && strcmp(argv[1], "sync") == 0)
		res = sync_main(argc - 1, argv + 1);
	else
		res = mount_main(argc, argv);
	http_global_cleanup();
	pacer_cleanup();
	return res;
}
