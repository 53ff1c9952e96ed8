/*
 * blob.h - immutable, reference-counted bytes: the content of a file that is
 * not a profile (me.json, list.json, .status.json, ...). An open file holds a
 * reference, so its bytes never change under it.
 */
#ifndef SPRINKLRFS_BLOB_H
#define SPRINKLRFS_BLOB_H

#include <stddef.h>

struct blob {
	int refs;
	size_t size;
	char data[];
};

struct blob *blob_new(const char *data, size_t size);
struct blob *blob_take(char *data, size_t size);
struct blob *blob_ref(struct blob *b);
void blob_unref(struct blob *b);

#endif
