/*
 * fsops.h - the FUSE operations of sprinklrfs.
 *
 * mount.c parses the options into a struct fs and hands it to fuse_new(); the
 * init operation (after daemonizing) opens the credentials store, creates the
 * environments and starts the SIGHUP worker; destroy undoes that.
 */
#ifndef SPRINKLRFS_FSOPS_H
#define SPRINKLRFS_FSOPS_H

#include <fuse.h>

#include "env.h"

const struct fuse_operations *fsop_operations(void);
int fsop_install_sighup(void);
/* Stop the threads that call into libfuse; after unmounting, before
 * fuse_destroy(). */
void fsop_quiesce(void);

#endif
