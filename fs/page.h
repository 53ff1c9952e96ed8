/*
 * page.h - a search page (API §4.3) as sync sees it: the envelope
 * {"data": {"results": [...], "cursor": "id=..."}, "errors": []}.
 */
#ifndef SPRINKLRFS_PAGE_H
#define SPRINKLRFS_PAGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

int page_parse(char *body, size_t len, cJSON **root, const cJSON **results);
void page_cursor(const cJSON *root, char *cursor, size_t size);

#endif
