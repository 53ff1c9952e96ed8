/*
 * msg.c - replace a message with a newly formatted one (see msg.h).
 */
#include <stdarg.h>

#include <glib.h>

#include "auth/base/msg.h"

/* *msg becomes the formatted text; msg may be NULL (nobody asked why). */
void msg_set(char **msg, const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (!msg)
		return;
	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_free(*msg);
	*msg = text;
}
