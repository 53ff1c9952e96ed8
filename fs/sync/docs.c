/*
 * docs.c - fetch, render and cache the small documents of an environment.
 *
 * Concurrency: docs->lock is held while a document is checked and, when
 * stale, fetched; readers of the same environment's documents queue behind a
 * fetch and then find it cached (one call, shared). Callers get references
 * (GBytes) or copies (lists), never pointers into the cache.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/base/clock.h"
#include "fs/store/render.h"
#include "fs/sync/docs.h"

struct doc_source {
	const char *endpoint;
	const char *path;
	const char *field;	/* "data", or the bootstrap type */
	const char *key;	/* in the store */
};

static const struct doc_source sources[DOC_COUNT] = {
	[DOC_ME] = { "me", "/api/v2/me", "data", "me" },
	[DOC_WORKSPACES] = { "accessible-clients",
			     "/api/v2/client/accessible-clients", "data",
			     "workspaces" },
	[DOC_CUSTOM_FIELDS] = { "bootstrap",
		"/api/v1/bootstrap/resources?types=PROFILE_CUSTOM_FIELDS",
		"PROFILE_CUSTOM_FIELDS", "custom-fields" },
	[DOC_PARTNER_LISTS] = { "bootstrap",
		"/api/v1/bootstrap/resources?types=PARTNER_PROFILE_LISTS",
		"PARTNER_PROFILE_LISTS", "partner-lists" },
	[DOC_CLIENT_LISTS] = { "bootstrap",
		"/api/v1/bootstrap/resources?types=CLIENT_PROFILE_LISTS",
		"CLIENT_PROFILE_LISTS", "client-lists" },
};

struct doc {
	GBytes *json;		/* file content (me, workspaces, custom fields) */
	int64_t mtime_ms;
	double fetched_at;
	bool valid;
	bool loaded;		/* the store's copy was looked at */
	GArray *lists;		/* struct doc_list */
};

struct docs {
	struct remote *remote;
	struct store *store;
	const struct sync_hooks *hooks;
	double doc_ttl;
	pthread_mutex_t lock;		/* held across a fetch: single-flight */
	struct doc doc[DOC_COUNT];	/* protected by lock */
};

static void list_clear(gpointer p)
{
	struct doc_list *list = p;

	g_bytes_unref(list->json);
}

static GArray *lists_new(void)
{
	GArray *lists = g_array_new(FALSE, TRUE, sizeof(struct doc_list));

	g_array_set_clear_func(lists, list_clear);
	return lists;
}

struct docs *docs_new(struct remote *r, struct store *st, double doc_ttl,
		      const struct sync_hooks *hooks)
{
	struct docs *d = g_new0(struct docs, 1);

	d->remote = r;
	d->store = st;
	d->hooks = hooks;
	d->doc_ttl = doc_ttl;
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

/* Accepts NULL. */
void docs_free(struct docs *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < DOC_COUNT; i++) {
		if (d->doc[i].json)
			g_bytes_unref(d->doc[i].json);
		if (d->doc[i].lists)
			g_array_unref(d->doc[i].lists);
	}
	pthread_mutex_destroy(&d->lock);
	g_free(d);
}

static int64_t json_int(const cJSON *obj, const char *name)
{
	int64_t n;

	return render_int64(cJSON_GetObjectItemCaseSensitive(obj, name), &n) ? n
									    : 0;
}

/* A workspace id: a valid id string, or an integer; false when it is
 * neither or does not fit. */
static bool workspace_of(const cJSON *item, char *buf, size_t size)
{
	char *text = NULL;
	int64_t n;
	bool ok;

	if (cJSON_IsString(item))
		text = g_strdup(item->valuestring);
	else if (render_int64(item, &n))
		text = g_strdup_printf("%lld", (long long)n);
	ok = text && strlen(text) < size && item_id_valid(text);
	if (ok)
		memcpy(buf, text, strlen(text) + 1);
	g_free(text);
	return ok;
}

/* One list; a list with an unusable id or workspace is skipped. */
static int parse_list(const cJSON *obj, bool workspace, struct doc_list *out)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	char *data;
	size_t size;

	memset(out, 0, sizeof(*out));
	if (!render_int64(id, &out->id) || out->id < 0)
		return -EINVAL;
	if (workspace &&
	    !workspace_of(cJSON_GetObjectItemCaseSensitive(obj, "clientId"),
			  out->workspace, sizeof(out->workspace)))
		return -EINVAL;
	out->mtime_ms = json_int(obj, "modifiedTimeMillis");
	if (render_json(obj, &data, &size) < 0)
		return -ENOMEM;
	out->json = g_bytes_new_take(data, size);
	return 0;
}

static GArray *parse_lists(const cJSON *array, bool workspace)
{
	GArray *lists = lists_new();
	struct doc_list list;
	const cJSON *obj;

	cJSON_ArrayForEach(obj, array) {
		if (parse_list(obj, workspace, &list) == 0)
			g_array_append_val(lists, list);
	}
	return lists;
}

/* A document has no modifiedTime: its mtime is when these bytes first came. */
static void set_content(struct doc *doc, GBytes *json, double now)
{
	if (!doc->json || !g_bytes_equal(doc->json, json))
		doc->mtime_ms = clock_wall_ms() / 1000 * 1000;
	if (doc->json)
		g_bytes_unref(doc->json);
	doc->json = json;
	doc->fetched_at = now;
	doc->valid = true;
}

static void set_lists(struct doc *doc, GArray *lists, double now)
{
	if (doc->lists)
		g_array_unref(doc->lists);
	doc->lists = lists;
	doc->fetched_at = now;
	doc->valid = true;
}

