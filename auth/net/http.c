/*
 * http.c - one HTTP exchange with libcurl, bounded in size and time.
 *
 * Handles and threads
 * -------------------
 * libcurl easy handles must never be used by two threads at once, but making
 * one per request throws away connections. So each thread owns one easy handle,
 * made on its first request and kept in a pthread key whose destructor frees it
 * when the thread exits; the handle is reset before every request, which keeps
 * its connection cache but forgets the previous request's options.
 *
 * What the handle keeps is what makes requests cheap: its connection stays
 * open between requests (nothing here asks curl to forbid reuse or to open a
 * fresh connection), the first request of a thread pays for a TLS handshake
 * and later ones do not. HTTP/2 is asked for over TLS and used when the server
 * offers it through ALPN, HTTP/1.1 otherwise; bodies may come compressed in
 * any encoding curl can decode, and the size limit applies to the decoded body.
 *
 * The only state shared between threads is one CURLSH that shares the DNS cache
 * and TLS session IDs (never connections, see libcurl-thread(3)), so a thread's
 * first connection resumes the TLS session another thread made. libcurl calls
 * back into http_share_lock()/http_share_unlock() around every access to it;
 * those take one mutex per kind of shared data, so a DNS lookup on one thread
 * never waits for a TLS resumption on another. Everything here is created by
 * http_global_init() before any thread exists and destroyed by
 * http_global_cleanup() after the other threads are gone, so the globals
 * themselves need no lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <glib.h>

#include "auth/base/clock.h"
#include "auth/net/http.h"

#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_TIMEOUT_DEFAULT_MS 60000L
#define HTTP_LOW_SPEED_TIME_S 30L
#define HTTP_BODY_INITIAL 16384u

static CURLSH *http_share;
static pthread_key_t http_handle_key;
/* one per curl_lock_data kind; each protects that kind of shared data */
static pthread_mutex_t http_share_locks[CURL_LOCK_DATA_LAST];

/* What the write and header callbacks of one transfer fill in. */
struct http_sink {
	CURL *handle;
	char *body;
	size_t len;
	size_t cap;
	size_t max;
	bool too_big;
	long retry_after;
	long rate_remaining;
	long rate_reset;
};

static void http_share_lock(CURL *handle, curl_lock_data data,
			    curl_lock_access access, void *userptr)
{
	(void)handle;
	(void)access;
	(void)userptr;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&http_share_locks[data]);
}

static void http_share_unlock(CURL *handle, curl_lock_data data, void *userptr)
{
	(void)handle;
	(void)userptr;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&http_share_locks[data]);
}

static void http_handle_destroy(void *handle)
{
	curl_easy_cleanup(handle);
}

static int http_share_create(void)
{
	CURLSH *share = curl_share_init();

	if (!share)
		return -ENOMEM;
	if (curl_share_setopt(share, CURLSHOPT_LOCKFUNC, http_share_lock) ||
	    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, http_share_unlock) ||
	    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION)) {
		curl_share_cleanup(share);
		return -EIO;
	}
	http_share = share;
	return 0;
}

int http_global_init(void)
{
	int err;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&http_share_locks[i], NULL);
	err = -pthread_key_create(&http_handle_key, http_handle_destroy);
	if (err)
		goto out_global_cleanup;
	err = http_share_create();
	if (err)
		goto out_delete_key;
	return 0;

out_delete_key:
	pthread_key_delete(http_handle_key);
out_global_cleanup:
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&http_share_locks[i]);
	curl_global_cleanup();
	return err;
}

/* Call after every other thread that used http_perform() has exited. */
void http_global_cleanup(void)
{
	CURL *handle;

	if (!http_share)
		return;
	/* key destructors do not run for the thread that calls exit() */
	handle = pthread_getspecific(http_handle_key);
	curl_easy_cleanup(handle);
	pthread_setspecific(http_handle_key, NULL);
	pthread_key_delete(http_handle_key);
	curl_share_cleanup(http_share);
	http_share = NULL;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&http_share_locks[i]);
	curl_global_cleanup();
}

static CURL *http_thread_handle(void)
{
	CURL *handle = pthread_getspecific(http_handle_key);

	if (handle) {
		curl_easy_reset(handle);
		return handle;
	}
	handle = curl_easy_init();
	if (!handle)
		return NULL;
	if (pthread_setspecific(http_handle_key, handle) != 0) {
		curl_easy_cleanup(handle);
		return NULL;
	}
	return handle;
}

/*
 * Grow the body buffer to hold need bytes plus a NUL, wiping the old one.
 * The first is as large as the body the headers announce (within max), so
 * that a large answer is not copied and wiped on its way in.
 */
