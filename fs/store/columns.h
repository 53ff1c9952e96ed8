/*
 * columns.h - private to the store: profiles.csv's custom columns, for one
 * snapshot.
 *
 * The columns are every field of custom-fields.json, in its order, headed
 * by its English label (" (KEY)" appended when another field's label or a
 * fixed column's name is the same, without regard to case: loaders compare
 * column names so);
 * then each account-level key that profiles hold and the document does not
 * name, headed by the key; then, per workspace whose profiles hold a field
 * (columns_use), that field again, its header followed by
 * " (workspace SPACE)". columns_row() lays out one profile's stored cells
 * (csv.h) as a whole row, CRLF included.
 */
#ifndef SPRINKLRFS_FS_STORE_COLUMNS_H
#define SPRINKLRFS_FS_STORE_COLUMNS_H

#include <stddef.h>

#include <glib.h>

struct csv_columns;

/* doc: custom-fields.json's bytes (NULL, or not JSON: no named field). */
struct csv_columns *columns_new(const char *doc, size_t doc_len);
/* A (workspace, key) that profiles of the snapshot hold. */
void columns_use(struct csv_columns *cols, const char *space,
		 const char *key);
/* After the last columns_use: the header line, CRLF included. */
const GString *columns_header(struct csv_columns *cols);
size_t columns_count(const struct csv_columns *cols);
void columns_row(struct csv_columns *cols, const char *cells, size_t n,
		 GString *row);
void columns_free(struct csv_columns *cols);

#endif
