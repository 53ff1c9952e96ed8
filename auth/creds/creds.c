/*
 * creds.c - the credentials of one environment and their JSON form.
 *
 * The JSON is an object with "version": 1, the strings of struct creds, the two
 * times as integer Unix seconds and "needs_login". Parsing is strict about
 * types and about the fields that every stored environment has, and ignores
 * keys it does not know. Every string that passes through here may be a
 * secret, so the cJSON trees and the printed text are wiped before they are
 * freed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/creds/creds.h"

#define CREDS_VERSION 1
/* 2^53: every integer below it is exact in a double */
#define CREDS_INT_MAX 9007199254740992.0

struct creds_field {
	const char *name;
	size_t offset;
	bool required;
};

static const struct creds_field creds_strings[] = {
	{ "api_url",       offsetof(struct creds, api_url),       true },
	{ "ca_file",       offsetof(struct creds, ca_file),       false },
	{ "key",           offsetof(struct creds, key),           true },
	{ "secret",        offsetof(struct creds, secret),        true },
	{ "redirect_uri",  offsetof(struct creds, redirect_uri),  true },
	{ "access_token",  offsetof(struct creds, access_token),  false },
	{ "refresh_token", offsetof(struct creds, refresh_token), false },
	{ "user_name",     offsetof(struct creds, user_name),     false },
	{ "user_type",     offsetof(struct creds, user_type),     false },
};

#define CREDS_NSTRINGS (sizeof(creds_strings) / sizeof(creds_strings[0]))

static char **creds_slot(struct creds *c, const struct creds_field *f)
{
	return (char **)((char *)c + f->offset);
}

static char *const *creds_slot_const(const struct creds *c,
				     const struct creds_field *f)
{
	return (char *const *)((const char *)c + f->offset);
}

void creds_free_secret_string(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void creds_clear(struct creds *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CREDS_NSTRINGS; i++)
		creds_free_secret_string(*creds_slot(c, &creds_strings[i]));
	explicit_bzero(c, sizeof(*c));
}

/* The object is flat: wipe every string value before it is freed. */
static void creds_wipe_tree(cJSON *root)
{
	cJSON *item;

	cJSON_ArrayForEach(item, root) {
		if (cJSON_IsString(item) && item->valuestring)
			explicit_bzero(item->valuestring,
				       strlen(item->valuestring));
	}
}

static int creds_add_strings(cJSON *root, const struct creds *c)
{
	for (size_t i = 0; i < CREDS_NSTRINGS; i++) {
		const struct creds_field *f = &creds_strings[i];
		const char *value = *creds_slot_const(c, f);

		if (!value) {
			if (f->required)
				return -EINVAL;
			continue;
		}
		if (!cJSON_AddStringToObject(root, f->name, value))
			return -ENOMEM;
	}
	return 0;
}

static int creds_build(cJSON *root, const struct creds *c)
{
	if (!ep_env_valid(c->env))
		return -EINVAL;
	if (!cJSON_AddNumberToObject(root, "version", CREDS_VERSION) ||
	    !cJSON_AddStringToObject(root, "env", c->env) ||
	    !cJSON_AddNumberToObject(root, "expires_at", (double)c->expires_at) ||
	    !cJSON_AddNumberToObject(root, "refreshed_at",
				     (double)c->refreshed_at) ||
	    !cJSON_AddBoolToObject(root, "needs_login", c->needs_login))
		return -ENOMEM;
	return creds_add_strings(root, c);
}

/*
 * An upper bound of the printed size: a character becomes at most six
 * ("\u001f"), numbers and punctuation fit in the slack. Printing into a buffer
 * we own means no copy of a secret is left behind by a realloc.
 */
static size_t creds_print_bound(const struct creds *c)
{
	size_t size = 512 + 6 * strlen(c->env);

	for (size_t i = 0; i < CREDS_NSTRINGS; i++) {
		const char *value = *creds_slot_const(c, &creds_strings[i]);

		size += 32 + 6 * (value ? strlen(value) : 0);
	}
	return size;
}

static int creds_print(cJSON *root, const struct creds *c, char **json)
{
	size_t size = creds_print_bound(c);
	char *buf = malloc(size);

	if (!buf)
		return -ENOMEM;
	if (!cJSON_PrintPreallocated(root, buf, (int)size, false)) {
		explicit_bzero(buf, size);
		free(buf);
		return -ENOMEM;
	}
	*json = buf;
	return 0;
}

