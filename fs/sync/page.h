/*
 * page.h - a search page (API §4.3) as sync sees it: the envelope
 * {"data": {"results": [...], "cursor": "id=..."}, "errors": []}.
 */
#ifndef SPRINKLRFS_FS_SYNC_PAGE_H
#define SPRINKLRFS_FS_SYNC_PAGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

int page_parse(char *body, size_t len, cJSON **root, const cJSON **results);
char *page_cursor(const cJSON *root);

#endif
