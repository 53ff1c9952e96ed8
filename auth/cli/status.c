/*
 * status.c - `auth list`, `auth status`, `auth refresh` and `auth logout`.
 *
 * list reads only where the credentials are kept. status goes through the
 * same request call as the filesystem (api.h), so checking an environment
 * also refreshes its tokens when they are due.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "auth/api/api.h"
#include "auth/base/log.h"
#include "auth/base/msg.h"
#include "auth/cli/cli.h"
#include "auth/cli/status.h"
#include "auth/creds/backend.h"

enum env_state { ENV_OK, ENV_NEEDS_LOGIN, ENV_OFFLINE, ENV_NOT_LOGGED_IN,
		 ENV_CREDS_ERROR };

static const char *const state_names[] = {
	[ENV_OK] = "ok",
	[ENV_NEEDS_LOGIN] = "needs-login",
	[ENV_OFFLINE] = "offline",
	[ENV_NOT_LOGGED_IN] = "not-logged-in",
	[ENV_CREDS_ERROR] = "store-error",
};

struct env_report {
	const char *env;
	enum env_state state;
	struct api_env_info info;
	char *detail;		/* NULL or what went wrong; g_free'd */
};

/* Only the credentials' list is read: no token is loaded, no call is made. */
int cli_list(const struct cli_opts *o)
{
	GStrv names = NULL;
	int res;

	if (o->n_envs > 0) {
		log_error("auth list takes no environment (see sprinklrfs auth --help)");
		return CLI_USAGE;
	}
	res = creds_list(o->creds, &names);
	if (res < 0) {
		log_error("cannot list environments: %s",
			  creds_strerror(o->creds, res));
		return CLI_FAILED;
	}
	for (size_t i = 0; names[i]; i++)
		printf("%s\n", names[i]);
	g_strfreev(names);
	return CLI_OK;
}

static struct api *new_api(const struct cli_opts *o)
{
	struct api_options opts = API_OPTIONS_DEFAULT(o->creds);

	return api_new(&opts);
}

static void check_env(struct api *api, const struct cli_opts *o,
		      struct env_report *r)
{
	struct api_reply reply;
	int res;

	res = api_env_info(api, r->env, &r->info);
	if (res < 0) {
		r->state = res == -ENOENT ? ENV_NOT_LOGGED_IN : ENV_CREDS_ERROR;
		if (res != -ENOENT)
			r->detail = g_strdup(creds_strerror(o->creds, res));
		return;
	}
	res = api_call(api, r->env, "GET", "/api/v2/me", NULL, &reply);
	if (res == 0)
		r->state = ENV_OK;
	else if (res == -EACCES)
		r->state = ENV_NEEDS_LOGIN;
	else
		r->state = ENV_OFFLINE;
	if (res < 0)
		r->detail = g_strdup(msg_text(reply.error));
	api_reply_free(&reply);
	api_env_info(api, r->env, &r->info);
}

static void print_line(const struct cli_opts *o, const struct env_report *r)
{
	const char *detail = msg_text(r->detail);
	char expires[64], refreshed[64];

	cli_format_time(r->info.expires_at, expires, sizeof(expires));
	cli_format_time(r->info.refreshed_at, refreshed, sizeof(refreshed));
	switch (r->state) {
	case ENV_NOT_LOGGED_IN:
		printf("%s: not logged in (run: sprinklrfs auth login %s)\n",
		       r->env, r->env);
		return;
	case ENV_CREDS_ERROR:
		printf("%s: cannot read the credentials: %s\n", r->env, detail);
		return;
	case ENV_NEEDS_LOGIN:
		printf("%s: needs login (run: sprinklrfs auth login %s)\n",
		       r->env, r->env);
		return;
	case ENV_OFFLINE:
		printf("%s: offline (%s), %s (%s), token valid until %s, last "
		       "refresh %s, stored in %s\n", r->env, detail,
		       r->info.user_name, r->info.user_type, expires, refreshed,
		       creds_backend_name(o->creds));
		return;
	case ENV_OK:
		printf("%s: %s (%s), token valid until %s, last refresh %s, "
		       "stored in %s\n", r->env, r->info.user_name,
		       r->info.user_type, expires, refreshed,
		       creds_backend_name(o->creds));
		return;
	}
}

