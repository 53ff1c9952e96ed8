/*
 * status.h - `auth list`, `auth status`, `auth refresh` and `auth logout`.
 */
#ifndef SPRINKLRFS_CLI_STATUS_H
#define SPRINKLRFS_CLI_STATUS_H

#include "auth/cli/cli.h"

int cli_list(const struct cli_opts *o);
int cli_status(const struct cli_opts *o);
int cli_refresh(const struct cli_opts *o);
int cli_logout(const struct cli_opts *o);

#endif
