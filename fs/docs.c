/*
 * docs.c - fetch, render and cache the small documents of an environment.
 *
 * Concurrency: docs->lock is held while a document is checked and, when
 * stale, fetched; readers of the same environment's documents queue behind a
 * fetch and then find it cached (one call, shared). Callers get references
 * (blobs) or copies (lists), never pointers into the cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "docs.h"
#include "env.h"
#include "index.h"

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

void docs_init(struct docs *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
}

void docs_lists_free(struct doc_list *lists, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		blob_unref(lists[i].json);
	free(lists);
}

static void doc_clear(struct doc *doc)
{
	blob_unref(doc->json);
	docs_lists_free(doc->lists, doc->n_lists);
	memset(doc, 0, sizeof(*doc));
}

void docs_destroy(struct docs *d)
{
	int i;

	for (i = 0; i < DOC_COUNT; i++)
		doc_clear(&d->doc[i]);
	pthread_mutex_destroy(&d->lock);
}

static int64_t json_int(const cJSON *obj, const char *name)
{
	int64_t n;

	return render_int64(cJSON_GetObjectItemCaseSensitive(obj, name), &n) ? n
									    : 0;
}

static void json_key(const cJSON *item, char *buf, size_t size)
{
	int64_t n;

	if (cJSON_IsString(item))
		snprintf(buf, size, "%s", item->valuestring);
	else if (render_int64(item, &n))
		snprintf(buf, size, "%lld", (long long)n);
	else
		buf[0] = '\0';
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
	if (workspace) {
		json_key(cJSON_GetObjectItemCaseSensitive(obj, "clientId"),
			 out->workspace, sizeof(out->workspace));
		if (!idx_id_valid(out->workspace))
			return -EINVAL;
	}
	out->mtime_ms = json_int(obj, "modifiedTimeMillis");
	if (render_json(obj, &data, &size) < 0)
		return -ENOMEM;
	out->json = blob_take(data, size);
	return out->json ? 0 : -ENOMEM;
}

static int parse_lists(const cJSON *array, bool workspace, struct doc *doc)
{
	size_t n = (size_t)cJSON_GetArraySize(array);
	struct doc_list *lists = calloc(n ? n : 1, sizeof(*lists));
	const cJSON *obj;
	size_t used = 0;

	if (!lists)
		return -ENOMEM;
	cJSON_ArrayForEach(obj, array) {
		if (parse_list(obj, workspace, &lists[used]) == 0)
			used++;
	}
	doc->lists = lists;
	doc->n_lists = used;
	return 0;
}

/* A document has no modifiedTime: its mtime is when these bytes first came. */
static void set_content(struct doc *doc, struct blob *json, double now)
{
	bool same = doc->json && doc->json->size == json->size &&
		    memcmp(doc->json->data, json->data, json->size) == 0;

	if (!same)
		doc->mtime_ms = (int64_t)time(NULL) * 1000;
	blob_unref(doc->json);
	doc->json = json;
	doc->fetched_at = now;
	doc->valid = true;
}

static int parse_doc(enum doc_kind kind, char *body, size_t len,
		     struct doc *doc, double now)
{
	cJSON *root, *field;
	struct doc fresh = { 0 };
	char *data;
	size_t size;
	int res = -EIO;

	render_fix_nul_escapes(body, len);
	root = cJSON_ParseWithLength(body, len);
	field = cJSON_GetObjectItemCaseSensitive(root, sources[kind].field);
	if (!field || (kind != DOC_ME && !cJSON_IsArray(field)) ||
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root,
								"errors")) > 0)
		goto out_delete;
	if (kind == DOC_PARTNER_LISTS || kind == DOC_CLIENT_LISTS) {
		res = parse_lists(field, kind == DOC_CLIENT_LISTS, &fresh);
		if (res == 0) {
			docs_lists_free(doc->lists, doc->n_lists);
			doc->lists = fresh.lists;
			doc->n_lists = fresh.n_lists;
			doc->fetched_at = now;
			doc->valid = true;
		}
		goto out_delete;
	}
	res = render_json(field, &data, &size);
	if (res == 0) {
		struct blob *json = blob_take(data, size);

		res = json ? 0 : -ENOMEM;
		if (json)
			set_content(doc, json, now);
	}
