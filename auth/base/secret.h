/*
 * secret.h - wipe a string that may hold a secret before GLib frees it.
 * (The strings of struct creds are malloc'd and go through
 * creds_free_secret_string() instead.)
 */
#ifndef SPRINKLRFS_SECRET_H
#define SPRINKLRFS_SECRET_H

#include <string.h>

#include <glib.h>

/* Accepts NULL; usable as a GDestroyNotify. */
static inline void secret_free(gpointer s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	g_free(s);
}

#endif
