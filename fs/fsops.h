/*
 * fsops.h - the FUSE operations of sprinklrfs.
 *
 * mount.c parses the options into a struct fs and hands it to
 * fuse_session_new(); the init operation (after daemonizing) opens the
 * credentials store, creates the environments and starts the SIGHUP worker;
 * destroy undoes that.
 */
#ifndef SPRINKLRFS_FSOPS_H
#define SPRINKLRFS_FSOPS_H

#include <stdbool.h>

#include <fuse_lowlevel.h>

#include "env.h"

const struct fuse_lowlevel_ops *fsop_operations(void);
int fsop_install_sighup(void);
/* Stop the threads that call into libfuse; once the loop has ended, before
 * the device is closed. */
void fsop_quiesce(void);
/* Whether the request the calling thread serves was interrupted. */
bool fsop_interrupted(void);

#endif
