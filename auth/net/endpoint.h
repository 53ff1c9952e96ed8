/*
 * endpoint.h - environment names and the URLs built from them (API §1).
 *
 * An environment is a short lowercase name (prod, prod2, qa4). Its base URL is
 * the API host plus "/{env}", except for prod, which has no segment.
 */
#ifndef SPRINKLRFS_NET_ENDPOINT_H
#define SPRINKLRFS_NET_ENDPOINT_H

#include <stdbool.h>

#define EP_ENV_MAX 32

bool ep_env_valid(const char *env);
int ep_url(const char *api_url, const char *env, const char *path, char **url);

#endif
