/*
 * login.h - `auth login` (the browser flow) and `auth import` (tokens
 * obtained by hand).
 */
#ifndef SPRINKLRFS_CLI_LOGIN_H
#define SPRINKLRFS_CLI_LOGIN_H

#include "auth/cli/cli.h"

int cli_login(const struct cli_opts *o);
int cli_import(const struct cli_opts *o);

#endif
