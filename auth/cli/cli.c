/*
 * cli.c - what the `sprinklrfs auth` commands share.
 */
#include <stdio.h>
#include <time.h>

#include "auth/cli/cli.h"

/* "2024-01-31 12:00 UTC", or "unknown". */
void cli_format_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) ||
	    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, size, "unknown");
}
