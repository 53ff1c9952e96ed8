/*
 * test_page.c - a search page's envelope and the memory its tree is made in
 * (fs/sync/page.c): what page_parse() accepts and refuses, the cursor, and
 * that cJSON anywhere else still allocates and frees with malloc and free,
 * on the parsing thread as on others. The sanitizer run (tests/check
 * --sanitize) finds what a page or a refused page would leak.
 */
#include "check.h"
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "fs/sync/page.h"
#include "profiles.h"

/* page_parse() of a copy of text (it writes to the body). */
static int parse(const char *text, struct page *page)
{
	char *body = g_strdup(text);
	int res = page_parse(body, strlen(body), page);

	g_free(body);		/* the tree holds copies */
	return res;
}

static void test_envelope(void)
{
	struct page page;
	char *cursor;

	check(parse("{\"data\":{\"results\":[{\"id\":\"a\"},{\"id\":\"b\"}],"
		    "\"cursor\":\"id=61125ee5\"},\"errors\":[]}", &page) == 0);
	check(cJSON_GetArraySize(page.results) == 2);
	check(strcmp(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(page.results, 1), "id")->valuestring,
		"b") == 0);
	cursor = page_cursor(&page);
	check(cursor && strcmp(cursor, "61125ee5") == 0);
	g_free(cursor);
	page_free(&page);
	check(!page.root && !page.results && !page.mem);

	/* the last page: no cursor, or no results */
	check(parse("{\"data\":{\"results\":[{\"id\":\"a\"}]}}", &page) == 0);
	check(!page_cursor(&page));
	page_free(&page);
	check(parse("{\"data\":{\"results\":[],\"cursor\":\"id=x\"}}",
		    &page) == 0);
	check(!page_cursor(&page));
	page_free(&page);
}

static void test_refused(void)
{
	struct page page;

	check(parse("{\"data\":null,\"errors\":[{\"code\":400}]}", &page) ==
	      -EBADMSG);
	check(!page.mem);
	check(parse("{\"data\":{\"results\":{}}}", &page) == -EPROTO);
	check(!page.mem);
	check(parse("[1]", &page) == -EPROTO);
	check(!page.mem);
	/* not JSON: cut short (the half-made tree is given up, and freed with
	 * the page), empty, a proxy's page */
	check(parse("{\"data\":{\"results\":[{\"id\":\"a\",\"x\":[1,2,", &page) ==
	      -EILSEQ);
	check(!page.mem);
	check(parse("", &page) == -EILSEQ);
	check(!page.mem);
	check(parse("<html>Bad Gateway</html>", &page) == -EILSEQ);
	check(!page.mem && !page.root && !page.results);
}

/* Real profiles, and a page whose tree is many times its text (a node for
 * every two bytes): its tree spans several chunks, all of it readable. */
static void test_large_pages(void)
{
	GString *s = g_string_new("{\"data\":{\"results\":[");
	struct page page;
	const cJSON *p;
	int i, j, n = 0;

	for (i = 0; i < 500; i++) {
		char *text = profile_text(i, 1641055332180 + i);

		g_string_append(s, text);
		g_string_append_c(s, i + 1 < 500 ? ',' : ']');
		free(text);
	}
	g_string_append(s, ",\"cursor\":\"id=next\"},\"errors\":[]}");
	check(page_parse(s->str, s->len, &page) == 0);
	cJSON_ArrayForEach(p, page.results) {
		check(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "id")));
		n++;
	}
	check(n == 500);
	check(page.mem);
	page_free(&page);

	g_string_assign(s, "{\"data\":{\"results\":[");
	for (i = 0; i < 200; i++) {
		g_string_append_printf(s, "%s{\"id\":\"p%d\",\"n\":[",
				       i ? "," : "", i);
		for (j = 0; j < 1000; j++)
			g_string_append(s, j ? ",7" : "7");
		g_string_append(s, "]}");
	}
	g_string_append(s, "]}}");
	check(page_parse(s->str, s->len, &page) == 0);
	n = 0;
	cJSON_ArrayForEach(p, page.results) {
		const cJSON *v;

		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(p, "n"))
			n += v->valueint;
	}
	check(n == 200 * 1000 * 7);
	page_free(&page);
	g_string_free(s, TRUE);
}

/* cJSON's other trees: malloc'd, cJSON_Delete'd, before and after a page. */
static gpointer other_trees(gpointer arg)
{
	cJSON *t = cJSON_Parse("{\"a\":[1,\"two\",{\"b\":null}]}");
	char *text;

	(void)arg;
	check(t);
	cJSON_AddStringToObject(t, "c", "d");
	text = cJSON_PrintUnformatted(t);
	check(text && strstr(text, "\"c\":\"d\""));
	free(text);
	cJSON_Delete(t);
	return NULL;
}

static void test_other_trees(void)
{
	struct page page;
	GThread *thread;

	other_trees(NULL);
	check(parse("{\"data\":{\"results\":[{\"id\":\"a\"}]}}", &page) == 0);
	other_trees(NULL);
	thread = g_thread_new("other", other_trees, NULL);
	g_thread_join(thread);
	page_free(&page);
	other_trees(NULL);
}

int main(void)
{
	test_envelope();
	test_refused();
	test_large_pages();
	test_other_trees();
	printf("test_page: OK\n");
	return 0;
}
