/*
 * resume.c - resume points that always move.
 *
 * Why not a modifiedTime alone
 *
 * A listing asks for the profiles sorted by modifiedTime and follows the
 * cursors; a cursor keeps its search's order, whatever it is. But a restart
 * (a cursor expired, which is the normal case once the quota makes a big
 * listing wait an hour; a crash; the next incremental sync) is a new search,
 * and the contract says nothing about the order of profiles that share a
 * modifiedTime. A bulk import gives thousands of profiles one modifiedTime,
 * more than a page. Restarting with "modifiedTime >= t" inside such a tie
 * group returns the group's first page again, in the new search's order,
 * possibly the same page forever; "> t" skips the rest of the group.
 *
 * What a resume point is
 *
 * A set of profiles the listing has, described so the server can be asked
 * for the rest:
 *   GTE t   every profile with modifiedTime < t       rest: >= t, by time
 *   GT t    every profile with modifiedTime <= t      rest: > t, by time
 *   TIES t x  < t, and at t the ids up to x           rest: = t and id > x,
 *           sorted by id; then GT t
 *   AFTER t x the same set, the rest asked in one query sorted by time:
 *           (= t and id > x) or > t
 *
 * How pages move it
 *
 * A page sorted by time whose profiles span the times lo < hi: every
 * profile older than hi has been seen (the sort is trusted, only the order
 * of ties is not), but the ties at hi may go on: GTE hi. A page whose
 * profiles all share one time m: the group at m fills a page and a restart
 * with GTE m could return this very page; the point becomes TIES m, none of
 * its ids: the group is read again, by id. The largest id seen at m is no
 * resume point there: those ids came in tie order, and smaller ones may
 * still be missing. (From AFTER t x, a page all at t keeps x: those pages
 * only held ids above x.) A page sorted by id ends at its last id x: TIES
 * t x. When that search ends, the group is complete: GT t.
 *
 * So every page moves the point forward, or from GTE m to TIES m at the
 * same m, and a restart never repeats the previous one unless the server
 * does not move; then the listing stops ("cursor loop"). The cost, when
 * cursors expire after every page: a tie group larger than a page costs the
 * page by time that showed it plus its pages by id; a restart elsewhere
 * costs nothing but the failed call. While cursors live, nothing changes.
 *
 * The id order is the server's: x is the last id of a page the server
 * sorted, never compared here. The incremental sync's x is the largest id
 * the store holds at t, compared bytewise by SQLite; documented ids are hex
 * digits, which every order sorts alike.
 *
 * The incremental sync asks AFTER newest x: when nothing changed, one call
 * that returns nothing, however large the batch at the newest time. A
 * profile that the search index shows late comes with it when its
 * modifiedTime is newer than the newest stored, or equal with an id above
 * x; any other shows at the next full listing, or when read by id.
 *
 * A full listing commits its point with every page (state part.K.phase,
 * part.K.resume and the id, part.K.after), so a crash resumes where an
 * expired cursor would.
 */
#include <string.h>

#include <glib.h>

#include "fs/store/render.h"
#include "fs/sync/resume.h"

void resume_set(struct resume *at, enum resume_phase phase, int64_t ms,
		const char *after)
{
	char *copy = g_strdup(after);

	g_free(at->after);
	at->phase = phase;
	at->ms = ms;
	at->after = copy;
}

/* Accepts a point never set (all zero). */
void resume_clear(struct resume *at)
{
	g_free(at->after);
	at->after = NULL;
}

bool resume_same(const struct resume *a, const struct resume *b)
{
	return a->phase == b->phase && a->ms == b->ms &&
	       g_strcmp0(a->after, b->after) == 0;
}

/* Whether the rest is asked sorted by id (a tie group read again). */
bool resume_by_id(const struct resume *at)
{
	return at->phase == RESUME_TIES;
}

/* --- the query ------------------------------------------------------------- */

static cJSON *leaf(const char *type, const char *key, cJSON *value)
{
	cJSON *node = cJSON_CreateObject();

	cJSON_AddStringToObject(node, "type", type);
	cJSON_AddStringToObject(node, "key", key);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(node, "values"), value);
	return node;
}

