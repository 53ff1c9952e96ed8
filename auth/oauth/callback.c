/*
 * callback.c - receive the OAuth redirect on a loopback port (libmicrohttpd).
 *
 * Concurrency: each listening socket has one libmicrohttpd daemon running its
 * own polling thread, which calls on_request(). on_request() and cb_wait()
 * meet in struct cb_server: the first acceptable callback fills the result
 * under `lock`; later requests find `finished` set and get the "already done"
 * page. That request's connection is marked (con_cls), and on_completed()
 * signals `done` once its page has gone out, so cb_close() cannot cut the
 * browser's answer short. cb_close() stops the daemons before freeing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <microhttpd.h>

#include "auth/base/clock.h"
#include "auth/base/msg.h"
#include "auth/creds/creds.h"
#include "auth/oauth/callback.h"

#define CB_MAX_CODE 4096
/* the provider's error= is shown to people: its first bytes are enough */
#define CB_MAX_PROVIDER_ERROR 100

struct cb_server {
	struct MHD_Daemon *daemons[2];
	char *path;
	char *state;
	pthread_mutex_t lock;
	pthread_cond_t done;	/* monotonic (clock_cond_init) */
	int finished;		/* protected by lock */
	int delivered;		/* protected by lock: its page went out */
	char *code;		/* protected by lock */
	char *provider_error;	/* protected by lock */
};

static const char page_ok[] =
	"<!doctype html><title>sprinklrfs</title>"
	"<p>sprinklrfs received the authorization. "
	"You can close this tab and go back to the terminal.</p>\n";
static const char page_refused[] =
	"<!doctype html><title>sprinklrfs</title>"
	"<p>Sprinklr did not grant access. "
	"Go back to the terminal for details.</p>\n";
static const char page_not_found[] =
	"<!doctype html><title>sprinklrfs</title>"
	"<p>This is not the sprinklrfs login callback.</p>\n";
static const char page_bad_state[] =
	"<!doctype html><title>sprinklrfs</title>"
	"<p>This login link does not belong to the running "
	"<code>sprinklrfs auth login</code>; start the login again from "
	"the terminal.</p>\n";
static const char page_no_code[] =
	"<!doctype html><title>sprinklrfs</title>"
	"<p>The callback carries no authorization code.</p>\n";
static const char page_done[] =
	"<!doctype html><title>sprinklrfs</title>"
	"<p>The login is already complete; go back to the terminal.</p>\n";

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned int status,
			      const char *page)
{
	struct MHD_Response *resp;
	enum MHD_Result res;

	resp = MHD_create_response_from_buffer(strlen(page), (void *)page,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	res = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return res;
}

static int same_state(const char *a, const char *b)
{
	size_t len = strlen(b);
	unsigned char diff = 0;
	size_t i;

	if (!a || strlen(a) != len)
		return 0;
	for (i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static int code_acceptable(const char *code)
{
	size_t len = code ? strnlen(code, CB_MAX_CODE + 1) : 0;
	size_t i;

	if (len == 0 || len > CB_MAX_CODE)
		return 0;
	for (i = 0; i < len; i++)
		if (code[i] <= ' ' || code[i] == 0x7f)
			return 0;
	return 1;
}

/* Records the outcome once; returns the page for this request. */
static const char *settle(struct cb_server *srv, const char *code,
			  const char *error, unsigned int *status,
			  void **con_cls)
{
	const char *page = page_done;

	pthread_mutex_lock(&srv->lock);
	if (!srv->finished) {
		*con_cls = srv;
		if (error) {
			srv->provider_error = g_strndup(error,
							CB_MAX_PROVIDER_ERROR);
			page = page_refused;
			*status = MHD_HTTP_FORBIDDEN;
		} else {
			srv->code = strdup(code);
			page = page_ok;
		}
		srv->finished = 1;
	}
	pthread_mutex_unlock(&srv->lock);
	return page;
}

enum cb_verdict cb_judge(const char *method, const char *url,
			 const char *path, const char *our_state,
			 const char *state, const char *code,
			 const char *error)
{
	if (!method || !url || strcmp(method, "GET") != 0 ||
	    strcmp(url, path) != 0)
		return CB_NOT_FOUND;
	if (!same_state(state, our_state))
		return CB_BAD_STATE;
	if (error)
		return CB_REFUSED;
	return code_acceptable(code) ? CB_CODE : CB_NO_CODE;
}

static const char *arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct cb_server *srv = cls;
	unsigned int status = MHD_HTTP_OK;
	const char *code = arg(conn, "code"), *error = arg(conn, "error");
	const char *page;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	switch (cb_judge(method, url, srv->path, srv->state, arg(conn, "state"),
			 code, error)) {
	case CB_NOT_FOUND:
		return answer(conn, MHD_HTTP_NOT_FOUND, page_not_found);
	case CB_BAD_STATE:
		return answer(conn, MHD_HTTP_BAD_REQUEST, page_bad_state);
	case CB_NO_CODE:
		return answer(conn, MHD_HTTP_BAD_REQUEST, page_no_code);
	default:
		page = settle(srv, code, error, &status, con_cls);
		return answer(conn, status, page);
	}
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct cb_server *srv = cls;

	(void)conn;
	(void)toe;
	if (*con_cls != srv)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->delivered = 1;
	pthread_cond_broadcast(&srv->done);
	pthread_mutex_unlock(&srv->lock);
}

static int bind_socket(int family, const char *addr, unsigned short port,
		       int *fd_out)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int one = 1;
	int fd, err;

	if (family == AF_INET) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &in4->sin_addr);
		len = sizeof(*in4);
	} else {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

static struct MHD_Daemon *start_daemon(struct cb_server *srv, int fd)
{
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
				on_request, srv,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
				MHD_OPTION_END);
}

