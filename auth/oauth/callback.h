/*
 * callback.h - the loopback listener that receives the OAuth redirect.
 *
 * cb_listen() binds the redirect URI's host and port at once, so a port in use
 * fails before the user is sent to the browser. cb_wait() then serves requests
 * until one arrives on the redirect path with our state and either a code or a
 * provider error, or until the timeout. Anything else (wrong path, wrong state,
 * no code, malformed requests) gets an error page and is otherwise ignored.
 * HTTP parsing is libmicrohttpd's.
 */
#ifndef SPRINKLRFS_OAUTH_CALLBACK_H
#define SPRINKLRFS_OAUTH_CALLBACK_H

#include "auth/oauth/oauth.h"

struct cb_server;

/* What a request to the listener amounts to (its parsing is libmicrohttpd's). */
enum cb_verdict {
	CB_NOT_FOUND,		/* another path or method */
	CB_BAD_STATE,		/* not our login */
	CB_NO_CODE,		/* our login, but neither a code nor an error */
	CB_CODE,		/* the authorization code */
	CB_REFUSED,		/* the provider's error= answer */
};

enum cb_verdict cb_judge(const char *method, const char *url,
			 const char *path, const char *our_state,
			 const char *state, const char *code,
			 const char *error);

int cb_listen(const struct oauth_redirect *redirect, const char *state,
	      struct cb_server **out);
int cb_wait(struct cb_server *srv, int timeout_s, char **code, char **why);
void cb_close(struct cb_server *srv);

#endif
