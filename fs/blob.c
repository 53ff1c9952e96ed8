/*
 * blob.c - reference-counted immutable bytes (atomic counts, no lock).
 */
#include <stdlib.h>
#include <string.h>

#include "blob.h"

struct blob *blob_new(const char *data, size_t size)
{
	struct blob *b = malloc(sizeof(*b) + size + 1);

	if (!b)
		return NULL;
	b->refs = 1;
	b->size = size;
	memcpy(b->data, data, size);
	b->data[size] = '\0';
	return b;
}

/* Like blob_new, and frees data (even on failure). */
struct blob *blob_take(char *data, size_t size)
{
	struct blob *b = data ? blob_new(data, size) : NULL;

	free(data);
	return b;
}

struct blob *blob_ref(struct blob *b)
{
	if (b)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void blob_unref(struct blob *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}
