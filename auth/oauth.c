/*
 * oauth.c - authorize URL, token grants and the token endpoint's answers.
 *
 * Form bodies and token responses carry secrets; every buffer that held one
 * is wiped before it is freed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include <glib.h>

#include "auth/net/answer.h"
#include "auth/net/endpoint.h"
#include "auth/net/http.h"
#include "oauth.h"

static int url_part(CURLU *u, CURLUPart part, char *buf, size_t size)
{
	char *s = NULL;
	int res = -EINVAL;

	if (curl_url_get(u, part, &s, CURLU_DEFAULT_PORT) != CURLUE_OK)
		return -EINVAL;
	if (strlen(s) < size) {
		snprintf(buf, size, "%s", s);
		res = 0;
	}
	curl_free(s);
	return res;
}

static int parse_url(const char *url, char *scheme, size_t scheme_size,
		     char *host, size_t host_size, char *port, size_t port_size,
		     char *path, size_t path_size)
{
	CURLU *u = curl_url();
	int res = -ENOMEM;

	if (!u)
		return res;
	res = -EINVAL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out_free;
	if (url_part(u, CURLUPART_SCHEME, scheme, scheme_size) < 0 ||
	    url_part(u, CURLUPART_HOST, host, host_size) < 0 ||
	    url_part(u, CURLUPART_PORT, port, port_size) < 0 ||
	    url_part(u, CURLUPART_PATH, path, path_size) < 0)
		goto out_free;
	res = 0;
out_free:
	curl_url_cleanup(u);
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

/* The redirect URI must be http on a loopback host: we listen there. */
int oauth_parse_redirect_uri(const char *uri, struct oauth_redirect *out)
{
	struct oauth_redirect r;
	char scheme[16], port[16];
	char *end;
	long n;

	if (parse_url(uri, scheme, sizeof(scheme), r.host, sizeof(r.host), port,
		      sizeof(port), r.path, sizeof(r.path)) < 0)
		return -EINVAL;
	strip_brackets(r.host);
	if (strcmp(scheme, "http") != 0 || !is_loopback(r.host))
		return -EINVAL;
	n = strtol(port, &end, 10);
	if (*end || n < 1 || n > 65535)
		return -EINVAL;
	r.port = (unsigned short)n;
	*out = r;
	return 0;
}

/* https, or http to a loopback host (a local test server). */
int oauth_check_api_url(const char *url)
{
	char scheme[16], host[256], port[16], path[1024];

	if (parse_url(url, scheme, sizeof(scheme), host, sizeof(host), port,
		      sizeof(port), path, sizeof(path)) < 0)
		return -EINVAL;
	strip_brackets(host);
	if (strcmp(scheme, "https") == 0)
		return 0;
	if (strcmp(scheme, "http") == 0 && is_loopback(host))
		return 0;
	return -EINVAL;
}

int oauth_new_state(char *buf, size_t size)
{
	unsigned char raw[16];
	size_t i;

	if (size < 2 * sizeof(raw) + 1)
		return -ENOSPC;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* Appends "name=escaped(value)" to a form body, '&'-separated. */
static int form_add(char **form, size_t *len, const char *name,
		    const char *value)
{
	char *esc = http_escape(value ? value : "");
	size_t add, need;
	char *grown;

	if (!esc)
		return -ENOMEM;
	add = strlen(name) + 1 + strlen(esc) + (*len ? 1 : 0);
	need = *len + add + 1;
	grown = malloc(need);
	if (!grown) {
		explicit_bzero(esc, strlen(esc));
		free(esc);
		return -ENOMEM;
	}
	snprintf(grown, need, "%s%s%s=%s", *form ? *form : "",
		 *len ? "&" : "", name, esc);
	if (*form) {
		explicit_bzero(*form, *len);
		free(*form);
	}
	explicit_bzero(esc, strlen(esc));
	free(esc);
	*form = grown;
	*len += add;
	return 0;
}

int oauth_authorize_url(const struct creds *c, const char *state, char **url)
{
	char *base = NULL;
	char *query = NULL;
	size_t len = 0;
	int res;

	res = ep_url(c->api_url, c->env, "/oauth/authorize", &base);
	if (res < 0)
		return res;
	if (form_add(&query, &len, "client_id", c->key) < 0 ||
	    form_add(&query, &len, "response_type", "code") < 0 ||
	    form_add(&query, &len, "redirect_uri", c->redirect_uri) < 0 ||
	    form_add(&query, &len, "state", state) < 0) {
		free(query);
		g_free(base);
		return -ENOMEM;
	}
	*url = g_strconcat(base, "?", query, NULL);
	free(query);
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

static int token_request(const struct creds *c, const char *grant,
			 const char *field, const char *value,
			 struct oauth_tokens *t, char *why, size_t why_size)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json",
		NULL,
	};
	struct http_request req = { .method = "POST", .headers = headers,
				    .ca_file = c->ca_file, .max_body = 1 << 20 };
	struct http_response resp = { 0 };
	char *url = NULL;
	char *form = NULL;
	size_t len = 0;
	int res;

	res = ep_url(c->api_url, c->env, "/oauth/token", &url);
	if (res < 0)
		return res;
	if (form_add(&form, &len, "client_id", c->key) < 0 ||
	    form_add(&form, &len, "client_secret", c->secret) < 0 ||
	    form_add(&form, &len, "redirect_uri", c->redirect_uri) < 0 ||
	    form_add(&form, &len, "grant_type", grant) < 0 ||
	    form_add(&form, &len, field, value) < 0) {
		res = -ENOMEM;
		goto out_wipe;
	}
	req.url = url;
	req.body = form;
	req.body_len = len;
	res = http_perform(&req, &resp);
	if (res < 0) {
		snprintf(why, why_size, "%s", resp.error);
		http_response_free(&resp);
		goto out_wipe;
	}
	res = answer_token_errno(resp.status, resp.body);
	if (res == 0) {
		res = oauth_parse_tokens(resp.body, resp.body_len, t);
		if (res < 0)
			snprintf(why, why_size, "unreadable answer from the token endpoint");
	} else {
		snprintf(why, why_size, "the token endpoint answered HTTP %ld",
			 resp.status);
	}
	http_response_free(&resp);
out_wipe:
	if (form) {
		explicit_bzero(form, len);
		free(form);
	}
	g_free(url);
	return res;
}

int oauth_exchange_code(const struct creds *c, const char *code,
			struct oauth_tokens *t, char *why, size_t why_size)
{
	return token_request(c, "authorization_code", "code", code, t, why,
			     why_size);
}

int oauth_refresh(const struct creds *c, struct oauth_tokens *t, char *why,
		  size_t why_size)
{
	return token_request(c, "refresh_token", "refresh_token",
			     c->refresh_token, t, why, why_size);
}
