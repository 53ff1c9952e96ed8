/*
 * oauth.c - authorize URL, token grants and the token endpoint's answers.
 *
 * Form bodies and token responses carry secrets; every buffer that held one
 * is wiped before it is freed. A form is built from its escaped parts with
 * g_strjoinv(), which sizes the result before it copies, so no partial copy
 * of a secret is left behind by a growing buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <glib.h>

#include "auth/base/msg.h"
#include "auth/base/secret.h"
#include "auth/net/answer.h"
#include "auth/net/endpoint.h"
#include "auth/net/http.h"
#include "auth/oauth/oauth.h"

/* The parts of a URL we look at, g_free'd by url_parts_clear(). */
struct url_parts {
	char *scheme;
	char *host;
	char *port;
	char *path;
};

static char *url_part(CURLU *u, CURLUPart part)
{
	char *s = NULL, *copy;

	if (curl_url_get(u, part, &s, CURLU_DEFAULT_PORT) != CURLUE_OK)
		return NULL;
	copy = g_strdup(s);
	curl_free(s);
	return copy;
}

static void url_parts_clear(struct url_parts *p)
{
	g_free(p->scheme);
	g_free(p->host);
	g_free(p->port);
	g_free(p->path);
	memset(p, 0, sizeof(*p));
}

static int url_split(const char *url, struct url_parts *p)
{
	CURLU *u = curl_url();
	int res = -EINVAL;

	if (!u)
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		p->scheme = url_part(u, CURLUPART_SCHEME);
		p->host = url_part(u, CURLUPART_HOST);
		p->port = url_part(u, CURLUPART_PORT);
		p->path = url_part(u, CURLUPART_PATH);
		if (p->scheme && p->host && p->port && p->path)
			res = 0;
	}
	curl_url_cleanup(u);
	if (res)
		url_parts_clear(p);
	return res;
}

static void strip_brackets(char *host)
{
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
}

static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static int parse_port(const char *text, unsigned short *port)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (*end || n < 1 || n > 65535)
		return -EINVAL;
	*port = (unsigned short)n;
	return 0;
}

/* The redirect URI must be http on a loopback host: we listen there. */
int oauth_parse_redirect_uri(const char *uri, struct oauth_redirect *out)
{
	struct url_parts p;
	unsigned short port;
	int res = url_split(uri, &p);

	if (res < 0)
		return -EINVAL;
	strip_brackets(p.host);
	if (strcmp(p.scheme, "http") != 0 || !is_loopback(p.host) ||
	    parse_port(p.port, &port) < 0) {
		url_parts_clear(&p);
		return -EINVAL;
	}
	out->host = p.host;
	out->port = port;
	out->path = p.path;
	p.host = p.path = NULL;
	url_parts_clear(&p);
	return 0;
}

void oauth_redirect_clear(struct oauth_redirect *r)
{
	g_free(r->host);
	g_free(r->path);
	memset(r, 0, sizeof(*r));
}

/* https, or http to a loopback host (a local test server). */
int oauth_check_api_url(const char *url)
{
	struct url_parts p;
	int res = url_split(url, &p);

	if (res < 0)
		return -EINVAL;
	strip_brackets(p.host);
	if (strcmp(p.scheme, "https") != 0 &&
	    !(strcmp(p.scheme, "http") == 0 && is_loopback(p.host)))
		res = -EINVAL;
	url_parts_clear(&p);
	return res;
}

/* 16 random bytes in hex: the state that ties a callback to our login. */
int oauth_new_state(char state[OAUTH_STATE_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[(OAUTH_STATE_SIZE - 1) / 2];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (i = 0; i < sizeof(raw); i++) {
		state[2 * i] = hex[raw[i] >> 4];
		state[2 * i + 1] = hex[raw[i] & 0xf];
	}
	state[2 * i] = '\0';
	return 0;
}

/* A form body or query string: its "name=escaped(value)" parts. */
static GPtrArray *form_new(void)
{
	return g_ptr_array_new_with_free_func(secret_free);
}

static int form_add(GPtrArray *form, const char *name, const char *value)
{
	char *esc = http_escape(value ? value : "");

	if (!esc)
		return -ENOMEM;
	g_ptr_array_add(form, g_strconcat(name, "=", esc, NULL));
	explicit_bzero(esc, strlen(esc));
	free(esc);
	return 0;
}

/* The parts joined by '&' (free with secret_free()); frees the parts. */
static char *form_finish(GPtrArray *form)
{
	char *text;

	g_ptr_array_add(form, NULL);
	text = g_strjoinv("&", (char **)form->pdata);
	g_ptr_array_unref(form);
	return text;
}

/* *url is the caller's: free it with g_free(). */
int oauth_authorize_url(const struct creds *c, const char *state, char **url)
{
	GPtrArray *query;
	char *base = NULL, *text;
	int res = ep_url(c->api_url, c->env, "/oauth/authorize", &base);

	if (res < 0)
		return res;
	query = form_new();
	if (form_add(query, "client_id", c->key) < 0 ||
	    form_add(query, "response_type", "code") < 0 ||
	    form_add(query, "redirect_uri", c->redirect_uri) < 0 ||
	    form_add(query, "state", state) < 0) {
		g_ptr_array_unref(query);
		g_free(base);
		return -ENOMEM;
	}
	text = form_finish(query);
	*url = g_strconcat(base, "?", text, NULL);
	secret_free(text);
	g_free(base);
	return 0;
}

/*
 * A token lifetime: a non-negative number or numeric string. Lifetimes over
 * OAUTH_LIFETIME_MAX (some tenants get years) are capped there, so that an
 * expiry time always fits where it is stored.
 */
static int64_t json_seconds(const cJSON *item)
{
	double v;
	char *end;

	if (cJSON_IsString(item) && item->valuestring[0]) {
		errno = 0;
		v = strtod(item->valuestring, &end);
		if (*end || errno)
			return -1;
	} else if (cJSON_IsNumber(item)) {
		v = item->valuedouble;
	} else {
		return -1;
	}
	if (!(v >= 0))
		return -1;
	return v > OAUTH_LIFETIME_MAX ? OAUTH_LIFETIME_MAX : (int64_t)v;
}

static char *json_token(const cJSON *root, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!cJSON_IsString(item) || !item->valuestring[0])
		return NULL;
	return strdup(item->valuestring);
}

