/*
 * page.h - a search page (API §4.3) as sync sees it: the envelope
 * {"data": {"results": [...], "cursor": "id=..."}, "errors": []}.
 *
 * A page's tree is made in memory of its own, freed at once by page_free():
 * cJSON allocates every node and string apart, and a page of 1000 profiles
 * is about a hundred thousand of them. The tree is read-only: nothing may
 * cJSON_Delete it, or any part of it, or add to it.
 */
#ifndef SPRINKLRFS_FS_SYNC_PAGE_H
#define SPRINKLRFS_FS_SYNC_PAGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct page_chunk;

struct page {
	const cJSON *root;
	const cJSON *results;		/* an array */
	struct page_chunk *mem;		/* the tree's memory */
	size_t chunk_size;
};

int page_parse(char *body, size_t len, struct page *page);
char *page_cursor(const struct page *page);
void page_free(struct page *page);

#endif
