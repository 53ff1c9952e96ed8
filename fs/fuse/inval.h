/*
 * inval.h - telling the kernel that what it caches is out of date: the
 * sync layer's hooks (fs/sync/hooks.h) for profiles, .status.json and
 * the documents.
 *
 * Requests are queued and sent by a worker thread: a notification sent
 * from inside a filesystem operation can deadlock against the kernel.
 * Before inval_start() and after inval_stop() they are dropped.
 */
#ifndef SPRINKLRFS_FS_FUSE_INVAL_H
#define SPRINKLRFS_FS_FUSE_INVAL_H

#include <stdint.h>

#include <fuse_lowlevel.h>

#include "fs/sync/hooks.h"

int inval_start(struct fuse_session *se);
void inval_stop(void);
/* profile_changed, profiles_changed, status_changed and documents_changed;
 * arg unused */
void inval_hooks(struct sync_hooks *hooks);
/* How many times a listing changed so far (profile_changed and
 * profiles_changed of any environment), for the kernel's directory
 * caches (ops.c). */
uint64_t inval_changes(void);

#endif
