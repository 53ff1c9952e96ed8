/*
 * test_render.c - profile bytes: determinism, numbers, UTF-8, NUL escapes,
 * the compact form used by profiles.ndjson, and the bytes being
 * cJSON_Print's.
 */
#include "check.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fs/store/render.h"

static cJSON *parse(const char *text)
{
	cJSON *root = cJSON_ParseWithLength(text, strlen(text));

	check(root);
	return root;
}

static char *render_text(const char *text, size_t *size)
{
	cJSON *root = parse(text);
	char *data = NULL;

	check(render_json(root, &data, size) == 0);
	cJSON_Delete(root);
	check(data[*size - 1] == '\n');
	check(strlen(data) == *size);
	return data;
}

static void test_integers(void)
{
	const char *in = "{\"modifiedTime\":1680587723279,\"createdTime\":"
			 "1660979112596,\"zero\":0,\"neg\":-1680587723279,"
			 "\"big\":999999999999999,\"f\":1.5}";
	size_t size;
	char *data = render_text(in, &size);

	check(strstr(data, "\"modifiedTime\":\t1680587723279,\n"));
	check(strstr(data, "\"createdTime\":\t1660979112596,\n"));
	check(strstr(data, "\"zero\":\t0,\n"));
	check(strstr(data, "\"neg\":\t-1680587723279,\n"));
	check(strstr(data, "\"big\":\t999999999999999,\n"));
	check(strstr(data, "\"f\":\t1.5\n"));
	free(data);
	/* integers of 16 digits up to 2^53 keep their exact digits */
	data = render_text("[1000000000000000,9007199254740991,-9007199254740992,"
			   "4503599627370497,1.25e+20]", &size);
	check(strcmp(data, "[1000000000000000, 9007199254740991, "
			    "-9007199254740992, 4503599627370497, 1.25e+20]\n") == 0);
	free(data);
	/* nested: exact digits inside objects and arrays too */
	data = render_text("{\"a\":{\"b\":[9007199254740991]}}", &size);
	check(strstr(data, "9007199254740991"));
	free(data);
}

static void test_determinism_and_order(void)
{
	const char *in = "{\"z\":1,\"a\":{\"unknownField\":[1,{\"x\":null},true]},"
			 "\"id\":\"abc\",\"m\":{\"k\":\"v\"},\"e\":{},\"l\":[]}";
	size_t s1, s2, s3;
	char *a = render_text(in, &s1), *b = render_text(in, &s2), *c;

	check(s1 == s2 && memcmp(a, b, s1) == 0);
	check(strstr(a, "unknownField"));
	check(strstr(a, "\"z\"") < strstr(a, "\"a\""));
	check(strstr(a, "\"a\"") < strstr(a, "\"id\""));
	/* rendering the rendering is a fixed point */
	a[s1 - 1] = '\0';
	c = render_text(a, &s3);
	check(s3 == s1 && memcmp(c, b, s1 - 1) == 0);
	free(a);
	free(b);
	free(c);
}

static void test_utf8(void)
{
	const char *in = "{\"name\":\"\xc2\xb5 Zo\xc3\xab \xf0\x9f\x98\x80\","
			 "\"esc\":\"\\u00b5\\ud83d\\ude00\"}";
	size_t size;
	char *data = render_text(in, &size);

	check(strstr(data, "\"name\":\t\"\xc2\xb5 Zo\xc3\xab \xf0\x9f\x98\x80\""));
	check(strstr(data, "\"esc\":\t\"\xc2\xb5\xf0\x9f\x98\x80\""));
	free(data);
}

static void expect_fix(const char *in, const char *want)
{
	char buf[256];
	size_t len = strlen(in);

	check(len < sizeof(buf));
	memcpy(buf, in, len + 1);
	render_fix_nul_escapes(buf, len);
	if (strcmp(buf, want) != 0) {
		fprintf(stderr, "fix %s: got %s, want %s\n", in, buf, want);
		check(0);
	}
}

static void test_nul_escapes(void)
{
	expect_fix("{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\uFFFDy\"}");
	expect_fix("{\"a\":\"\\u0000\\u0000\"}", "{\"a\":\"\\uFFFD\\uFFFD\"}");
	expect_fix("{\"a\":\"\\u00000\"}", "{\"a\":\"\\uFFFD0\"}");
	expect_fix("{\"a\\u0000b\":1}", "{\"a\\uFFFDb\":1}");
	/* an escaped backslash, then literal text */
	expect_fix("{\"a\":\"\\\\u0000\"}", "{\"a\":\"\\\\u0000\"}");
	/* an escaped backslash, then a real escape */
	expect_fix("{\"a\":\"\\\\\\u0000\"}", "{\"a\":\"\\\\\\uFFFD\"}");
	/* an escaped quote does not end the string */
	expect_fix("{\"a\":\"\\\"\\u0000\"}", "{\"a\":\"\\\"\\uFFFD\"}");
	/* outside strings nothing changes */
	expect_fix("[\\u0000, \"\"]", "[\\u0000, \"\"]");
	/* other escapes stay */
	expect_fix("{\"a\":\"\\u0001\\u00e9\\n\"}", "{\"a\":\"\\u0001\\u00e9\\n\"}");
	/* truncated input: no overrun, nothing changed */
	expect_fix("{\"a\":\"\\u000", "{\"a\":\"\\u000");
	expect_fix("{\"a\":\"\\", "{\"a\":\"\\");
	expect_fix("", "");
}

