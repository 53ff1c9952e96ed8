/*
 * log.c - levels, the stderr/syslog sink, and libfuse's log hook.
 *
 * The sink state is two words written at start-up (before threads exist) and
 * read afterwards; a single fprintf() or vsyslog() call per message keeps lines
 * from different threads whole.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <fuse.h>
#include <fuse_log.h>
#include <glib.h>

#include "auth/base/log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static bool use_syslog;

static const char *const level_prefix[] = {
	[LOG_LEVEL_ERROR] = "error: ",
	[LOG_LEVEL_WARN] = "warning: ",
	[LOG_LEVEL_INFO] = "",
	[LOG_LEVEL_DEBUG] = "debug: ",
};

static const int level_priority[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	max_level = level;
}

/* "error", "warning", "info" or "debug"; *level is untouched on failure. */
int log_parse_level(const char *name, enum log_level *level)
{
	size_t i;

	for (i = 0; name && i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_to_syslog(bool on)
{
	if (on && !use_syslog)
		openlog("sprinklrfs", LOG_PID, LOG_DAEMON);
	else if (!on && use_syslog)
		closelog();
	use_syslog = on;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char *line;

	if (level > max_level)
		return;
	line = g_strdup_vprintf(fmt, ap);
	if (use_syslog)
		syslog(level_priority[level], "%s%s", level_prefix[level], line);
	else
		fprintf(stderr, "sprinklrfs: %s%s\n", level_prefix[level], line);
	g_free(line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static enum log_level from_fuse_level(enum fuse_log_level level)
{
	switch (level) {
	case FUSE_LOG_EMERG:
	case FUSE_LOG_ALERT:
	case FUSE_LOG_CRIT:
	case FUSE_LOG_ERR:
		return LOG_LEVEL_ERROR;
	case FUSE_LOG_WARNING:
		return LOG_LEVEL_WARN;
	case FUSE_LOG_NOTICE:
	case FUSE_LOG_INFO:
		return LOG_LEVEL_INFO;
	default:
		return LOG_LEVEL_DEBUG;
	}
}

/* libfuse's messages end with a newline of their own; ours add one. */
static void fuse_sink(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char *line = g_strdup_vprintf(fmt, ap);
	size_t len = strlen(line);

	while (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	log_msg(from_fuse_level(level), "%s", line);
	g_free(line);
}

void log_install_fuse(void)
{
	fuse_set_log_func(fuse_sink);
}