/* "localhost" gets both loopback addresses; IPv6 is best effort there. */
static int listen_all(struct cb_server *srv, const struct oauth_redirect *r)
{
	int localhost = strcmp(r->host, "localhost") == 0;
	int v6 = !localhost && strchr(r->host, ':') != NULL;
	int fd, res;

	res = bind_socket(v6 ? AF_INET6 : AF_INET,
			  localhost ? "127.0.0.1" : r->host, r->port, &fd);
	if (res < 0)
		return res;
	srv->daemons[0] = start_daemon(srv, fd);
	if (!srv->daemons[0]) {
		close(fd);
		return -EIO;
	}
	if (localhost && bind_socket(AF_INET6, "::1", r->port, &fd) == 0) {
		srv->daemons[1] = start_daemon(srv, fd);
		if (!srv->daemons[1])
			close(fd);
	}
	return 0;
}

int cb_listen(const struct oauth_redirect *redirect, const char *state,
	      struct cb_server **out)
{
	struct cb_server *srv = g_new0(struct cb_server, 1);
	int res;

	srv->path = g_strdup(redirect->path);
	srv->state = g_strdup(state);
	pthread_mutex_init(&srv->lock, NULL);
	clock_cond_init(&srv->done);
	res = listen_all(srv, redirect);
	if (res < 0) {
		cb_close(srv);
		return res;
	}
	*out = srv;
	return 0;
}

/*
 * Returns 0 with the code, -ETIMEDOUT, or -EACCES when the provider answered
 * with an error (its name in *why).
 */
int cb_wait(struct cb_server *srv, int timeout_s, char **code, char **why)
{
	double deadline = clock_now() + timeout_s;
	int res = 0;

	pthread_mutex_lock(&srv->lock);
	while (!srv->delivered && res == 0)
		res = clock_cond_wait(&srv->done, &srv->lock, deadline);
	if (!srv->finished) {
		res = -ETIMEDOUT;
	} else if (srv->provider_error && srv->provider_error[0]) {
		msg_set(why, "%s", srv->provider_error);
		res = -EACCES;
	} else if (!srv->code) {
		res = -ENOMEM;
	} else {
		*code = srv->code;
		srv->code = NULL;
		res = 0;
	}
	pthread_mutex_unlock(&srv->lock);
	return res;
}

void cb_close(struct cb_server *srv)
{
	size_t i;

	if (!srv)
		return;
	for (i = 0; i < 2; i++)
		if (srv->daemons[i])
			MHD_stop_daemon(srv->daemons[i]);
	creds_free_secret_string(srv->code);
	g_free(srv->provider_error);
	g_free(srv->state);
	g_free(srv->path);
	pthread_cond_destroy(&srv->done);
	pthread_mutex_destroy(&srv->lock);
	g_free(srv);
}
