/*
 * cli_status.c - `auth status`, `auth refresh` and `auth logout`.
 *
 * status goes through the same request call as the filesystem (api.h),
 * so checking an environment also refreshes its tokens when they are due.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <glib.h>

#include "auth/api/api.h"
#include "auth/base/msg.h"
#include "cli.h"
#include "log.h"

enum env_state { ENV_OK, ENV_NEEDS_LOGIN, ENV_OFFLINE, ENV_NOT_LOGGED_IN,
		 ENV_STORE_ERROR };

static const char *const state_names[] = {
	[ENV_OK] = "ok",
	[ENV_NEEDS_LOGIN] = "needs-login",
	[ENV_OFFLINE] = "offline",
	[ENV_NOT_LOGGED_IN] = "not-logged-in",
	[ENV_STORE_ERROR] = "store-error",
};

struct env_report {
	const char *env;
	enum env_state state;
	struct api_env_info info;
	char detail[256];
};

void cli_format_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) ||
	    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, size, "unknown");
}

static struct api *new_api(const struct cli_opts *o)
{
	struct api_options opts = API_OPTIONS_DEFAULT(o->creds);
	struct api *api = api_new(&opts);

	if (!api)
		log_error("out of memory");
	return api;
}

static void check_env(struct api *api, const struct cli_opts *o,
		      struct env_report *r)
{
	struct api_reply reply;
	int res;

	res = api_env_info(api, r->env, &r->info);
	if (res < 0) {
		r->state = res == -ENOENT ? ENV_NOT_LOGGED_IN : ENV_STORE_ERROR;
		snprintf(r->detail, sizeof(r->detail), "%s",
			 res == -ENOENT ? "" : creds_strerror(o->creds, res));
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
		snprintf(r->detail, sizeof(r->detail), "%s",
			 msg_text(reply.error));
	api_reply_free(&reply);
	api_env_info(api, r->env, &r->info);
}

static void print_line(const struct cli_opts *o, const struct env_report *r)
{
	char expires[64], refreshed[64];

	cli_format_time(r->info.expires_at, expires, sizeof(expires));
	cli_format_time(r->info.refreshed_at, refreshed, sizeof(refreshed));
	switch (r->state) {
	case ENV_NOT_LOGGED_IN:
		printf("%s: not logged in (run: sprinklrfs auth login %s)\n",
		       r->env, r->env);
		return;
	case ENV_STORE_ERROR:
		printf("%s: cannot read the credentials: %s\n", r->env, r->detail);
		return;
	case ENV_NEEDS_LOGIN:
		printf("%s: needs login (run: sprinklrfs auth login %s)\n",
		       r->env, r->env);
		return;
	case ENV_OFFLINE:
		printf("%s: offline (%s), %s (%s), token valid until %s, last "
		       "refresh %s, stored in %s\n", r->env, r->detail,
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
	if (r->state != ENV_NOT_LOGGED_IN && r->state != ENV_STORE_ERROR) {
		cJSON_AddStringToObject(item, "user", r->info.user_name);
		cJSON_AddStringToObject(item, "type", r->info.user_type);
		cJSON_AddStringToObject(item, "api_url", r->info.api_url);
		cJSON_AddNumberToObject(item, "expires_at", (double)r->info.expires_at);
		cJSON_AddNumberToObject(item, "refreshed_at",
					(double)r->info.refreshed_at);
	}
	if (r->detail[0])
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

static int report_all(struct api *api, const struct cli_opts *o, char **envs,
		      size_t n)
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
	}
	if (list) {
		char *text = cJSON_Print(list);

		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(list);
	}
	return status;
}

int cli_status(const struct cli_opts *o)
{
	GStrv stored = NULL;
	size_t n = 0;
	struct api *api;
	int res;

	if (o->n_envs == 0) {
		res = creds_list(o->creds, &stored);
		if (res < 0) {
			log_error("cannot list environments: %s",
				  creds_strerror(o->creds, res));
			return CLI_FAILED;
		}
		n = g_strv_length(stored);
		if (n == 0 && !o->json)
			printf("no environments; log in with: sprinklrfs auth login ENV --key KEY\n");
	}
	api = new_api(o);
	res = CLI_FAILED;
	if (api)
		res = report_all(api, o, stored ? stored : o->envs,
				 stored ? n : (size_t)o->n_envs);
	api_free(api);
	g_strfreev(stored);
	return res;
}

int cli_refresh(const struct cli_opts *o)
{
	struct api_env_info info;
	struct api *api = new_api(o);
	char when[64], *why = NULL;
	int res;

	if (!api)
		return CLI_FAILED;
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
