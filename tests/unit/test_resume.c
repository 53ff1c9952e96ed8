/*
 * test_resume.c - resume points: how pages move them and what a restart
 * asks for (fs/sync/resume.c).
 */
#include "check.h"
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "fs/sync/resume.h"

/* A page of profiles "id@time", e.g. "a@5 b@5 c@7". */
static cJSON *page(const char *spec)
{
	cJSON *results = cJSON_CreateArray(), *p;
	char **items = g_strsplit(spec, " ", -1);
	char **it, *at;

	for (it = items; *it && **it; it++) {
		at = strchr(*it, '@');
		check(at);
		*at = '\0';
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "id", *it);
		cJSON_AddNumberToObject(p, "modifiedTime", g_ascii_strtod(at + 1,
					NULL));
		cJSON_AddItemToArray(results, p);
	}
	g_strfreev(items);
	return results;
}

static void advance(struct resume *at, bool by_id, const char *spec)
{
	cJSON *results = page(spec);

	resume_advance(at, by_id, results);
	cJSON_Delete(results);
}

static bool is(const struct resume *at, enum resume_phase phase, int64_t ms,
	       const char *after)
{
	return at->phase == phase && at->ms == ms &&
	       g_strcmp0(at->after, after) == 0;
}

/* Pages sorted by time: several times move to the newest; one time, to
 * its tie group read by id. */
static void test_pages_by_time(void)
{
	struct resume at = { RESUME_GTE, -1, NULL };

	advance(&at, false, "b@1 a@2 c@3 d@3");
	check(is(&at, RESUME_GTE, 3, NULL));
	advance(&at, false, "e@3 f@3 g@3");	/* the group at 3 fills a page */
	check(is(&at, RESUME_TIES, 3, NULL));
	advance(&at, false, "h@3 i@3");
	check(is(&at, RESUME_TIES, 3, NULL));
	advance(&at, false, "");
	check(is(&at, RESUME_TIES, 3, NULL));
	advance(&at, false, "j@3 k@4");
	check(is(&at, RESUME_GTE, 4, NULL));
	advance(&at, false, "z@9 y@9");
	check(is(&at, RESUME_TIES, 9, NULL));
	resume_clear(&at);
}

/* Pages sorted by id end at their last id, whatever its value. */
static void test_pages_by_id(void)
{
	struct resume at = { RESUME_GTE, -1, NULL };

	resume_set(&at, RESUME_TIES, 7, NULL);
	advance(&at, true, "a@7 c@7 b@7");
	check(is(&at, RESUME_TIES, 7, "b"));
	advance(&at, true, "");
	check(is(&at, RESUME_TIES, 7, "b"));
	resume_clear(&at);
}

/* From the incremental sync's point, a page all at its time keeps the id:
 * those pages only hold ids above it. */
static void test_after(void)
{
	struct resume at = { RESUME_GTE, -1, NULL }, other = at;

	resume_set(&at, RESUME_AFTER, 5, "m");
	advance(&at, false, "x@5 q@5");
	check(is(&at, RESUME_TIES, 5, "m"));
	resume_set(&at, RESUME_AFTER, 5, "m");
	advance(&at, false, "x@6");
	check(is(&at, RESUME_TIES, 6, NULL));
	resume_set(&other, RESUME_TIES, 6, NULL);
	check(resume_same(&at, &other));
	resume_set(&other, RESUME_TIES, 6, "a");
	check(!resume_same(&at, &other));
	resume_clear(&at);
	resume_clear(&other);
}

static void check_query(enum resume_phase phase, int64_t ms,
			const char *after, int64_t to, const char *want)
{
	struct resume at = { RESUME_GTE, -1, NULL };
	char *body;

	resume_set(&at, phase, ms, after);
	body = resume_query(&at, to, 10);
	if (strcmp(body, want) != 0)
		fprintf(stderr, "got  %s\nwant %s\n", body, want);
	check(strcmp(body, want) == 0);
	cJSON_free(body);
	resume_clear(&at);
}

#define BY_TIME "\"sorts\":[{\"key\":\"modifiedTime\",\"order\":\"ASC\"}]," \
		"\"page\":{\"start\":0,\"size\":10}}"
#define BY_ID "\"sorts\":[{\"key\":\"id\",\"order\":\"ASC\"}]," \
	      "\"page\":{\"start\":0,\"size\":10}}"
#define LEAF(type, key, value) \
	"{\"type\":\"" type "\",\"key\":\"" key "\",\"values\":[" value "]}"

/* Times go as JSON numbers; ids as strings. */
static void test_queries(void)
{
	check_query(RESUME_GTE, -1, NULL, -1, "{" BY_TIME);
	check_query(RESUME_GTE, 1700000000000, NULL, 1800000000000,
		    "{\"filter\":{\"type\":\"AND\",\"filters\":["
		    LEAF("GTE", "modifiedTime", "1700000000000") ","
		    LEAF("LT", "modifiedTime", "1800000000000") "]}," BY_TIME);
	check_query(RESUME_GT, 5, NULL, -1,
		    "{\"filter\":{\"type\":\"AND\",\"filters\":["
		    LEAF("GT", "modifiedTime", "5") "]}," BY_TIME);
	check_query(RESUME_TIES, 5, "ab", -1,
		    "{\"filter\":{\"type\":\"AND\",\"filters\":["
		    "{\"type\":\"AND\",\"filters\":["
		    LEAF("EQUALS", "modifiedTime", "5") ","
		    LEAF("GT", "id", "\"ab\"") "]}]}," BY_ID);
	check_query(RESUME_AFTER, 5, "ab", -1,
		    "{\"filter\":{\"type\":\"AND\",\"filters\":["
		    "{\"type\":\"OR\",\"filters\":["
		    "{\"type\":\"AND\",\"filters\":["
		    LEAF("EQUALS", "modifiedTime", "5") ","
		    LEAF("GT", "id", "\"ab\"") "]},"
		    LEAF("GT", "modifiedTime", "5") "]}]}," BY_TIME);
	check_query(RESUME_AFTER, 5, NULL, -1,
		    "{\"filter\":{\"type\":\"AND\",\"filters\":["
		    LEAF("GTE", "modifiedTime", "5") "]}," BY_TIME);
}

int main(void)
{
	test_pages_by_time();
	test_pages_by_id();
	test_after();
	test_queries();
	return 0;
}
