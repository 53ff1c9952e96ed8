/*
 * test_endpoint.c - environment names and URL joining (API §1).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "check.h"
#include "auth/net/endpoint.h"

static void test_env_valid(void)
{
	check(ep_env_valid("prod"));
	check(ep_env_valid("prod2"));
	check(ep_env_valid("qa4"));
	check(ep_env_valid("abcdefghijklmnopqrstuvwxyz012345"));
	check(!ep_env_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	check(!ep_env_valid(""));
	check(!ep_env_valid(NULL));
	check(!ep_env_valid("Prod2"));
	check(!ep_env_valid("prod-2"));
	check(!ep_env_valid("../x"));
	check(!ep_env_valid("prod/2"));
}

static void expect_url(const char *base, const char *env, const char *path,
		       const char *want)
{
	char *url = NULL;
	int res = ep_url(base, env, path, &url);

	check(res == 0);
	if (strcmp(url, want) != 0) {
		fprintf(stderr, "got %s, want %s\n", url, want);
		check(0);
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
	check(res == -EINVAL);
	res = ep_url("https://x", NULL, "/a", &url);
	check(res == -EINVAL);
	check(strcmp(url, "untouched") == 0);
}

/* A URL is as long as it needs to be: nothing is cut short. */
static void test_url_long(void)
{
	char *path = g_strnfill(5000, 'p');
	char *url = NULL;
	int res = ep_url("https://a.b", "prod2", path, &url);

	check(res == 0);
	check(strlen(url) == strlen("https://a.b/prod2/") + 5000);
	check(strncmp(url, "https://a.b/prod2/ppp", 21) == 0);
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
