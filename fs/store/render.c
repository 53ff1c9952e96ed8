/*
 * render.c - profile JSON as bytes.
 *
 * A profile file is cJSON's formatted print of the object the API returned
 * (printed here the way cJSON_Print does, see the printer),
 * plus a final newline: keys stay in API order, unknown fields stay, UTF-8
 * passes through as is, and the same object always gives the same bytes.
 * Integers print as integers, exactly up to 2^53 (cJSON's "%1.15g" would
 * round those of 16 digits), so only integers beyond 2^53, which cJSON
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
#include <math.h>
#include <string.h>

#include <glib.h>

#include "fs/store/render.h"

#define EXACT_UP_TO 9007199254740992.0	/* 2^53: doubles are exact below */

/*
 * The printer. It writes what cJSON_Print writes: an object's members one a
 * line, indented by tabs, "key":<tab>value; an array on one line, ", "
 * between elements; strings escaped as cJSON escapes them. It is ours, not
 * cJSON's, for two reasons: integers are printed exactly and without
 * printf and scanf (cJSON prints every number with "%1.15g" and reads it
 * back, the most of a listing's rendering), and it counts the whitespace it
 * adds, which gives the compact size without a second pass. Numbers that
 * are not such integers are printed by cJSON itself.
 */
struct printer {
	GString *out;
	size_t spaces;		/* bytes of formatting whitespace written */
};

/* An integer that a double holds exactly, -0 excepted (cJSON prints "-0"). */
static bool exact_integer(double v, long long *n)
{
	/* the range first: casting a larger double is undefined */
	if (!(v <= EXACT_UP_TO && v >= -EXACT_UP_TO) || v != (double)(long long)v)
		return false;
	if (v == 0 && signbit(v))
		return false;
	*n = (long long)v;
	return true;
}

static void put_integer(GString *out, long long n)
{
	char digits[24];
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n
				     : (unsigned long long)n;
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		digits[--i] = '-';
	g_string_append_len(out, digits + i, (gssize)(sizeof(digits) - i));
}

static int put_number(GString *out, const cJSON *node)
{
	long long n;
	char *text;

	if (exact_integer(node->valuedouble, &n)) {
		put_integer(out, n);
		return 0;
	}
	text = cJSON_PrintUnformatted(node);	/* the number alone */
	if (!text)
		return -ENOMEM;
	g_string_append(out, text);
	cJSON_free(text);
	return 0;
}

static void put_escape(GString *out, unsigned char c)
{
	char e;

	switch (c) {
	case '"':
	case '\\':
		e = (char)c;
		break;
	case '\b':
		e = 'b';
		break;
	case '\f':
		e = 'f';
		break;
	case '\n':
		e = 'n';
		break;
	case '\r':
		e = 'r';
		break;
	case '\t':
		e = 't';
		break;
	default:
		g_string_append_printf(out, "\\u%04x", c);
		return;
	}
	g_string_append_c(out, '\\');
	g_string_append_c(out, e);
}

static void put_string(GString *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t run;

	g_string_append_c(out, '"');
	while (*p) {
		for (run = 0; p[run] > 31 && p[run] != '"' && p[run] != '\\';)
			run++;
		g_string_append_len(out, (const char *)p, (gssize)run);
		p += run;
		if (*p)
			put_escape(out, *p++);
	}
	g_string_append_c(out, '"');
}

static void put_tabs(struct printer *pr, int n)
{
	int i;

	for (i = 0; i < n; i++)
		g_string_append_c(pr->out, '\t');
	pr->spaces += (size_t)n;
}

static int put_value(struct printer *pr, const cJSON *node, int depth);

static int put_array(struct printer *pr, const cJSON *node, int depth)
{
	const cJSON *e;
	int ret = 0;

	g_string_append_c(pr->out, '[');
	for (e = node->child; e && ret == 0; e = e->next) {
		ret = put_value(pr, e, depth + 1);
		if (e->next) {
			g_string_append(pr->out, ", ");
			pr->spaces++;
		}
	}
	g_string_append_c(pr->out, ']');
	return ret;
}

static int put_object(struct printer *pr, const cJSON *node, int depth)
{
	const cJSON *m;
	int ret = 0;

	g_string_append(pr->out, "{\n");
	pr->spaces++;
	for (m = node->child; m && ret == 0; m = m->next) {
		put_tabs(pr, depth + 1);
		put_string(pr->out, m->string);
		g_string_append(pr->out, ":\t");
		pr->spaces++;
		ret = put_value(pr, m, depth + 1);
		g_string_append(pr->out, m->next ? ",\n" : "\n");
		pr->spaces++;
	}
	put_tabs(pr, depth);
	g_string_append_c(pr->out, '}');
	return ret;
}

static int put_value(struct printer *pr, const cJSON *node, int depth)
{
	switch (node->type & 0xff) {
	case cJSON_NULL:
		g_string_append(pr->out, "null");
		return 0;
	case cJSON_False:
		g_string_append(pr->out, "false");
		return 0;
	case cJSON_True:
		g_string_append(pr->out, "true");
		return 0;
	case cJSON_Number:
		return put_number(pr->out, node);
	case cJSON_String:
		put_string(pr->out, node->valuestring);
		return 0;
	case cJSON_Raw:		/* never parsed; printed as is, like cJSON */
		if (!node->valuestring)
			return -EINVAL;
		g_string_append(pr->out, node->valuestring);
		return 0;
	case cJSON_Array:
		return put_array(pr, node, depth);
	case cJSON_Object:
		return put_object(pr, node, depth);
	default:
		return -EINVAL;
	}
}

int render_json_sized(const cJSON *item, char **data, size_t *size,
		      size_t *compact_size)
{
	struct printer pr = { .out = g_string_sized_new(4096) };
	int ret = item ? put_value(&pr, item, 0) : -EINVAL;
	char *out = NULL;

	if (ret == 0) {
		g_string_append_c(pr.out, '\n');
		out = malloc(pr.out->len + 1);
		ret = out ? 0 : -ENOMEM;
	}
	if (ret == 0) {
		memcpy(out, pr.out->str, pr.out->len + 1);
		*data = out;
		*size = pr.out->len;
		if (compact_size)
			*compact_size = pr.out->len - 1 - pr.spaces;
	}
	g_string_free(pr.out, TRUE);
	return ret;
}

int render_json(const cJSON *item, char **data, size_t *size)
{
	return render_json_sized(item, data, size, NULL);
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

	/* the usual page has none: one fast search instead of the scan */
	if (!memmem(json, len, "\\u0000", 6))
		return;
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
