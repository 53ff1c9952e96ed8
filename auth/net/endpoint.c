/*
 * endpoint.c - environment name validation and URL joining.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "auth/net/endpoint.h"

bool ep_env_valid(const char *env)
{
	size_t len = 0;

	if (!env)
		return false;
	for (; env[len]; len++) {
		char c = env[len];

		if (len == EP_ENV_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return len > 0;
}

/*
 * Joins api_url, the environment segment and path without producing "//":
 * trailing slashes of api_url and leading slashes of path are folded.
 * Returns 0 with *url (free it with g_free()), or -EINVAL for a bad
 * environment; *url is left untouched on failure.
 */
int ep_url(const char *api_url, const char *env, const char *path, char **url)
{
	size_t base_len = strlen(api_url);
	const char *sep = "/";
	const char *segment = env;

	if (!ep_env_valid(env))
		return -EINVAL;
	while (base_len > 0 && api_url[base_len - 1] == '/')
		base_len--;
	while (*path == '/')
		path++;
	if (strcmp(env, "prod") == 0)
		sep = segment = "";
	*url = g_strdup_printf("%.*s%s%s/%s", (int)base_len, api_url, sep,
			       segment, path);
	return 0;
}
