/*
 * inval.h - tell the kernel that cached attributes and pages of a path are
 * out of date (a sync changed or removed a profile; .status.json moved on).
 *
 * Requests are queued and sent by a thread of their own: a notification sent
 * from inside a filesystem operation can deadlock against the kernel.
 */
#ifndef SPRINKLRFS_INVAL_H
#define SPRINKLRFS_INVAL_H

#include <fuse_lowlevel.h>

int inval_start(struct fuse_session *se);
void inval_stop(void);
void inval_post(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
