/*
 * cli.h - what the `sprinklrfs auth` commands share: their parsed command
 * line, their exit statuses and how they show a time.
 */
#ifndef SPRINKLRFS_CLI_CLI_H
#define SPRINKLRFS_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/creds/backend.h"

enum cli_status {
	CLI_OK = 0,
	CLI_FAILED = 1,		/* the command failed; status: a login is needed */
	CLI_USAGE = 2,		/* bad command line */
	CLI_OFFLINE = 3,	/* status: an environment could not be checked */
};

struct cli_opts {
	const char *command;
	const char *env;
	char **envs;		/* status: the environments named */
	int n_envs;
	const char *key;
	const char *redirect_uri;
	const char *api_url;
	const char *ca_file;
	enum creds_backend creds;	/* --store */
	bool no_browser;
	bool json;
	int timeout_s;
};

void cli_format_time(int64_t t, char *buf, size_t size);

#endif
