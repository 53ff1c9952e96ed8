/*
 * cli.h - the `sprinklrfs auth` commands: login, import, status, refresh,
 * logout. auth_main() returns the exit status (enum cli_status).
 */
#ifndef SPRINKLRFS_CLI_H
#define SPRINKLRFS_CLI_H

#include <stdbool.h>

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

int auth_main(int argc, char *argv[]);
void auth_usage(void);

/* cli_login.c */
int cli_login(const struct cli_opts *o);
int cli_import(const struct cli_opts *o);

/* cli_status.c */
int cli_status(const struct cli_opts *o);
int cli_refresh(const struct cli_opts *o);
int cli_logout(const struct cli_opts *o);
void cli_format_time(int64_t t, char *buf, size_t size);

#endif
