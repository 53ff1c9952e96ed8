/*
 * auth.h - `sprinklrfs auth COMMAND`: login, import, list, status, refresh,
 * logout. auth_main() takes argv from "auth" on and returns the exit status.
 */
#ifndef SPRINKLRFS_CLI_AUTH_H
#define SPRINKLRFS_CLI_AUTH_H

int auth_main(int argc, char *argv[]);
void auth_usage(void);

#endif
