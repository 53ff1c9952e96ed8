/*
 * login.c - `auth login` (the browser flow) and `auth import` (tokens
 * obtained by hand). Both verify the tokens with /api/v2/me and store them
 * only when everything worked: a failure stores nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "auth/api/api.h"
#include "auth/base/clock.h"
#include "auth/base/log.h"
#include "auth/base/msg.h"
#include "auth/cli/cli.h"
#include "auth/cli/login.h"
#include "auth/creds/backend.h"
#include "auth/oauth/callback.h"
#include "auth/oauth/oauth.h"
#include "auth/oauth/prompt.h"

extern char **environ;

static int set_string(char **field, const char *value)
{
	*field = value ? strdup(value) : NULL;
	return (value && !*field) ? -ENOMEM : 0;
}

/* The CA file's absolute path (malloc'd), or NULL and errno if unreadable. */
static char *ca_path(const char *file)
{
	char *path = realpath(file, NULL);
	int err;

	if (path && access(path, R_OK) != 0) {
		err = errno;
		free(path);
		errno = err;
		return NULL;
	}
	return path;
}

/* Checks the options and fills everything but the secret and the tokens. */
static int creds_from_opts(const struct cli_opts *o, struct creds *c)
{
	struct oauth_redirect r;

	if (!o->key || !o->key[0]) {
		log_error("auth %s needs --key KEY (the application key)", o->command);
		return -EINVAL;
	}
	g_strlcpy(c->env, o->env, sizeof(c->env));	/* checked by auth.c */
	if (oauth_parse_redirect_uri(o->redirect_uri, &r) < 0) {
		log_error("redirect URI '%s' is not usable: it must be http:// on a "
			  "loopback host with a port, e.g. %s", o->redirect_uri,
			  OAUTH_DEFAULT_REDIRECT_URI);
		return -EINVAL;
	}
	oauth_redirect_clear(&r);
	if (oauth_check_api_url(o->api_url) < 0) {
		log_error("API URL '%s' is not usable: it must be https:// "
			  "(http:// only for a loopback host)", o->api_url);
		return -EINVAL;
	}
	if (o->ca_file) {
		c->ca_file = ca_path(o->ca_file);
		if (!c->ca_file) {
			log_error("cannot read the CA file '%s': %s", o->ca_file,
				  strerror(errno));
			return -EINVAL;
		}
	}
	if (set_string(&c->key, o->key) < 0 ||
	    set_string(&c->redirect_uri, o->redirect_uri) < 0 ||
	    set_string(&c->api_url, o->api_url) < 0)
		return -ENOMEM;
	return 0;
}

static int read_secret(const char *label, char **out)
{
	int res = prompt_secret(label, out);

	if (res < 0)
		log_error("no %s given (a prompt on a terminal, else one line of "
			  "standard input)", label);
	return res;
}

