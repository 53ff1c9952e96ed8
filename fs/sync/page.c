/*
 * page.c - parse the envelope of a search page; the profiles in it are the
 * store's business (store_put), the cursor the listing's.
 *
 * The tree's memory: cJSON's allocator is the process's (cJSON_InitHooks).
 * Ours is malloc and free, except on a thread that is parsing a page: there
 * every allocation is cut from the page's chunks, and a free (of a tree the
 * parse gives up) does nothing. The parse then takes about half the time,
 * and freeing the tree no time at all (`bench_store`, README).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "fs/store/render.h"
#include "fs/sync/page.h"

#define CHUNK_MIN ((size_t)64 << 10)
#define ALIGN ((size_t)8)		/* a cJSON node's: pointers, a double */

struct page_chunk {
	struct page_chunk *next;
	size_t size, used;
	char data[];
};

/* The page whose tree this thread is making, or NULL. */
static _Thread_local struct page *making;

static void *tree_alloc(size_t n)
{
	struct page *p = making;
	struct page_chunk *c;
	void *at;

	if (!p)
		return malloc(n);
	n = (n + ALIGN - 1) & ~(ALIGN - 1);
	c = p->mem;
	if (!c || c->size - c->used < n) {
		size_t size = MAX(n, p->chunk_size);

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = p->mem;
		p->mem = c;
	}
	at = c->data + c->used;
	c->used += n;
	return at;
}

static void tree_free(void *ptr)
{
	if (!making)
		free(ptr);
}

static void hooks_init(void)
{
	static gsize done;
	cJSON_Hooks hooks = { .malloc_fn = tree_alloc, .free_fn = tree_free };

	/* Set before any page is parsed; a thread in cJSON meanwhile gets
	 * malloc and free either way. */
	if (g_once_init_enter(&done)) {
		cJSON_InitHooks(&hooks);
		g_once_init_leave(&done, 1);
	}
}

void page_free(struct page *page)
{
	struct page_chunk *c, *next;

	for (c = page->mem; c; c = next) {
		next = c->next;
		free(c);
	}
	page->mem = NULL;
	page->root = page->results = NULL;
}

/*
 * Parses body (modified in place: \u0000 escapes are neutralised) into
 * *page, for the caller to page_free(): 0; -EBADMSG for a non-empty errors
 * array; -EILSEQ when it is not JSON at all (a cut transfer, a proxy's
 * page); -EPROTO for any other JSON (page_free() done on each failure).
 * The cursor is for page_cursor().
 */
int page_parse(char *body, size_t len, struct page *page)
{
	const cJSON *data, *errors;

	hooks_init();
	*page = (struct page){ .chunk_size = MAX(CHUNK_MIN, len * 5) };
	render_fix_nul_escapes(body, len);
	making = page;
	page->root = cJSON_ParseWithLength(body, len);
	making = NULL;
	if (!page->root) {
		page_free(page);
		return -EILSEQ;
	}
	errors = cJSON_GetObjectItemCaseSensitive(page->root, "errors");
	data = cJSON_GetObjectItemCaseSensitive(page->root, "data");
	page->results = cJSON_GetObjectItemCaseSensitive(data, "results");
	if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
		page_free(page);
		return -EBADMSG;
	}
	if (!cJSON_IsArray(page->results)) {
		page_free(page);
		return -EPROTO;
	}
	return 0;
}

/* The next page's cursor value ("id=" stripped), or NULL on the last page;
 * g_free it. */
char *page_cursor(const struct page *page)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(page->root, "data");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(data, "cursor");
	const char *value;

	if (cJSON_GetArraySize(page->results) == 0 || !cJSON_IsString(c))
		return NULL;
	value = c->valuestring;
	if (strncmp(value, "id=", 3) == 0)
		value += 3;
	return value[0] ? g_strdup(value) : NULL;
}
