/*
 * test_creds.c - the creds JSON: round trip, strictness, ownership, wiping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "auth/creds/creds.h"

static void fill(struct creds *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->env, sizeof(c->env), "prod2");
	c->api_url = strdup("https://api3.sprinklr.com");
	c->ca_file = strdup("/etc/ssl/private-ca.pem");
	c->key = strdup("app-key");
	c->secret = strdup("app-secret \"quoted\" \\ \xc2\xb5");
	c->redirect_uri = strdup("http://localhost:8123/sprinklr/callback");
	c->access_token = strdup("access-token-1");
	c->refresh_token = strdup("refresh-token-1");
	c->expires_at = 4102444800LL;	/* past 2^31 on purpose */
	c->refreshed_at = 1700000000;
	c->user_name = strdup("Ada Admin");
	c->user_type = strdup("PARTNER_ADMIN");
	c->needs_login = true;
}

static void assert_str_eq(const char *a, const char *b)
{
	if (!a || !b) {
		check(a == b);
		return;
	}
	check(strcmp(a, b) == 0);
}

static void assert_creds_eq(const struct creds *a, const struct creds *b)
{
	check(strcmp(a->env, b->env) == 0);
	assert_str_eq(a->api_url, b->api_url);
	assert_str_eq(a->ca_file, b->ca_file);
	assert_str_eq(a->key, b->key);
	assert_str_eq(a->secret, b->secret);
	assert_str_eq(a->redirect_uri, b->redirect_uri);
	assert_str_eq(a->access_token, b->access_token);
	assert_str_eq(a->refresh_token, b->refresh_token);
	assert_str_eq(a->user_name, b->user_name);
	assert_str_eq(a->user_type, b->user_type);
	check(a->expires_at == b->expires_at);
	check(a->refreshed_at == b->refreshed_at);
	check(a->needs_login == b->needs_login);
}

static void test_round_trip(void)
{
	struct creds a, b = { 0 };
	char *json = NULL;
	int res;

	fill(&a);
	res = creds_to_json(&a, &json);
	check(res == 0);
	check(strstr(json, "\"version\":1"));
	check(strstr(json, "\"expires_at\":4102444800"));
	check(strstr(json, "\"refreshed_at\":1700000000"));
	check(!strchr(json, '\n'));
	res = creds_from_json(json, strlen(json), &b);
	check(res == 0);
	assert_creds_eq(&a, &b);
	creds_free_secret_string(json);
	creds_clear(&a);
	creds_clear(&b);
}

static void test_optional_absent(void)
{
	const char *json = "{\"version\":1,\"env\":\"prod\",\"api_url\":\"https://x\","
			   "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\","
			   "\"access_token\":null,\"unknown\":[1,2]}";
	struct creds c = { 0 };
	char *out = NULL;
	int res = creds_from_json(json, strlen(json), &c);

	check(res == 0);
	check(strcmp(c.env, "prod") == 0);
	check(!c.ca_file && !c.access_token && !c.refresh_token);
	check(!c.user_name && !c.needs_login);
	check(c.expires_at == 0 && c.refreshed_at == 0);
	res = creds_to_json(&c, &out);
	check(res == 0);
	check(!strstr(out, "ca_file") && !strstr(out, "access_token"));
	creds_free_secret_string(out);
	creds_clear(&c);
}

static void expect_invalid(const char *json)
{
	struct creds c;
	struct creds before;

	fill(&c);
	before = c;
	if (creds_from_json(json, strlen(json), &c) != -EINVAL) {
		fprintf(stderr, "accepted: %s\n", json);
		check(0);
	}
	/* untouched: same pointers, same values */
	check(memcmp(&c, &before, sizeof(c)) == 0);
	creds_clear(&c);
}

#define BASE "\"version\":1,\"env\":\"prod2\",\"api_url\":\"https://x\"," \
	     "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\""

