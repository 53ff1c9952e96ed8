/*
 * test_endpoint.c - environment names and URL joining (API §1).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "endpoint.h"

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
	char buf[256];

	assert(ep_url(buf, sizeof(buf), base, env, path) == 0);
	if (strcmp(buf, want) != 0) {
		fprintf(stderr, "got %s, want %s\n", buf, want);
		assert(0);
	}
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
	char buf[32] = "untouched";

	assert(ep_url(buf, sizeof(buf), "https://x", "Bad", "/a") == -EINVAL);
	assert(ep_url(buf, sizeof(buf), "https://api3.sprinklr.com", "prod2",
		      "/api/v2/search/PROFILE") == -ENAMETOOLONG);
	assert(strcmp(buf, "untouched") == 0);
	/* "https://a.b/prod2/api" is 21 bytes and needs 22 with its NUL */
	assert(ep_url(buf, 21, "https://a.b", "prod2", "/api") == -ENAMETOOLONG);
	assert(strcmp(buf, "untouched") == 0);
	assert(ep_url(buf, 22, "https://a.b", "prod2", "/api") == 0);
	assert(strcmp(buf, "https://a.b/prod2/api") == 0);
}

int main(void)
{
	test_env_valid();
	test_url_join();
	test_url_errors();
	printf("endpoint: ok\n");
	return 0;
}
