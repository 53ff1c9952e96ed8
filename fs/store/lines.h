/*
 * lines.h - profiles.ndjson and profiles.csv: one line per profile, sorted
 * by id, of every profile or of one list's members, read from one snapshot
 * of the store from open to close.
 */
#ifndef SPRINKLRFS_FS_STORE_LINES_H
#define SPRINKLRFS_FS_STORE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/store/store.h"

enum lines_format {
	LINES_NDJSON,	/* each profile's compact JSON and '\n' */
	LINES_CSV,	/* a header, then each profile's row (RFC 4180) */
};

struct lines_spec {
	enum lines_format format;
	bool list;		/* a list's members; else every profile */
	const char *space;	/* the list's workspace, "" for a partner list */
	int64_t list_id;
	const char *fields_doc;	/* csv: custom-fields.json's bytes, or NULL */
	size_t fields_len;
};

struct store_lines;

int lines_open(struct store *st, const struct lines_spec *spec,
	       struct store_lines **out);
uint64_t lines_size(const struct store_lines *lines);
/* The newest of its profiles' modifiedTime (0 when it has none). */
int64_t lines_newest(const struct store_lines *lines);
ssize_t lines_read(struct store_lines *lines, char *buf, size_t size,
		   off_t off);
void lines_close(struct store_lines *lines);

#endif
