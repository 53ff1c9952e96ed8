/*
 * render.c - profile JSON as bytes.
 *
 * A profile file is cJSON's formatted print of the object the API returned,
 * plus a final newline: keys stay in API order, unknown fields stay, UTF-8
 * passes through as is, and the same object always gives the same bytes.
 * Integers print as integers. cJSON's "%1.15g" is exact up to 15 digits
 * (every epoch-ms time); larger integers up to 2^53 are printed here with
 * "%lld" instead (print_exact), so only integers beyond 2^53, which cJSON
 * already rounds when it parses them, can change.
 *
 * cJSON turns a \u0000 escape into a NUL that ends the C string, which would
 * cut content or make two ids alias; render_fix_nul_escapes() rewrites those
 * escapes to \uFFFD in the raw text before it is parsed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/store/render.h"

#define EXACT_FROM 1e15			/* "%1.15g" is exact below */
#define EXACT_UP_TO 9007199254740992.0	/* 2^53: doubles are exact below */

static bool inexact_integer(const cJSON *node)
{
	double v = node->valuedouble;

	/* the range first: casting a larger double is undefined */
	if (!cJSON_IsNumber(node) || !(v <= EXACT_UP_TO && v >= -EXACT_UP_TO))
		return false;
	return (v >= EXACT_FROM || v <= -EXACT_FROM) && v == (double)(long long)v;
}

static bool needs_exact(const cJSON *node)
{
	for (; node; node = node->next)
		if (inexact_integer(node) || needs_exact(node->child))
			return true;
	return false;
}

/* Turns such integers into raw nodes holding their exact digits. */
static int make_exact(cJSON *node)
{
	char digits[32];

	for (; node; node = node->next) {
		if (inexact_integer(node)) {
			snprintf(digits, sizeof(digits), "%lld",
				 (long long)node->valuedouble);
			node->valuestring = strdup(digits);
			if (!node->valuestring)
				return -ENOMEM;
			node->type = cJSON_Raw;
		}
		if (make_exact(node->child) < 0)
			return -ENOMEM;
	}
	return 0;
}

static char *print_exact(const cJSON *item)
{
	cJSON *copy;
	char *text = NULL;

	if (!inexact_integer(item) && !needs_exact(item->child))
		return cJSON_Print(item);
	copy = cJSON_Duplicate(item, true);
	if (copy && make_exact(copy) == 0)
		text = cJSON_Print(copy);
	cJSON_Delete(copy);
	return text;
}

int render_json(const cJSON *item, char **data, size_t *size)
{
	char *text, *out;
	size_t len;

	if (!item)
		return -EINVAL;
	text = print_exact(item);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	out = malloc(len + 2);
	if (!out) {
		cJSON_free(text);
		return -ENOMEM;
	}
	memcpy(out, text, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	cJSON_free(text);
	*data = out;
	*size = len + 1;
	return 0;
}

/* At json[i], just after a backslash inside a string: the escape's length. */
static size_t fix_escape(char *json, size_t len, size_t i)
{
	if (i >= len)
		return 0;
	if (json[i] == 'u' && len - i >= 5 && memcmp(json + i + 1, "0000", 4) == 0) {
		memcpy(json + i + 1, "FFFD", 4);
		return 5;
	}
	return 1;
}

void render_fix_nul_escapes(char *json, size_t len)
{
	bool in_string = false;
	size_t i = 0;

	while (i < len) {
		char c = json[i++];

		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c == '\\')
			i += fix_escape(json, len, i);
		else if (c == '"')
			in_string = false;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t render_compact(const char *data, size_t size, size_t from, size_t to,
		      char *out)
{
	bool in_string = false, escaped = false;
	size_t pos = 0, n = 0, i;

	for (i = 0; i < size && pos < to; i++) {
		char c = data[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (is_space(c)) {
			continue;
		} else if (c == '"') {
			in_string = true;
		}
		if (pos >= from) {
			if (out)
				out[n] = c;
			n++;
		}
		pos++;
	}
	return n;
}

bool render_int64(const cJSON *v, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	/* false for NaN and infinities too */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	if ((double)(int64_t)d != d)
		return false;
	*out = (int64_t)d;
	return true;
}

/* v if it is an array, else NULL (which iterates as empty). */