/* The answer's field, or NULL when the answer is not usable. */
static const cJSON *doc_field(enum doc_kind kind, const cJSON *root)
{
	const cJSON *field = cJSON_GetObjectItemCaseSensitive(root,
							      sources[kind].field);
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");

	if (!field || (kind != DOC_ME && !cJSON_IsArray(field)) ||
	    cJSON_GetArraySize(errors) > 0)
		return NULL;
	return field;
}

static int parse_doc(enum doc_kind kind, char *body, size_t len,
		     struct doc *doc, double now)
{
	const cJSON *field;
	cJSON *root;
	char *data;
	size_t size;
	int res = -EIO;

	render_fix_nul_escapes(body, len);
	root = cJSON_ParseWithLength(body, len);
	field = doc_field(kind, root);
	if (!field)
		goto out_delete;
	if (kind == DOC_PARTNER_LISTS || kind == DOC_CLIENT_LISTS) {
		set_lists(doc, parse_lists(field, kind == DOC_CLIENT_LISTS),
			  now);
		res = 0;
		goto out_delete;
	}
	res = render_json(field, &data, &size);
	if (res == 0)
		set_content(doc, g_bytes_new_take(data, size), now);
out_delete:
	cJSON_Delete(root);
	return res;
}

/*
 * The first use in this process starts from the store: an answer fetched
 * by an earlier mount less than doc_ttl ago is served without a call, an
 * older one is what a failed refresh serves.
 */
static void load_stored(struct docs *d, enum doc_kind kind, struct doc *doc)
{
	int64_t fetched, mtime;
	double age;
	char *body;
	size_t len;

	if (doc->valid || doc->loaded)
		return;
	doc->loaded = true;
	if (store_doc_get(d->store, sources[kind].key, &body, &len, &fetched,
			  &mtime) < 0)
		return;
	age = (double)(clock_wall_ms() - fetched) / 1000;
	if (age < 0)
		age = d->doc_ttl;	/* from the future: not trusted */
	if (parse_doc(kind, body, len, doc, clock_now() - age) == 0)
		doc->mtime_ms = mtime;
	free(body);
}

/* A call for the document now; called with d->lock held. */
static int fetch_doc(struct docs *d, enum doc_kind kind)
{
	struct doc *doc = &d->doc[kind];
	double now = clock_now();
	struct api_reply reply;
	int res;

	res = remote_call(d->remote, NULL, sources[kind].endpoint, "GET",
			  sources[kind].path, NULL, &reply);
	if (res == 0) {
		res = parse_doc(kind, reply.body, reply.len, doc, now);
		if (res < 0)
			remote_note_error(d->remote, "%s: unusable answer from %s "
					  "(not JSON, wrong shape, or an errors "
					  "array)", remote_env(d->remote),
					  sources[kind].path);
	}
	/* kept for the next mount (its \u0000 escapes already rewritten) */
	if (res == 0)
		store_doc_set(d->store, sources[kind].key, reply.body,
			      reply.len, clock_wall_ms(), doc->mtime_ms);
	api_reply_free(&reply);
	return res;
}

/* Called with d->lock held. */
static int refresh_doc(struct docs *d, enum doc_kind kind)
{
	struct doc *doc = &d->doc[kind];

	load_stored(d, kind, doc);
	if (doc->valid && clock_now() - doc->fetched_at < d->doc_ttl)
		return 0;
	return fetch_doc(d, kind);
}

/* A transport failure keeps serving what was fetched before. */
static int serve_stale(const struct doc *doc, int res)
{
	if (doc->valid && (res == -EIO || res == -EAGAIN))
		return 0;
	return res;
}

int docs_get(struct docs *d, enum doc_kind kind, GBytes **json,
	     int64_t *mtime_ms)
{
	struct doc *doc = &d->doc[kind];
	int res;

	pthread_mutex_lock(&d->lock);
	res = serve_stale(doc, refresh_doc(d, kind));
	if (res == 0) {
		*json = g_bytes_ref(doc->json);
		*mtime_ms = doc->mtime_ms;
	}
	pthread_mutex_unlock(&d->lock);
	return res;
}

/* A copy of the lists (struct doc_list); g_array_unref it. */
int docs_lists(struct docs *d, enum doc_kind kind, GArray **lists)
{
	struct doc *doc = &d->doc[kind];
	struct doc_list list;
	GArray *copy;
	guint i;
	int res;

	pthread_mutex_lock(&d->lock);
	res = serve_stale(doc, refresh_doc(d, kind));
	if (res == 0) {
		copy = lists_new();
		for (i = 0; i < doc->lists->len; i++) {
			list = g_array_index(doc->lists, struct doc_list, i);
			g_bytes_ref(list.json);
			g_array_append_val(copy, list);
		}
		*lists = copy;
	}
	pthread_mutex_unlock(&d->lock);
	return res;
}

/*
 * Fetches again, now, every document that was fetched before (by this
 * mount or an earlier one): those nobody has looked at cost nothing. All
 * are tried; the first failure is the answer, and a document that failed
 * keeps serving what it had.
 */
int docs_refresh(struct docs *d)
{
	int kind, res, first = 0;
	bool fetched = false;

	pthread_mutex_lock(&d->lock);
	for (kind = 0; kind < DOC_COUNT; kind++) {
		load_stored(d, kind, &d->doc[kind]);
		if (!d->doc[kind].valid)
			continue;
		res = fetch_doc(d, kind);
		fetched = fetched || res == 0;
		if (res < 0 && first == 0)
			first = res;
	}
	pthread_mutex_unlock(&d->lock);
	if (fetched && d->hooks && d->hooks->documents_changed)
		d->hooks->documents_changed(d->hooks->arg, remote_env(d->remote));
	return first;
}
