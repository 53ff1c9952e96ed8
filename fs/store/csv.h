/*
 * csv.h - private to the store: profiles.csv's cells.
 *
 * A profile's cells are made when it is stored, whatever the columns are:
 * the fixed columns' fields, already encoded and joined by commas, then one
 * record per custom value (its workspace, "" at account level; its field
 * key; its encoded field). csv_cells() makes them and says their size, the
 * row's size less what the columns add (a comma per custom column and the
 * CRLF). csv_each_cell() walks the records of stored cells.
 *
 * Encoding: a field is quoted (RFC 4180) when it holds '"', ',', CR or LF,
 * with its quotes doubled. Several values in one field are joined by '|';
 * a '\' or a '|' inside one value is escaped with a '\'.
 */
#ifndef SPRINKLRFS_FS_STORE_CSV_H
#define SPRINKLRFS_FS_STORE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <glib.h>

/* The fixed columns' header, without its line end. */
extern const char CSV_FIXED_HEADER[];

struct csv_cell {
	const char *space;	/* "" at account level */
	const char *key;
	const char *field;	/* encoded */
	size_t field_len;
};

int csv_cells(const cJSON *profile, GString *cells, size_t *size);
/* The fixed part of stored cells (its length in *len); NULL if malformed. */
const char *csv_fixed_part(const char *cells, size_t n, size_t *len);
/* The record at *pos (moved past it); false at the end. */
bool csv_each_cell(const char *cells, size_t n, size_t *pos,
		   struct csv_cell *cell);
void csv_field(GString *out, const char *s, size_t len);

#endif
