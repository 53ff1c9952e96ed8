/*
 * render.h - private to the index: items and their bytes.
 *
 * render_item() renders a cJSON profile and extracts what the tree derives
 * from it into one heap block (struct idx_item, its arrays, its strings and
 * its rendered bytes), freed with a single free(). The id must pass
 * idx_id_valid(); the item starts with one reference.
 *
 * render_item_stored() builds the same item from bytes render_item() made
 * (as the store keeps them): it parses them again for what is derived and
 * keeps the bytes as they are.
 *
 * render_compact() streams the one-line form of rendered JSON (whitespace
 * outside strings dropped): it copies the compact bytes whose positions lie
 * in [from, to) to out (when out is not NULL) and returns how many there
 * were. With from = 0, to = SIZE_MAX and out = NULL it measures.
 */
#ifndef SPRINKLRFS_RENDER_H
#define SPRINKLRFS_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "index.h"

int render_item(const cJSON *profile, const char *env,
		struct idx_item **out);
int render_item_stored(const char *data, size_t size, const char *env,
		       struct idx_item **out);
size_t render_compact(const char *data, size_t size, size_t from, size_t to,
		      char *out);

#endif
