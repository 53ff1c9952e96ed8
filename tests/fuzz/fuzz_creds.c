/*
 * fuzz_creds.c - credentials read back from where they are kept (the keyring
 * item's secret or the credentials file): creds_from_json() on any bytes. What
 * parses must serialize with creds_to_json() and parse again to the same
 * credentials; a failure must leave the output untouched.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/creds/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_string(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool same_creds(const struct creds *a, const struct creds *b)
{
	return strcmp(a->env, b->env) == 0 &&
	       same_string(a->api_url, b->api_url) &&
	       same_string(a->ca_file, b->ca_file) &&
	       same_string(a->key, b->key) &&
	       same_string(a->secret, b->secret) &&
	       same_string(a->redirect_uri, b->redirect_uri) &&
	       same_string(a->access_token, b->access_token) &&
	       same_string(a->refresh_token, b->refresh_token) &&
	       same_string(a->user_name, b->user_name) &&
	       same_string(a->user_type, b->user_type) &&
	       a->expires_at == b->expires_at &&
	       a->refreshed_at == b->refreshed_at &&
	       a->needs_login == b->needs_login;
}

static void round_trip(const struct creds *c)
{
	struct creds again = { 0 };
	char *json = NULL;

	if (creds_to_json(c, &json) < 0)
		return;
	if (creds_from_json(json, strlen(json), &again) < 0 ||
	    !same_creds(c, &again))
		abort();
	creds_free_secret_string(json);
	creds_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct creds c = { .expires_at = -7 };

	if (creds_from_json((const char *)data, size, &c) < 0) {
		if (c.api_url || c.key || c.secret || c.expires_at != -7)
			abort();
		return 0;
	}
	round_trip(&c);
	creds_clear(&c);
	return 0;
}
