/*
 * cli_sync.h - `sprinklrfs sync MOUNTPOINT/ENV [--full]`: ask a running mount
 * to sync an environment now, and wait for it (for cron and rsync scripts).
 */
#ifndef SPRINKLRFS_FS_CLI_SYNC_H
#define SPRINKLRFS_FS_CLI_SYNC_H

int sync_main(int argc, char *argv[]);

#endif
