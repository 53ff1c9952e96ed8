/*
 * endpoint.c - environment name validation and URL joining.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "endpoint.h"

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
 * Join api_url, the environment segment and path into buf without producing
 * "//": trailing slashes of api_url and leading slashes of path are folded.
 * Returns 0, -EINVAL for a bad environment, or -ENAMETOOLONG; buf is left
 * untouched on failure.
 */
int ep_url(char *buf, size_t size, const char *api_url, const char *env,
	   const char *path)
{
	size_t base_len = strlen(api_url);
	const char *sep = "/";
	const char *segment = env;
	int len;

	if (!ep_env_valid(env))
		return -EINVAL;
	while (base_len > 0 && api_url[base_len - 1] == '/')
		base_len--;
	while (*path == '/')
		path++;
	if (strcmp(env, "prod") == 0)
		sep = segment = "";
	len = snprintf(NULL, 0, "%.*s%s%s/%s", (int)base_len, api_url, sep,
		       segment, path);
	if (len < 0 || (size_t)len >= size)
		return -ENAMETOOLONG;
	snprintf(buf, size, "%.*s%s%s/%s", (int)base_len, api_url, sep, segment,
		 path);
	return 0;
}