out_delete:
	cJSON_Delete(root);
	return res;
}

/*
 * The first use in this process starts from the store: an answer fetched
 * by an earlier mount less than ttl ago is served without a call, an older
 * one is what a failed refresh serves.
 */
static void load_stored(struct fs_env *e, enum doc_kind kind, struct doc *doc)
{
	int64_t fetched, mtime;
	double age;
	char *body;
	size_t len;

	if (doc->valid || doc->loaded)
		return;
	doc->loaded = true;
	if (idx_doc_get(e->idx, sources[kind].key, &body, &len, &fetched,
			&mtime) < 0)
		return;
	age = (double)(env_wall_ms() - fetched) / 1000;
	if (age < 0)
		age = e->fs->opts.ttl;	/* from the future: not trusted */
	if (parse_doc(kind, body, len, doc, env_now() - age) == 0)
		doc->mtime_ms = mtime;
	free(body);
}

/* Called with docs.lock held. */
static int refresh_doc(struct fs_env *e, enum doc_kind kind)
{
	struct doc *doc = &e->docs.doc[kind];
	double now = env_now();
	struct api_reply reply;
	int res;

	load_stored(e, kind, doc);
	if (doc->valid && now - doc->fetched_at < e->fs->opts.ttl)
		return 0;
	res = env_call(e, sources[kind].endpoint, "GET", sources[kind].path,
		       NULL, &reply);
	if (res == 0) {
		res = parse_doc(kind, reply.body, reply.len, doc, now);
		if (res < 0)
			env_note_error(e, "%s: unusable answer from %s (not JSON, "
				       "wrong shape, or an errors array)",
				       e->name, sources[kind].path);
	}
	/* kept for the next mount (its \u0000 escapes already rewritten) */
	if (res == 0)
		idx_doc_set(e->idx, sources[kind].key, reply.body, reply.len,
			    env_wall_ms(), doc->mtime_ms);
	api_reply_free(&reply);
	return res;
}

/* A transport failure keeps serving what was fetched before. */
static int serve_stale(const struct doc *doc, int res)
{
	if (doc->valid && (res == -EIO || res == -EAGAIN))
		return 0;
	return res;
}

int docs_get(struct fs_env *e, enum doc_kind kind, struct blob **json,
	     int64_t *mtime_ms)
{
	struct doc *doc = &e->docs.doc[kind];
	int res;

	pthread_mutex_lock(&e->docs.lock);
	res = serve_stale(doc, refresh_doc(e, kind));
	if (res == 0) {
		*json = blob_ref(doc->json);
		*mtime_ms = doc->mtime_ms;
	}
	pthread_mutex_unlock(&e->docs.lock);
	return res;
}

int docs_lists(struct fs_env *e, enum doc_kind kind, struct doc_list **lists,
	       size_t *n)
{
	struct doc *doc = &e->docs.doc[kind];
	struct doc_list *copy;
	size_t i;
	int res;

	pthread_mutex_lock(&e->docs.lock);
	res = serve_stale(doc, refresh_doc(e, kind));
	if (res < 0)
		goto out_unlock;
	copy = calloc(doc->n_lists ? doc->n_lists : 1, sizeof(*copy));
	res = -ENOMEM;
	if (!copy)
		goto out_unlock;
	for (i = 0; i < doc->n_lists; i++) {
		copy[i] = doc->lists[i];
		blob_ref(copy[i].json);
	}
	*lists = copy;
	*n = doc->n_lists;
	res = 0;
out_unlock:
	pthread_mutex_unlock(&e->docs.lock);
	return res;
}