/* Numbers stay JSON numbers: the API refuses "123" for a time. */
static cJSON *time_leaf(const char *type, int64_t ms)
{
	return leaf(type, "modifiedTime", cJSON_CreateNumber((double)ms));
}

static cJSON *group(const char *type, cJSON *first, cJSON *second)
{
	cJSON *node = cJSON_CreateObject();
	cJSON *filters;

	cJSON_AddStringToObject(node, "type", type);
	filters = cJSON_AddArrayToObject(node, "filters");
	cJSON_AddItemToArray(filters, first);
	if (second)
		cJSON_AddItemToArray(filters, second);
	return node;
}

/* The ties at t, with an id above after (unless NULL). */
static cJSON *ties_filter(int64_t ms, const char *after)
{
	cJSON *at_t = time_leaf("EQUALS", ms);

	if (!after)
		return at_t;
	return group("AND", at_t, leaf("GT", "id", cJSON_CreateString(after)));
}

/* What is not done yet, or NULL for everything. */
static cJSON *rest_filter(const struct resume *at)
{
	switch (at->phase) {
	case RESUME_GT:
		return time_leaf("GT", at->ms);
	case RESUME_TIES:
		return ties_filter(at->ms, at->after);
	case RESUME_AFTER:
		if (at->after)
			return group("OR", ties_filter(at->ms, at->after),
				     time_leaf("GT", at->ms));
		break;		/* none of the ties at t is done: GTE */
	case RESUME_GTE:
		break;
	}
	return at->ms >= 0 ? time_leaf("GTE", at->ms) : NULL;
}

/*
 * The search body for the rest below `to` (-1: no bound):
 * {"filter": AND(rest, modifiedTime < to), "sorts", "page"}.
 */
char *resume_query(const struct resume *at, int64_t to, int page_size)
{
	cJSON *root = cJSON_CreateObject(), *rest = rest_filter(at);
	cJSON *below = to >= 0 ? time_leaf("LT", to) : NULL, *sort, *page;
	char *text;

	if (rest || below)
		cJSON_AddItemToObject(root, "filter", rest ?
				      group("AND", rest, below) :
				      group("AND", below, NULL));
	sort = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "sorts"), sort);
	cJSON_AddStringToObject(sort, "key", resume_by_id(at) ? "id"
							    : "modifiedTime");
	cJSON_AddStringToObject(sort, "order", "ASC");
	page = cJSON_AddObjectToObject(root, "page");
	cJSON_AddNumberToObject(page, "start", 0);
	cJSON_AddNumberToObject(page, "size", page_size);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* --- moving it ------------------------------------------------------------- */

/* The oldest and newest modifiedTime of a page; false when it has none. */
static bool time_span(const cJSON *results, int64_t *lo, int64_t *hi)
{
	const cJSON *profile;
	bool any = false;
	int64_t t;

	cJSON_ArrayForEach(profile, results) {
		if (!render_int64(cJSON_GetObjectItemCaseSensitive(profile,
				  "modifiedTime"), &t))
			continue;
		if (!any || t < *lo)
			*lo = t;
		if (!any || t > *hi)
			*hi = t;
		any = true;
	}
	return any;
}

/* A page sorted by id: the group resumes after its last id. */
static void advance_by_id(struct resume *at, const cJSON *results)
{
	const cJSON *last = cJSON_GetArrayItem(results,
					       cJSON_GetArraySize(results) - 1);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(last, "id");

	if (cJSON_IsString(id))
		resume_set(at, RESUME_TIES, at->ms, id->valuestring);
}

/* After a page of the search asked by id or by time (see the essay). */
void resume_advance(struct resume *at, bool by_id, const cJSON *results)
{
	int64_t lo = 0, hi = 0;

	if (by_id) {
		advance_by_id(at, results);
		return;
	}
	if (!time_span(results, &lo, &hi))
		return;
	if (lo < hi)
		resume_set(at, RESUME_GTE, hi, NULL);
	else if (hi == at->ms && (at->phase == RESUME_AFTER ||
				  at->phase == RESUME_TIES))
		at->phase = RESUME_TIES;	/* still above the same id */
	else
		resume_set(at, RESUME_TIES, hi, NULL);
}
