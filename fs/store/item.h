/*
 * item.h - one profile as the store hands it out: an immutable,
 * reference-counted copy of its rendered bytes (pretty JSON, final newline),
 * its times, and what the tree derives from it (list memberships, channel
 * identities).
 *
 * item_render() renders a cJSON profile into an item; its id must pass
 * item_id_valid(). item_from_stored() builds the same item from bytes that
 * item_render() made (as the store keeps them): it parses them again for
 * what is derived and keeps the bytes as they are. An item starts with one
 * reference.
 */
#ifndef SPRINKLRFS_FS_STORE_ITEM_H
#define SPRINKLRFS_FS_STORE_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define ITEM_ID_MAX 200

struct item_space_list {
	char *space_id;		/* workspace id (a string in the API) */
	int64_t list_id;
};

struct item_channel {
	char *type;		/* TWITTER, EMAIL, ... */
	char *channel_id;
};

struct item {
	char id[ITEM_ID_MAX + 1];
	int64_t modified_ms;	/* modifiedTime; 0 when missing */
	int64_t created_ms;
	char *data;		/* rendered bytes */
	size_t size;
	size_t compact_size;	/* its one-line form, without the newline */
	int64_t *partner_lists;
	size_t n_partner_lists;
	struct item_space_list *space_lists;
	size_t n_space_lists;
	struct item_channel *channels;
	size_t n_channels;
	char *cells;		/* its cells for profiles.csv (csv.h), by */
	size_t cells_len;	/* item_render() only: NULL from stored bytes */
	size_t csv_size;
	uint64_t pos;		/* a link's row: store_find_member's, _channel's */
	/* private */
	int refs;
};

bool item_id_valid(const char *id);
int item_render(const cJSON *profile, struct item **out);
int item_from_stored(const char *data, size_t size, struct item **out);
void item_unref(struct item *item);
bool item_in_partner_list(const struct item *item, int64_t list_id);
bool item_in_space_list(const struct item *item, const char *space_id,
			int64_t list_id);

#endif
