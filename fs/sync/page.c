/*
 * page.c - parse the envelope of a search page; the profiles in it are the
 * store's business (store_put), the cursor the listing's.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "fs/store/render.h"
#include "fs/sync/page.h"

/*
 * Parses body (modified in place: \u0000 escapes are neutralised). Returns 0
 * with *root (for the caller to cJSON_Delete) and *results, an array;
 * -EBADMSG for a non-empty errors array; -EPROTO for anything else. The
 * cursor is for page_cursor().
 */
int page_parse(char *body, size_t len, cJSON **root, const cJSON **results)
{
	const cJSON *data, *res, *errors;
	cJSON *tree;

	render_fix_nul_escapes(body, len);
	tree = cJSON_ParseWithLength(body, len);
	errors = cJSON_GetObjectItemCaseSensitive(tree, "errors");
	data = cJSON_GetObjectItemCaseSensitive(tree, "data");
	res = cJSON_GetObjectItemCaseSensitive(data, "results");
	if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
		cJSON_Delete(tree);
		return -EBADMSG;
	}
	if (!cJSON_IsArray(res)) {
		cJSON_Delete(tree);
		return -EPROTO;
	}
	*root = tree;
	*results = res;
	return 0;
}

/* The next page's cursor value ("id=" stripped), or NULL on the last page;
 * g_free it. */
char *page_cursor(const cJSON *root)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(data, "results");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(data, "cursor");
	const char *value;

	if (cJSON_GetArraySize(results) == 0 || !cJSON_IsString(c))
		return NULL;
	value = c->valuestring;
	if (strncmp(value, "id=", 3) == 0)
		value += 3;
	return value[0] ? g_strdup(value) : NULL;
}