static void open_browser(const struct cli_opts *o, const char *url)
{
	char *argv[] = { (char *)"xdg-open", (char *)url, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	if (o->no_browser || (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) == 0)
		waitpid(pid, NULL, 0);
	posix_spawn_file_actions_destroy(&fa);
}

static void apply_tokens(struct creds *c, struct oauth_tokens *t)
{
	c->access_token = t->access_token;
	c->refresh_token = t->refresh_token;
	c->refreshed_at = clock_wall_ms() / 1000;
	c->expires_at = c->refreshed_at + t->expires_in;
	t->access_token = t->refresh_token = NULL;
}

/* Verifies with /api/v2/me, stores, and prints the one-line summary. */
static int verify_and_store(const struct cli_opts *o, struct creds *c,
			    const char *verb)
{
	char when[64], *why = NULL;
	int res;

	res = api_whoami(c, &c->user_name, &c->user_type, &why);
	if (res < 0) {
		log_error("%s: the new tokens do not work: %s", c->env,
			  msg_text(why));
		g_free(why);
		return CLI_FAILED;
	}
	res = creds_save(o->creds, c);
	if (res < 0) {
		log_error("%s: cannot store the credentials: %s", c->env,
			  creds_strerror(o->creds, res));
		return CLI_FAILED;
	}
	cli_format_time(c->expires_at, when, sizeof(when));
	printf("%s: %s as %s (%s), token valid until %s\n", c->env, verb,
	       c->user_name, c->user_type, when);
	return CLI_OK;
}

static void explain_grant_error(const char *env, int res, const char *why)
{
	if (res == -EACCES)
		log_error("%s: Sprinklr rejected the authorization (%s); check the "
			  "key, secret and redirect URI, and log in again", env,
			  msg_text(why));
	else
		log_error("%s: cannot get tokens from Sprinklr: %s", env,
			  msg_text(why));
}

static int wait_for_code(const struct cli_opts *o, const struct creds *c,
			 char **code)
{
	struct oauth_redirect r = { 0 };
	struct cb_server *srv;
	char state[OAUTH_STATE_SIZE];
	char *url = NULL, *why = NULL;
	int res;

	if (oauth_new_state(state) < 0 ||
	    oauth_parse_redirect_uri(c->redirect_uri, &r) < 0)
		return -EIO;
	res = cb_listen(&r, state, &srv);
	if (res < 0) {
		log_error("cannot listen on %s port %u for the login callback: %s",
			  r.host, r.port, strerror(-res));
		goto out_clear_redirect;
	}
	res = oauth_authorize_url(c, state, &url);
	if (res < 0)
		goto out_close;
	printf("Open this address in a browser to authorize sprinklrfs for %s:\n%s\n",
	       c->env, url);
	fflush(stdout);
	open_browser(o, url);
	res = cb_wait(srv, o->timeout_s, code, &why);
	if (res == -ETIMEDOUT)
		log_error("%s: no authorization arrived within %d seconds",
			  c->env, o->timeout_s);
	else if (res == -EACCES)
		log_error("%s: Sprinklr did not grant access: %s", c->env,
			  msg_text(why));
out_close:
	g_free(why);
	g_free(url);
	cb_close(srv);
out_clear_redirect:
	oauth_redirect_clear(&r);
	return res;
}

int cli_login(const struct cli_opts *o)
{
	struct oauth_tokens t = { 0 };
	struct creds c = { 0 };
	char *code = NULL, *why = NULL;
	int res = CLI_FAILED;
	int grant;

	if (creds_from_opts(o, &c) < 0) {
		res = CLI_USAGE;
		goto out_clear;
	}
	if (read_secret("application secret", &c.secret) < 0 ||
	    wait_for_code(o, &c, &code) < 0)
		goto out_clear;
	grant = oauth_exchange_code(&c, code, &t, &why);
	if (grant < 0) {
		explain_grant_error(c.env, grant, why);
		goto out_clear;
	}
	apply_tokens(&c, &t);
	res = verify_and_store(o, &c, "logged in");
out_clear:
	g_free(why);
	creds_free_secret_string(code);
	oauth_tokens_clear(&t);
	creds_clear(&c);
	return res;
}

/* A rejected access token is refreshed once before giving up. */
static int import_verify(struct creds *c)
{
	struct oauth_tokens t = { 0 };
	char *name = NULL, *type = NULL, *why = NULL;
	int res;

	res = api_whoami(c, &name, &type, NULL);
	free(name);
	free(type);
	if (res != -EACCES)
		return 0;
	res = oauth_refresh(c, &t, &why);
	if (res < 0) {
		explain_grant_error(c->env, res, why);
		g_free(why);
		return res;
	}
	creds_free_secret_string(c->access_token);
	creds_free_secret_string(c->refresh_token);
	apply_tokens(c, &t);
	return 0;
}

int cli_import(const struct cli_opts *o)
{
	struct creds c = { 0 };
	int res = CLI_FAILED;

	if (creds_from_opts(o, &c) < 0) {
		res = CLI_USAGE;
		goto out_clear;
	}
	if (read_secret("application secret", &c.secret) < 0 ||
	    read_secret("access token", &c.access_token) < 0 ||
	    read_secret("refresh token", &c.refresh_token) < 0)
		goto out_clear;
	if (import_verify(&c) < 0)
		goto out_clear;
	res = verify_and_store(o, &c, "imported; logged in");
out_clear:
	creds_clear(&c);
	return res;
}
