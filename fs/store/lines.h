/*
 * lines.h - profiles.ndjson: every profile's one-line form, sorted by id,
 * read from one snapshot of the store from open to close.
 */
#ifndef SPRINKLRFS_FS_STORE_LINES_H
#define SPRINKLRFS_FS_STORE_LINES_H

#include <stdint.h>
#include <sys/types.h>

#include "fs/store/store.h"

struct store_lines;

int lines_open(struct store *st, struct store_lines **out);
uint64_t lines_size(const struct store_lines *lines);
ssize_t lines_read(struct store_lines *lines, char *buf, size_t size,
		   off_t off);
void lines_close(struct store_lines *lines);

#endif
