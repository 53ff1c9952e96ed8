/*
 * test_endpoint.c - environment names and URL joining (API §1).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "auth/net/endpoint.h"

static void test_env_valid(void)
{
	assert(ep_env_valid("prod"));
	assert(ep_env_valid("prod2"));
	assert(ep_env_valid("qa4"));
	assert(ep_env_valid("abcdefghijklmnopqrstuvwxyz012345"));
	assert(!ep_env_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert(!ep_env_valid(""));
	assert(!ep_env_valid(NULL));
	assert(!ep_env_valid("Prod2"));
	assert(!ep_env_valid("prod-2"));
	assert(!ep_env_valid("../x"));
	assert(!ep_env_valid("prod/2"));
}

static void expect_url(const char *base, const char *env, const char *path,
		       const char *want)
{
	char *url = NULL;
	int res = ep_url(base, env, path, &url);

	assert(res == 0);
	if (strcmp(url, want) != 0) {
		fprintf(stderr, "got %s, want %s\n", url, want);
		assert(0);
	}
	g_free(url);
}

static void test_url_join(void)
{
	expect_url("https://api3.sprinklr.com", "prod2", "/api/v2/me",
		   "https://api3.sprinklr.com/prod2/api/v2/me");
	expect_url("https://api3.sprinklr.com", "prod", "/api/v2/me",
		   "https://api3.sprinklr.com/api/v2/me");
	expect_url("https://api3.sprinklr.com/", "prod", "oauth/token",
		   "https://api3.sprinklr.com/oauth/token");
	expect_url("https://127.0.0.1:8443//", "qa4", "//oauth/authorize",
		   "https://127.0.0.1:8443/qa4/oauth/authorize");
}

static void test_url_errors(void)
{
	char *url = (char *)"untouched";
	int res;

	res = ep_url("https://x", "Bad", "/a", &url);
	assert(res == -EINVAL);
	res = ep_url("https://x", NULL, "/a", &url);
	assert(res == -EINVAL);
	assert(strcmp(url, "untouched") == 0);
}

/* A URL is as long as it needs to be: nothing is cut short. */
static void test_url_long(void)
{
	char *path = g_strnfill(5000, 'p');
	char *url = NULL;
	int res = ep_url("https://a.b", "prod2", path, &url);

	assert(res == 0);
	assert(strlen(url) == strlen("https://a.b/prod2/") + 5000);
	assert(strncmp(url, "https://a.b/prod2/ppp", 21) == 0);
	g_free(url);
	g_free(path);
}

int main(void)
{
	test_env_valid();
	test_url_join();
	test_url_errors();
	test_url_long();
	printf("endpoint: ok\n");
	return 0;
}
