/*
 * fuzz_tokens.c - the token endpoint's answer (API §2): oauth_parse_tokens()
 * on any bytes. A success must hand back both tokens and a non-negative
 * lifetime; a failure must leave the output untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/oauth/oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_tokens t = { .expires_in = -7 };

	if (oauth_parse_tokens((const char *)data, size, &t) < 0) {
		if (t.access_token || t.refresh_token || t.expires_in != -7)
			abort();
		return 0;
	}
	if (!t.access_token || !t.refresh_token || t.expires_in < 0)
		abort();
	oauth_tokens_clear(&t);
	return 0;
}