static void test_nul_escapes_length(void)
{
	char buf[] = "\"\\u0000\"";
	cJSON *v;

	/* only the first len bytes are looked at */
	render_fix_nul_escapes(buf, 5);
	check(strcmp(buf, "\"\\u0000\"") == 0);
	render_fix_nul_escapes(buf, strlen(buf));
	v = cJSON_ParseWithLength(buf, strlen(buf));
	check(cJSON_IsString(v));
	check(strcmp(v->valuestring, "\xef\xbf\xbd") == 0);
	cJSON_Delete(v);
}

static void expect_compact(const char *text)
{
	cJSON *root = parse(text);
	char *want = cJSON_PrintUnformatted(root), *data, *got;
	size_t size, n, wlen = strlen(want);

	check(render_json_sized(root, &data, &size, &n) == 0);
	check(n == wlen);
	check(render_compact(data, size, 0, SIZE_MAX, NULL) == wlen);
	got = malloc(wlen + 1);
	n = render_compact(data, size, 0, SIZE_MAX, got);
	check(n == wlen && memcmp(got, want, wlen) == 0);
	/* every sub-range */
	for (size_t from = 0; from <= wlen; from += 3) {
		for (size_t to = from; to <= wlen + 2; to += 5) {
			size_t end = to < wlen ? to : wlen;

			n = render_compact(data, size, from, to, got);
			check(n == end - from);
			check(memcmp(got, want + from, n) == 0);
		}
	}
	free(got);
	free(data);
	cJSON_free(want);
	cJSON_Delete(root);
}

static void test_compact(void)
{
	expect_compact("{}");
	expect_compact("[]");
	expect_compact("{\"a\":{},\"b\":[],\"c\":[{}, [], [[]], {\"d\":{}}]}");
	expect_compact("{\"s p a c e\":\" x \\t y\\n \",\"q\":\"\\\"{ }\\\\\","
		       "\"n\":[1, 2.5, -3, 1680587723279],\"t\":true,\"f\":false,"
		       "\"z\":null}");
	expect_compact("{\"u\":\"\xc2\xb5 \xf0\x9f\x98\x80\",\"c\":\"\\u0001\"}");
	expect_compact("{\"id\":\"630087a8b8ef87db98bac318\",\"contact\":{"
		       "\"firstName\":\"John\",\"address\":{\"city\":\"S\xc3\xa3o Paulo\"}},"
		       "\"profiles\":[{\"channelType\":\"TWITTER\",\"channelId\":\"1\","
		       "\"accountSpecificInfos\":[{\"accountId\":1000136633}]}],"
		       "\"profileWorkflow\":{\"profileLists\":[2, 17518, 3],"
		       "\"customProperties\":{\"_c_637df02b946df13455a7b9f5\":[\"Show\"]},"
		       "\"profileSpaceWorkflows\":[{\"spaceId\":\"1000004509\","
		       "\"profileLists\":[2691, 3],\"customProperties\":{}}]},"
		       "\"createdTime\":1660979112596,\"modifiedTime\":1680587723279}");
}

/* Without integers of 16 digits, the bytes are cJSON_Print's and a newline. */
static void expect_as_cjson(const char *text)
{
	cJSON *root = parse(text);
	char *want = cJSON_Print(root), *data;
	size_t size, wlen = strlen(want);

	check(render_json(root, &data, &size) == 0);
	check(size == wlen + 1 && memcmp(data, want, wlen) == 0);
	free(data);
	cJSON_free(want);
	cJSON_Delete(root);
}

static void test_as_cjson(void)
{
	expect_as_cjson("{}");
	expect_as_cjson("[[], {}, [{}], {\"a\":[]}]");
	expect_as_cjson("{\"a\":{\"b\":{\"c\":[1, {\"d\":{}}]}},\"e\":\"\"}");
	expect_as_cjson("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0001 \\u001f \\u007f\"]");
	expect_as_cjson("{\"\\n\\u0002\":\"\xc3\xa9\\u2028\"}");
	expect_as_cjson("[0, -0, 1, -1, 2147483648, -2147483649, 1.5, -2.25, 0.1,"
			" 1e300, -1e-300, 123456789.123456789, 3.14159265358979]");
	expect_as_cjson("[null, true, false, \"x\"]");
}

int main(void)
{
	test_integers();
	test_determinism_and_order();
	test_utf8();
	test_nul_escapes();
	test_nul_escapes_length();
	test_compact();
	test_as_cjson();
	printf("render: 7 tests passed\n");
	return 0;
}