static void add_json(cJSON *list, const struct cli_opts *o,
		     const struct env_report *r)
{
	cJSON *item = cJSON_CreateObject();

	if (!item)
		return;
	cJSON_AddStringToObject(item, "env", r->env);
	cJSON_AddStringToObject(item, "state", state_names[r->state]);
	if (r->state != ENV_NOT_LOGGED_IN && r->state != ENV_CREDS_ERROR) {
		cJSON_AddStringToObject(item, "user", r->info.user_name);
		cJSON_AddStringToObject(item, "type", r->info.user_type);
		cJSON_AddStringToObject(item, "api_url", r->info.api_url);
		cJSON_AddNumberToObject(item, "expires_at", (double)r->info.expires_at);
		cJSON_AddNumberToObject(item, "refreshed_at",
					(double)r->info.refreshed_at);
	}
	if (r->detail && r->detail[0])
		cJSON_AddStringToObject(item, "detail", r->detail);
	cJSON_AddStringToObject(item, "store", creds_backend_name(o->creds));
	cJSON_AddItemToArray(list, item);
}

static int status_exit(int status, enum env_state state)
{
	if (state == ENV_OK)
		return status;
	if (state == ENV_OFFLINE)
		return status == CLI_OK ? CLI_OFFLINE : status;
	return CLI_FAILED;
}

static void print_json(cJSON *list)
{
	char *text = cJSON_Print(list);

	if (text)
		printf("%s\n", text);
	free(text);
}

static int report_all(struct api *api, const struct cli_opts *o,
		      char *const *envs, size_t n)
{
	cJSON *list = o->json ? cJSON_CreateArray() : NULL;
	int status = CLI_OK;
	size_t i;

	for (i = 0; i < n; i++) {
		struct env_report r = { .env = envs[i] };

		check_env(api, o, &r);
		status = status_exit(status, r.state);
		if (list)
			add_json(list, o, &r);
		else
			print_line(o, &r);
		g_free(r.detail);
		api_env_info_clear(&r.info);
	}
	if (list) {
		print_json(list);
		cJSON_Delete(list);
	}
	return status;
}

int cli_status(const struct cli_opts *o)
{
	GStrv stored = NULL;
	struct api *api;
	int res;

	if (o->n_envs == 0) {
		res = creds_list(o->creds, &stored);
		if (res < 0) {
			log_error("cannot list environments: %s",
				  creds_strerror(o->creds, res));
			return CLI_FAILED;
		}
		if (!stored[0] && !o->json)
			printf("no environments; log in with: sprinklrfs auth login ENV --key KEY\n");
	}
	api = new_api(o);
	if (stored)
		res = report_all(api, o, stored, g_strv_length(stored));
	else
		res = report_all(api, o, o->envs, (size_t)o->n_envs);
	api_free(api);
	g_strfreev(stored);
	return res;
}

int cli_refresh(const struct cli_opts *o)
{
	struct api_env_info info = { 0 };
	struct api *api = new_api(o);
	char when[64], *why = NULL;
	int res;

	res = api_refresh(api, o->env, &why);
	if (res == 0)
		res = api_env_info(api, o->env, &info);
	if (res == 0) {
		cli_format_time(info.expires_at, when, sizeof(when));
		printf("%s: token refreshed, valid until %s\n", o->env, when);
	} else {
		log_error("%s", why && why[0] ? why : strerror(-res));
	}
	g_free(why);
	api_env_info_clear(&info);
	api_free(api);
	return res == 0 ? CLI_OK : CLI_FAILED;
}

int cli_logout(const struct cli_opts *o)
{
	int res = creds_delete(o->creds, o->env);

	if (res < 0) {
		log_error("%s: cannot remove the credentials: %s", o->env,
			  creds_strerror(o->creds, res));
		return CLI_FAILED;
	}
	printf("%s: logged out\n", o->env);
	return CLI_OK;
}
