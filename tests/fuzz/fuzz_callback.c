/*
 * fuzz_callback.c - the OAuth redirect as far as our code sees it. The HTTP
 * request itself is libmicrohttpd's to parse; what reaches us is a method, a
 * URL and the query arguments state, code and error, which cb_judge() turns
 * into a verdict. The redirect URI the listener serves comes from the user
 * or the stored credentials, so oauth_parse_redirect_uri() and
 * oauth_check_api_url() get the same input too.
 *
 * Input: lines "REDIRECT_URI\nMETHOD\nURL\nSTATE\nCODE\nERROR"; a missing line
 * is an absent argument (NULL). Checks: a code is only accepted on the
 * redirect path, by GET, with our state and no error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/oauth/callback.h"
#include "auth/oauth/oauth.h"

#define FIELDS 6
#define OUR_STATE "0123456789abcdef0123456789abcdef"
#define DEFAULT_PATH "/sprinklr/callback"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits text in place at newlines; fields past the last line stay NULL. */
static void split(char *text, char *field[FIELDS])
{
	char *p = text, *nl;
	int i;

	for (i = 0; i < FIELDS; i++)
		field[i] = NULL;
	for (i = 0; i < FIELDS && p; i++) {
		field[i] = p;
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		p = nl;
	}
}

static void judge(char *field[FIELDS], const char *path)
{
	enum cb_verdict v = cb_judge(field[1], field[2], path, OUR_STATE,
				     field[3], field[4], field[5]);

	if (v != CB_CODE && v != CB_REFUSED)
		return;
	if (!field[1] || strcmp(field[1], "GET") != 0 || !field[2] ||
	    strcmp(field[2], path) != 0 || !field[3] ||
	    strcmp(field[3], OUR_STATE) != 0)
		abort();
	if (v == CB_CODE && (!field[4] || !field[4][0] || field[5]))
		abort();
	if (v == CB_REFUSED && !field[5])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_redirect redirect = { 0 };
	char *text = malloc(size + 1);
	char *field[FIELDS];
	const char *path = DEFAULT_PATH;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	split(text, field);
	oauth_check_api_url(field[0]);
	if (oauth_parse_redirect_uri(field[0], &redirect) == 0) {
		if (!redirect.path || !redirect.host || redirect.port == 0)
			abort();
		path = redirect.path;
	}
	judge(field, path);
	oauth_redirect_clear(&redirect);
	free(text);
	return 0;
}
