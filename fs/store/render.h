/*
 * render.h - JSON as the files show it.
 *
 * render_json() prints a cJSON value the way every file of the mount shows
 * JSON: formatted, exact integers, a final newline; render_json_sized()
 * also tells the size of its compact form. render_compact()
 * streams the one-line form of such bytes (whitespace outside strings
 * dropped): it copies the compact bytes whose positions lie in [from, to)
 * to out (when out is not NULL) and returns how many there were; with
 * from = 0, to = SIZE_MAX and out = NULL it measures.
 * render_fix_nul_escapes() rewrites \u0000 escapes in raw JSON text before
 * it is parsed; render_int64() reads a JSON integer exactly.
 */
#ifndef SPRINKLRFS_FS_STORE_RENDER_H
#define SPRINKLRFS_FS_STORE_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

int render_json(const cJSON *item, char **data, size_t *size);
int render_json_sized(const cJSON *item, char **data, size_t *size,
		      size_t *compact_size);
size_t render_compact(const char *data, size_t size, size_t from, size_t to,
		      char *out);
void render_fix_nul_escapes(char *json, size_t len);
bool render_int64(const cJSON *v, int64_t *out);

#endif