static void wipe_json_strings(cJSON *node)
{
	for (; node; node = node->next) {
		if (cJSON_IsString(node) && node->valuestring)
			explicit_bzero(node->valuestring, strlen(node->valuestring));
		wipe_json_strings(node->child);
	}
}

/* expires_in may be a JSON number or a numeric string (API §2.2). */
int oauth_parse_tokens(const char *body, size_t len, struct oauth_tokens *t)
{
	struct oauth_tokens n = { 0 };
	cJSON *root = cJSON_ParseWithLength(body, len);
	int res = -EPROTO;

	if (!cJSON_IsObject(root))
		goto out_delete;
	n.expires_in = json_seconds(cJSON_GetObjectItemCaseSensitive(root,
								    "expires_in"));
	n.access_token = json_token(root, "access_token");
	n.refresh_token = json_token(root, "refresh_token");
	if (n.expires_in < 0 || !n.access_token || !n.refresh_token) {
		oauth_tokens_clear(&n);
		goto out_delete;
	}
	*t = n;
	res = 0;
out_delete:
	if (root)
		wipe_json_strings(root);
	cJSON_Delete(root);
	return res;
}

void oauth_tokens_clear(struct oauth_tokens *t)
{
	creds_free_secret_string(t->access_token);
	creds_free_secret_string(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

/* The form of a grant (API §2.2); free it with secret_free(). */
static char *token_form(const struct creds *c, const char *grant,
			const char *field, const char *value)
{
	GPtrArray *form = form_new();

	if (form_add(form, "client_id", c->key) < 0 ||
	    form_add(form, "client_secret", c->secret) < 0 ||
	    form_add(form, "redirect_uri", c->redirect_uri) < 0 ||
	    form_add(form, "grant_type", grant) < 0 ||
	    form_add(form, field, value) < 0) {
		g_ptr_array_unref(form);
		return NULL;
	}
	return form_finish(form);
}

static int token_answer(const struct http_response *resp,
			struct oauth_tokens *t, char **why)
{
	int res = answer_token_errno(resp->status, resp->body);

	if (res < 0) {
		msg_set(why, "the token endpoint answered HTTP %ld%s",
			resp->status,
			answer_refusal_note(resp->status, resp->body));
		return res;
	}
	res = oauth_parse_tokens(resp->body, resp->body_len, t);
	if (res < 0)
		msg_set(why, "unreadable answer from the token endpoint");
	return res;
}

static int token_request(const struct creds *c, const char *grant,
			 const char *field, const char *value,
			 struct oauth_tokens *t, char **why)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json",
		NULL,
	};
	struct http_request req = { .method = "POST", .headers = headers,
				    .ca_file = c->ca_file, .max_body = 1 << 20 };
	struct http_response resp = { 0 };
	char *url = NULL, *form;
	int res = ep_url(c->api_url, c->env, "/oauth/token", &url);

	if (res < 0)
		return res;
	form = token_form(c, grant, field, value);
	if (!form) {
		g_free(url);
		return -ENOMEM;
	}
	req.url = url;
	req.body = form;
	req.body_len = strlen(form);
	res = http_perform(&req, &resp);
	if (res < 0)
		msg_set(why, "%s", msg_text(resp.error));
	else
		res = token_answer(&resp, t, why);
	http_response_free(&resp);
	secret_free(form);
	g_free(url);
	return res;
}

int oauth_exchange_code(const struct creds *c, const char *code,
			struct oauth_tokens *t, char **why)
{
	return token_request(c, "authorization_code", "code", code, t, why);
}

int oauth_refresh(const struct creds *c, struct oauth_tokens *t, char **why)
{
	return token_request(c, "refresh_token", "refresh_token",
			     c->refresh_token, t, why);
}