static int http_sink_reserve(struct http_sink *sink, size_t need)
{
	size_t cap = sink->cap;
	curl_off_t announced = -1;
	char *body;

	if (!cap) {
		if (curl_easy_getinfo(sink->handle,
				      CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				      &announced) == CURLE_OK &&
		    announced > (curl_off_t)need &&
		    (uint64_t)announced <= sink->max)
			need = (size_t)announced;
		cap = MAX(HTTP_BODY_INITIAL, need + 1);
	}
	while (cap < need + 1)
		cap *= 2;
	if (cap == sink->cap)
		return 0;
	body = malloc(cap);
	if (!body)
		return -ENOMEM;
	if (sink->body) {
		memcpy(body, sink->body, sink->len);
		explicit_bzero(sink->body, sink->len);
		free(sink->body);
	}
	sink->body = body;
	sink->cap = cap;
	return 0;
}

static size_t http_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_sink *sink = userp;
	size_t n = size * nmemb;

	if (n > sink->max - sink->len) {
		sink->too_big = true;
		return 0;
	}
	if (http_sink_reserve(sink, sink->len + n))
		return 0;
	memcpy(sink->body + sink->len, data, n);
	sink->len += n;
	sink->body[sink->len] = '\0';
	return n;
}

/* A non-negative decimal header value, or -1. */
static long http_parse_seconds(const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0' || v < 0)
		return -1;
	return v;
}

static long http_parse_retry_after(const char *value)
{
	long v = http_parse_seconds(value);
	time_t when;

	if (v >= 0)
		return v;
	when = curl_getdate(value, NULL);
	if (when < 0)
		return -1;
	v = (long)(when - clock_wall_ms() / 1000);
	return v > 0 ? v : 0;
}

static bool http_header_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && g_ascii_strncasecmp(name, want, len) == 0;
}

static void http_header_field(struct http_sink *sink, const char *name,
			      size_t name_len, const char *value)
{
	if (http_header_is(name, name_len, "Retry-After"))
		sink->retry_after = http_parse_retry_after(value);
	else if (http_header_is(name, name_len, "X-RateLimit-Remaining"))
		sink->rate_remaining = http_parse_seconds(value);
	else if (http_header_is(name, name_len, "X-RateLimit-Reset"))
		sink->rate_reset = http_parse_seconds(value);
}

/* A header's value without the blanks around it, as a new string. */
static char *http_header_value(const char *start, const char *end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && strchr(" \t\r\n", end[-1]))
		end--;
	return g_strndup(start, (gsize)(end - start));
}

/*
 * Called once per header line, CRLF included, not NUL-terminated. A status
 * line starts a new response (after a 100 Continue, say): forget what the
 * previous one said.
 */
static size_t http_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_sink *sink = userp;
	size_t n = size * nmemb;
	const char *colon;
	char *value;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		sink->retry_after = sink->rate_remaining = sink->rate_reset = -1;
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	value = http_header_value(colon + 1, data + n);
	http_header_field(sink, data, (size_t)(colon - data), value);
	g_free(value);
	return n;
}

static int http_set_method(CURL *h, const struct http_request *req)
{
	bool post = strcmp(req->method, "POST") == 0;
	CURLcode rc = CURLE_OK;

	if (req->body || post) {
		/* an empty POST still sends Content-Length: 0 */
		rc |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				       (curl_off_t)(req->body ? req->body_len : 0));
		rc |= curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				       req->body ? req->body : "");
		if (!post)
			rc |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					       req->method);
	} else if (strcmp(req->method, "HEAD") == 0) {
		rc |= curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") != 0) {
		rc |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	}
	return rc == CURLE_OK ? 0 : -EINVAL;
}

/* Headers may carry tokens: wipe them before they go back to the heap. */
static void http_headers_free(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

static int http_headers_build(const char *const *headers,
			      struct curl_slist **out)
{
	/* never wait for 100 Continue: the body is small and already here */
	struct curl_slist *list = curl_slist_append(NULL, "Expect:");

	for (size_t i = 0; list && headers && headers[i]; i++) {
		struct curl_slist *next = curl_slist_append(list, headers[i]);

		if (!next) {
			http_headers_free(list);
			list = NULL;
		}
		list = next;
	}
	if (!list)
		return -ENOMEM;
	*out = list;
	return 0;
}

static int http_set_limits(CURL *h, const struct http_request *req,
			   struct http_sink *sink)
{
	long timeout = req->timeout_ms > 0 ? req->timeout_ms
					   : HTTP_TIMEOUT_DEFAULT_MS;
	CURLcode rc = CURLE_OK;

	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			       req->connect_timeout_ms > 0 ? req->connect_timeout_ms
							   : HTTP_CONNECT_TIMEOUT_MS);
	rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	rc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
			       req->stall_timeout_s > 0 ? req->stall_timeout_s
							: HTTP_LOW_SPEED_TIME_S);
	rc |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
			       (curl_off_t)sink->max);
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	return rc == CURLE_OK ? 0 : -EINVAL;
}

