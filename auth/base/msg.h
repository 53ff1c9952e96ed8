/*
 * msg.h - messages built to their length. A function that explains its
 * failures takes a `char **why`: on failure it leaves there a message for
 * people (never a secret), which the caller frees with g_free(). A message
 * replaced by a later one is freed first.
 */
#ifndef SPRINKLRFS_MSG_H
#define SPRINKLRFS_MSG_H

#include <glib.h>

void msg_set(char **msg, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The message, or "" when there is none. */
static inline const char *msg_text(const char *msg)
{
	return msg ? msg : "";
}

#endif
