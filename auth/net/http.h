/*
 * http.h - one HTTP exchange with libcurl, bounded in size and time.
 *
 * Each thread uses its own easy handle (made on first use, freed when the
 * thread exits); DNS and TLS sessions are shared between them, connections are
 * not (libcurl-thread(3)). http_global_init() runs once in main() before any
 * thread exists. The response body is wiped when freed: it may hold tokens.
 * http_perform() fills the response, on failure its error only; free it
 * with http_response_free() either way.
 */
#ifndef SPRINKLRFS_NET_HTTP_H
#define SPRINKLRFS_NET_HTTP_H

#include <stddef.h>

#define HTTP_MAX_BODY_DEFAULT (64u << 20)

struct http_request {
	const char *method;		/* "GET" or "POST" */
	const char *url;
	const char *const *headers;	/* NULL-terminated "Name: value" list */
	const char *body;		/* NULL: no body */
	size_t body_len;
	const char *ca_file;		/* NULL: the system's trust store */
	long timeout_ms;		/* whole transfer; 0: 60 s */
	long connect_timeout_ms;	/* 0: 10 s */
	long stall_timeout_s;		/* no byte for this long; 0: 30 s */
	size_t max_body;		/* 0: HTTP_MAX_BODY_DEFAULT */
};

struct http_response {
	long status;
	char *body;			/* NUL-terminated, body_len bytes before it */
	size_t body_len;
	long retry_after;		/* seconds, -1 when absent */
	long rate_remaining;		/* X-RateLimit-Remaining, -1 when absent */
	long rate_reset;		/* X-RateLimit-Reset (Unix s), -1 when absent */
	char *error;			/* transport error text, NULL on success */
};

int http_global_init(void);
void http_global_cleanup(void);
int http_perform(const struct http_request *req, struct http_response *resp);
void http_response_free(struct http_response *resp);
char *http_escape(const char *s);

#endif