static int http_set_options(CURL *h, const struct http_request *req,
			    struct http_sink *sink, struct curl_slist *headers,
			    char *errbuf)
{
	CURLcode rc = CURLE_OK;

	rc |= curl_easy_setopt(h, CURLOPT_SHARE, http_share);
	rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	rc |= curl_easy_setopt(h, CURLOPT_URL, req->url);
	rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	rc |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
			       (long)CURL_HTTP_VERSION_2TLS);
	rc |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERDATA, sink);
	if (req->ca_file)
		rc |= curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
	if (rc != CURLE_OK)
		return -EINVAL;
	if (http_set_limits(h, req, sink))
		return -EINVAL;
	return http_set_method(h, req);
}

/* The one place a transport failure becomes an errno. */
static int http_curl_errno(CURLcode rc, const struct http_sink *sink)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return -EPROTO;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_WRITE_ERROR:
		return sink->too_big ? -EFBIG : -ENOMEM;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void http_sink_free(struct http_sink *sink)
{
	if (sink->body) {
		/* what was written; the rest of a buffer made for the body the
		 * headers announced may never have been touched */
		explicit_bzero(sink->body, sink->len);
		free(sink->body);
	}
}

static void http_fail(struct http_response *resp, int err, CURLcode rc,
		      const char *errbuf)
{
	const char *text = strerror(-err);

	if (errbuf && errbuf[0])
		text = errbuf;
	else if (rc != CURLE_OK)
		text = curl_easy_strerror(rc);
	memset(resp, 0, sizeof(*resp));
	/* one line: curl's messages sometimes end in a newline */
	resp->error = g_strndup(text, strcspn(text, "\r\n"));
}

static int http_collect(CURL *h, struct http_sink *sink,
			struct http_response *resp)
{
	long status = 0;

	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    status <= 0)
		return -EIO;
	if (!sink->body && http_sink_reserve(sink, 0))
		return -ENOMEM;
	sink->body[sink->len] = '\0';
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	resp->body = sink->body;
	resp->body_len = sink->len;
	resp->retry_after = sink->retry_after;
	resp->rate_remaining = sink->rate_remaining;
	resp->rate_reset = sink->rate_reset;
	sink->body = NULL;
	return 0;
}

int http_perform(const struct http_request *req, struct http_response *resp)
{
	struct http_sink sink = {
		.max = req->max_body ? req->max_body : HTTP_MAX_BODY_DEFAULT,
		.retry_after = -1, .rate_remaining = -1, .rate_reset = -1,
	};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURLcode rc = CURLE_OK;
	CURL *h;
	int err;

	if (!req->method || !req->url || !http_share) {
		http_fail(resp, -EINVAL, CURLE_OK, NULL);
		return -EINVAL;
	}
	h = http_thread_handle();
	if (!h) {
		http_fail(resp, -ENOMEM, CURLE_OK, NULL);
		return -ENOMEM;
	}
	sink.handle = h;
	err = http_headers_build(req->headers, &headers);
	if (err)
		goto out_free_sink;
	err = http_set_options(h, req, &sink, headers, errbuf);
	if (err)
		goto out_free_headers;
	/* the call trace is the callers' (auth/api): they know what is secret */
	rc = curl_easy_perform(h);
	err = http_curl_errno(rc, &sink);
	if (!err)
		err = http_collect(h, &sink, resp);
out_free_headers:
	/* the handle outlives this call: leave it no pointer into our stack */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	http_headers_free(headers);
out_free_sink:
	http_sink_free(&sink);
	if (err)
		http_fail(resp, err, rc, errbuf);
	return err;
}

void http_response_free(struct http_response *resp)
{
	if (!resp)
		return;
	if (resp->body) {
		explicit_bzero(resp->body, resp->body_len);
		free(resp->body);
	}
	g_free(resp->error);
	memset(resp, 0, sizeof(*resp));
}

char *http_escape(const char *s)
{
	char *escaped, *copy;

	if (!s)
		return NULL;
	escaped = curl_easy_escape(NULL, s, 0);
	if (!escaped)
		return NULL;
	copy = strdup(escaped);
	explicit_bzero(escaped, strlen(escaped));
	curl_free(escaped);
	return copy;
}
