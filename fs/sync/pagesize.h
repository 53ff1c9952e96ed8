/*
 * pagesize.h - how many profiles a search asks for per page.
 *
 * An explicit page_size=N is asked as it is. With page_size=auto (0) the
 * first page of a search asks for PAGESIZE_MAX, the most Sprinklr documents
 * for its reporting API; a 400 to it halves the size, down to
 * PAGESIZE_FLOOR, and the size the server accepts is kept in the store
 * (STATE_PAGE_SIZE), so that no later search, remount or other process
 * probes again. A server that silently returns fewer than asked needs
 * nothing here: its cursors are followed as usual.
 *
 * One struct pagesize per environment, shared by its listing threads.
 */
#ifndef SPRINKLRFS_FS_SYNC_PAGESIZE_H
#define SPRINKLRFS_FS_SYNC_PAGESIZE_H

#include <stdbool.h>

#include "fs/store/store.h"

#define PAGESIZE_AUTO 0
#define PAGESIZE_MAX 1000
#define PAGESIZE_FLOOR 100

struct pagesize;

struct pagesize *pagesize_new(struct store *st, int configured);
void pagesize_free(struct pagesize *ps);
int pagesize_get(struct pagesize *ps, bool *known);
bool pagesize_refused(struct pagesize *ps, int size, int *smaller);
void pagesize_accepted(struct pagesize *ps, int size);

#endif