/* *json is the caller's; free it with creds_free_secret_string(). */
int creds_to_json(const struct creds *c, char **json)
{
	cJSON *root = cJSON_CreateObject();
	int err;

	if (!root)
		return -ENOMEM;
	err = creds_build(root, c);
	if (!err)
		err = creds_print(root, c, json);
	creds_wipe_tree(root);
	cJSON_Delete(root);
	return err;
}

static int creds_get_string(const cJSON *root, const struct creds_field *f,
			    struct creds *c)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, f->name);
	char *copy;

	if (!item || cJSON_IsNull(item))
		return f->required ? -EINVAL : 0;
	if (!cJSON_IsString(item) || !item->valuestring)
		return -EINVAL;
	if (f->required && item->valuestring[0] == '\0')
		return -EINVAL;
	copy = strdup(item->valuestring);
	if (!copy)
		return -ENOMEM;
	*creds_slot(c, f) = copy;
	return 0;
}

/* An integral JSON number within ±2^53; absent means 0. */
static int creds_get_int(const cJSON *root, const char *name, int64_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
	double v;

	if (!item)
		return 0;
	if (!cJSON_IsNumber(item))
		return -EINVAL;
	v = item->valuedouble;
	if (!(v >= -CREDS_INT_MAX && v <= CREDS_INT_MAX) ||
	    (double)(int64_t)v != v)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int creds_get_env(const cJSON *root, struct creds *c)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "env");

	if (!cJSON_IsString(item) || !ep_env_valid(item->valuestring))
		return -EINVAL;
	snprintf(c->env, sizeof(c->env), "%s", item->valuestring);
	return 0;
}

static int creds_get_scalars(const cJSON *root, struct creds *c)
{
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
	const cJSON *needs = cJSON_GetObjectItemCaseSensitive(root,
							      "needs_login");

	if (!cJSON_IsNumber(version) || version->valuedouble != CREDS_VERSION)
		return -EINVAL;
	if (needs && !cJSON_IsBool(needs))
		return -EINVAL;
	c->needs_login = cJSON_IsTrue(needs);
	if (creds_get_int(root, "expires_at", &c->expires_at) ||
	    creds_get_int(root, "refreshed_at", &c->refreshed_at))
		return -EINVAL;
	return creds_get_env(root, c);
}

/* A key given twice is ambiguous: which one did the writer mean? */
static bool creds_has_duplicates(const cJSON *root)
{
	for (const cJSON *a = root->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (a->string && b->string &&
			    strcmp(a->string, b->string) == 0)
				return true;
	return false;
}

static int creds_from_tree(const cJSON *root, struct creds *c)
{
	int err;

	if (!cJSON_IsObject(root) || creds_has_duplicates(root))
		return -EINVAL;
	err = creds_get_scalars(root, c);
	for (size_t i = 0; !err && i < CREDS_NSTRINGS; i++)
		err = creds_get_string(root, &creds_strings[i], c);
	return err;
}

/* Returns 0, -EINVAL for anything malformed, or -ENOMEM; *c untouched on failure. */
int creds_from_json(const char *json, size_t len, struct creds *c)
{
	struct creds parsed = { 0 };
	cJSON *root;
	int err;

	if (!json)
		return -EINVAL;
	root = cJSON_ParseWithLength(json, len);
	if (!root)
		return -EINVAL;
	err = creds_from_tree(root, &parsed);
	creds_wipe_tree(root);
	cJSON_Delete(root);
	if (err) {
		creds_clear(&parsed);
		return err;
	}
	*c = parsed;
	explicit_bzero(&parsed, sizeof(parsed));
	return 0;
}

/* A deep copy; dst is overwritten (not cleared) on success, untouched on failure. */
int creds_copy(const struct creds *src, struct creds *dst)
{
	struct creds copy = *src;

	for (size_t i = 0; i < CREDS_NSTRINGS; i++)
		*creds_slot(&copy, &creds_strings[i]) = NULL;
	for (size_t i = 0; i < CREDS_NSTRINGS; i++) {
		const struct creds_field *f = &creds_strings[i];
		const char *value = *creds_slot_const(src, f);

		if (!value)
			continue;
		*creds_slot(&copy, f) = strdup(value);
		if (!*creds_slot(&copy, f)) {
			creds_clear(&copy);
			return -ENOMEM;
		}
	}
	*dst = copy;
	explicit_bzero(&copy, sizeof(copy));
	return 0;
}