static void test_strict(void)
{
	expect_invalid("");
	expect_invalid("not json");
	expect_invalid("[]");
	expect_invalid("{" BASE);
	expect_invalid("{\"env\":\"prod2\",\"api_url\":\"https://x\",\"key\":\"k\","
		       "\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}");
	expect_invalid("{" BASE ",\"version\":2}");
	expect_invalid("{\"version\":1,\"api_url\":\"https://x\",\"key\":\"k\","
		       "\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}");
	expect_invalid("{\"version\":1,\"env\":\"prod2\",\"api_url\":\"https://x\","
		       "\"key\":\"k\",\"redirect_uri\":\"http://l/c\"}");
	expect_invalid("{\"version\":1,\"env\":\"Prod2\",\"api_url\":\"https://x\","
		       "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}");
	expect_invalid("{\"version\":1,\"env\":\"../x\",\"api_url\":\"https://x\","
		       "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}");
	expect_invalid("{\"version\":1,\"env\":\"prod2\",\"api_url\":\"\","
		       "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}");
}

static void test_wrong_types(void)
{
	expect_invalid("{\"version\":\"1\",\"env\":\"prod2\",\"api_url\":\"https://x\","
		       "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}");
	expect_invalid("{\"version\":1,\"env\":2,\"api_url\":\"https://x\","
		       "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}");
	expect_invalid("{" BASE ",\"access_token\":5}");
	expect_invalid("{" BASE ",\"refresh_token\":{}}");
	expect_invalid("{" BASE ",\"ca_file\":true}");
	expect_invalid("{" BASE ",\"expires_at\":\"123\"}");
	expect_invalid("{" BASE ",\"expires_at\":1.5}");
	expect_invalid("{" BASE ",\"refreshed_at\":1e300}");
	expect_invalid("{" BASE ",\"needs_login\":1}");
	expect_invalid("{" BASE ",\"user_name\":[\"a\"]}");
}

static void test_length_bound(void)
{
	const char *json = "{" BASE "}garbage";
	struct creds c = { 0 };
	int res;

	/* only len bytes are parsed: the valid prefix is accepted */
	res = creds_from_json(json, strlen(json) - strlen("garbage"), &c);
	check(res == 0);
	creds_clear(&c);
	res = creds_from_json(json, 10, &c);
	check(res == -EINVAL);
}

static void test_to_json_requires(void)
{
	struct creds c;
	char *json = (char *)"untouched";
	int res;

	fill(&c);
	creds_free_secret_string(c.secret);
	c.secret = NULL;
	res = creds_to_json(&c, &json);
	check(res == -EINVAL);
	check(strcmp(json, "untouched") == 0);
	snprintf(c.env, sizeof(c.env), "Bad");
	res = creds_to_json(&c, &json);
	check(res == -EINVAL);
	creds_clear(&c);
}

static void test_copy(void)
{
	struct creds a, b = { 0 };
	int res;

	fill(&a);
	res = creds_copy(&a, &b);
	check(res == 0);
	assert_creds_eq(&a, &b);
	check(a.secret != b.secret && a.access_token != b.access_token);
	creds_clear(&a);
	check(strcmp(b.refresh_token, "refresh-token-1") == 0);
	creds_clear(&b);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void test_clear(void)
{
	struct creds c;

	fill(&c);
	creds_clear(&c);
	check(all_zero(&c, sizeof(c)));
	creds_clear(&c);	/* twice is fine */
	creds_clear(NULL);
	creds_free_secret_string(NULL);
}

/*
 * The wipe itself: creds_free_secret_string() must zero the string before
 * free(). This test is linked with -Wl,--wrap=free, so every free() in it and
 * in the core library comes here first and can look at what it is given.
 */
void __wrap_free(void *p);
void __real_free(void *p);

static const char *watched;
static bool watched_was_wiped;

void __wrap_free(void *p)
{
	if (p && p == watched) {
		watched_was_wiped = all_zero(p, strlen("a secret to wipe"));
		watched = NULL;
	}
	__real_free(p);
}

static void test_wipe(void)
{
	char *s = strdup("a secret to wipe");

	watched = s;
	watched_was_wiped = false;
	creds_free_secret_string(s);
	check(watched_was_wiped);
}

int main(void)
{
	test_round_trip();
	test_optional_absent();
	test_strict();
	test_wrong_types();
	test_length_bound();
	test_to_json_requires();
	test_copy();
	test_clear();
	test_wipe();
	printf("test_creds: ok\n");
	return 0;
}
