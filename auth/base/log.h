/*
 * log.h - the one log sink of sprinklrfs.
 *
 * Everything that prints a diagnostic goes through log_msg(): our own code and,
 * once log_install_fuse() has run, libfuse's messages too. Messages go to stderr
 * until log_to_syslog() switches the sink (after daemonizing). Library code
 * returns errors; the caller at the top logs once.
 *
 * Levels, most severe first: error, warning, info (the default), debug. At
 * debug the API call trace appears (auth/api): one line per HTTP exchange,
 * never a header or a body.
 */
#ifndef SPRINKLRFS_LOG_H
#define SPRINKLRFS_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
int log_parse_level(const char *name, enum log_level *level);
void log_to_syslog(bool on);
void log_install_fuse(void);

__attribute__((format(printf, 2, 3)))
void log_msg(enum log_level level, const char *fmt, ...);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
