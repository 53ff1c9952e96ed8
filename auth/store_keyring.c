/*
 * store_keyring.c - credentials in the Secret Service, through libsecret.
 *
 * One item per environment, found by the attributes service=sprinklrfs and
 * env=NAME; its secret is the creds JSON, so one store replaces everything at
 * once. The shape follows git's libsecret credential helper: a static schema,
 * the GError idiom, secret_password_free() for what libsecret hands back.
 *
 * Timeouts and threads
 * --------------------
 * A keyring daemon that stopped answering, or that sits on an unlock prompt
 * nobody will ever see, would hang a read in the filesystem forever. So every
 * libsecret call runs under a watchdog: kr_call_begin() makes a GCancellable
 * and starts a thread that sleeps on a condition variable until the call's
 * deadline; if the call has not finished by then, the watchdog cancels it and
 * the call fails with -ETIMEDOUT. kr_call_end() wakes the watchdog and joins
 * it. All of that state lives in a struct kr_call on the caller's stack, so
 * calls from several threads at once share nothing of ours; libsecret's
 * synchronous API is itself safe to use from several threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gio/gio.h>
#include <glib.h>
#include <libsecret/secret.h>

#include "log.h"
#include "store.h"
#include "store_backend.h"

#define KR_SERVICE "sprinklrfs"
#define KR_BUS_NAME "org.freedesktop.secrets"
#define KR_TIMEOUT_DEFAULT_MS 20000L
#define KR_TIMEOUT_ENV "SPRINKLRFS_KEYRING_TIMEOUT_MS"

static const SecretSchema kr_schema = {
	.name = "org.sprinklrfs.Credentials",
	.flags = SECRET_SCHEMA_DONT_MATCH_NAME,
	.attributes = {
		{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "env", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
};

/* One bounded libsecret call. */
struct kr_call {
	GCancellable *cancellable;
	pthread_mutex_t mutex;
	pthread_cond_t cond;		/* signalled when done turns true */
	bool done;			/* protected by mutex */
	bool fired;			/* protected by mutex */
	struct timespec deadline;	/* CLOCK_MONOTONIC */
	pthread_t watchdog;
};

static long kr_timeout_ms(void)
{
	const char *value = getenv(KR_TIMEOUT_ENV);
	char *end;
	long ms;

	if (!value || !*value)
		return KR_TIMEOUT_DEFAULT_MS;
	errno = 0;
	ms = strtol(value, &end, 10);
	if (errno || *end != '\0' || ms <= 0)
		return KR_TIMEOUT_DEFAULT_MS;
	return ms;
}

static void *kr_watchdog(void *arg)
{
	struct kr_call *call = arg;
	bool fire = false;

	pthread_mutex_lock(&call->mutex);
	while (!call->done && !fire)
		fire = pthread_cond_timedwait(&call->cond, &call->mutex,
					      &call->deadline) == ETIMEDOUT &&
		       !call->done;
	call->fired = fire;
	pthread_mutex_unlock(&call->mutex);
	if (fire)
		g_cancellable_cancel(call->cancellable);
	return NULL;
}

/* Without a session bus GIO would try to autolaunch one: say so instead. */
static bool kr_bus_configured(void)
{
	const char *address = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	struct stat st;

	if (address && *address)
		return true;
	if (!runtime || runtime[0] != '/')
		return false;
	if ((size_t)snprintf(path, sizeof(path), "%s/bus", runtime) >=
	    sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void kr_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Ask the bus to start the Secret Service, or confirm it runs: without this,
 * libsecret reports a missing service as a missing item. The shared bus
 * connection must not exit() the process if the bus goes away.
 */
static gboolean kr_service_start(GCancellable *cancellable, GError **error)
{
	GDBusConnection *bus = g_bus_get_sync(G_BUS_TYPE_SESSION, cancellable,
					      error);
	GVariant *reply;

	if (!bus)
		return FALSE;
	g_dbus_connection_set_exit_on_close(bus, FALSE);
	reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus",
					    "/org/freedesktop/DBus",
					    "org.freedesktop.DBus",
					    "StartServiceByName",
					    g_variant_new("(su)", KR_BUS_NAME, 0u),
					    G_VARIANT_TYPE("(u)"),
					    G_DBUS_CALL_FLAGS_NONE, -1,
					    cancellable, error);
	g_object_unref(bus);
	if (!reply)
		return FALSE;
	g_variant_unref(reply);
	return TRUE;
}

static int kr_call_end(struct kr_call *call, GError *error);

static int kr_watchdog_start(struct kr_call *call)
{
	pthread_condattr_t attr;
	int err;

	memset(call, 0, sizeof(*call));
	pthread_mutex_init(&call->mutex, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&call->cond, &attr);
	pthread_condattr_destroy(&attr);
	kr_deadline(&call->deadline, kr_timeout_ms());
	call->cancellable = g_cancellable_new();
	err = -pthread_create(&call->watchdog, NULL, kr_watchdog, call);
	if (err)
		goto out_destroy;
	return 0;

out_destroy:
	g_object_unref(call->cancellable);
	pthread_cond_destroy(&call->cond);
	pthread_mutex_destroy(&call->mutex);
	return err;
}

/*
 * Start the watchdog and make sure a Secret Service is there. On failure
 * everything is released already; on success finish with kr_call_end().
 */
static int kr_call_begin(struct kr_call *call)
{
	GError *error = NULL;
	int err;

	if (!kr_bus_configured())
		return -EHOSTDOWN;
	err = kr_watchdog_start(call);
	if (err)
		return err;
	if (!kr_service_start(call->cancellable, &error))
		return kr_call_end(call, error);
	return 0;
}

static bool kr_is_unreachable(const GError *error)
{
	if (error->domain == G_DBUS_ERROR)
		return error->code == G_DBUS_ERROR_SERVICE_UNKNOWN ||
		       error->code == G_DBUS_ERROR_NAME_HAS_NO_OWNER ||
		       error->code == G_DBUS_ERROR_NO_SERVER ||
		       error->code == G_DBUS_ERROR_NO_NETWORK ||
		       error->code == G_DBUS_ERROR_DISCONNECTED ||
		       error->code == G_DBUS_ERROR_FILE_NOT_FOUND ||
		       error->code == G_DBUS_ERROR_BAD_ADDRESS ||
		       (error->code >= G_DBUS_ERROR_SPAWN_EXEC_FAILED &&
			error->code <= G_DBUS_ERROR_SPAWN_NO_MEMORY);
	if (error->domain == G_IO_ERROR)
		return error->code == G_IO_ERROR_NOT_FOUND ||
		       error->code == G_IO_ERROR_CONNECTION_REFUSED ||
		       error->code == G_IO_ERROR_CLOSED ||
		       error->code == G_IO_ERROR_BROKEN_PIPE ||
		       error->code == G_IO_ERROR_NOT_CONNECTED ||
		       error->code == G_IO_ERROR_CONNECTION_CLOSED;
	return false;
}

static bool kr_is_timeout(const GError *error)
{
	return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
	       g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY);
}

/* The one place a libsecret or D-Bus error becomes an errno. */
static int kr_errno(const GError *error)
{
	if (kr_is_timeout(error))
		return -ETIMEDOUT;
	if (kr_is_unreachable(error))
		return -EHOSTDOWN;
	if (g_error_matches(error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED) ||
	    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED) ||
	    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED))
		return -EACCES;
	if (g_error_matches(error, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT))
		return -ENOENT;
	return -EIO;
}

/* Stop the watchdog; returns 0, or error (which it frees) as an errno. */
static int kr_call_end(struct kr_call *call, GError *error)
{
	bool fired;
	int err = 0;

	pthread_mutex_lock(&call->mutex);
	call->done = true;
	pthread_cond_signal(&call->cond);
	pthread_mutex_unlock(&call->mutex);
	pthread_join(call->watchdog, NULL);
	fired = call->fired;
	if (error) {
		err = fired ? -ETIMEDOUT : kr_errno(error);
		log_debug("keyring: %s", error->message);
		g_error_free(error);
	}
	g_object_unref(call->cancellable);
	pthread_cond_destroy(&call->cond);
	pthread_mutex_destroy(&call->mutex);
	return err;
}

static int kr_parse(const char *secret, const char *env, struct creds *out)
{
	struct creds c = { 0 };
	int err = creds_from_json(secret, strlen(secret), &c);

	if (err)
		return err;
	if (strcmp(c.env, env) != 0) {
		creds_clear(&c);
		return -EINVAL;
	}
	*out = c;
	explicit_bzero(&c, sizeof(c));
	return 0;
}

int kr_load(const char *env, struct creds *out)
{
	struct kr_call call;
	GError *error = NULL;
	gchar *secret;
	int err = kr_call_begin(&call);

	if (err)
		return err;
	secret = secret_password_lookup_sync(&kr_schema, call.cancellable,
					     &error, "service", KR_SERVICE,
					     "env", env, NULL);
	err = kr_call_end(&call, error);
	if (!err && !secret)
		err = -ENOENT;
	if (!err)
		err = kr_parse(secret, env, out);
	secret_password_free(secret);
	return err;
}

int kr_save(const struct creds *c)
{
	char label[64];
	char *json = NULL;
	struct kr_call call;
	GError *error = NULL;
	gboolean stored;
	int err = creds_to_json(c, &json);

	if (err)
		return err;
	err = kr_call_begin(&call);
	if (err)
		goto out_free_json;
	snprintf(label, sizeof(label), "sprinklrfs: %s", c->env);
	stored = secret_password_store_sync(&kr_schema, SECRET_COLLECTION_DEFAULT,
					    label, json, call.cancellable,
					    &error, "service", KR_SERVICE,
					    "env", c->env, NULL);
	err = kr_call_end(&call, error);
	/* no error but not stored: an unlock prompt was dismissed */
	if (!err && !stored)
		err = -EACCES;
out_free_json:
	creds_free_secret_string(json);
	return err;
}

int kr_delete(const char *env)
{
	struct kr_call call;
	GError *error = NULL;
	int err = kr_call_begin(&call);

	if (err)
		return err;
	/* FALSE without an error: nothing matched, which is fine */
	secret_password_clear_sync(&kr_schema, call.cancellable, &error,
				   "service", KR_SERVICE, "env", env, NULL);
	return kr_call_end(&call, error);
}

/* The env attribute of one item, copied; *env is NULL when it is not ours. */
static int kr_item_env(SecretItem *item, char **env)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	const char *value = attrs ? g_hash_table_lookup(attrs, "env") : NULL;
	int err = 0;

	*env = NULL;
	if (ep_env_valid(value)) {
		*env = strdup(value);
		if (!*env)
			err = -ENOMEM;
	}
	if (attrs)
		g_hash_table_unref(attrs);
	return err;
}

static int kr_collect(GList *items, char ***envs, size_t *count)
{
	size_t n = 0, cap = g_list_length(items);
	char **found = calloc(cap ? cap : 1, sizeof(*found));

	if (!found)
		return -ENOMEM;
	for (GList *l = items; l; l = l->next) {
		char *env;

		if (kr_item_env(l->data, &env)) {
			store_list_free(found, n);
			return -ENOMEM;
		}
		if (env)
			found[n++] = env;
	}
	*count = store_envs_normalize(found, n);
	*envs = found;
	return 0;
}

int kr_list(char ***envs, size_t *count)
{
	struct kr_call call;
	GError *error = NULL;
	GHashTable *attrs;
	GList *items;
	int err = kr_call_begin(&call);

	if (err)
		return err;
	attrs = secret_attributes_build(&kr_schema, "service", KR_SERVICE, NULL);
	items = secret_service_search_sync(NULL, &kr_schema, attrs,
					   SECRET_SEARCH_ALL |
					   SECRET_SEARCH_UNLOCK,
					   call.cancellable, &error);
	g_hash_table_unref(attrs);
	err = kr_call_end(&call, error);
	if (!err)
		err = kr_collect(items, envs, count);
	g_list_free_full(items, g_object_unref);
	return err;
}

const char *kr_strerror(int err)
{
	switch (err) {
	case -EHOSTDOWN:
		return "no Secret Service is reachable: start a keyring daemon "
		       "in your session (e.g. gnome-keyring-daemon --start "
		       "--components=secrets), or use --store=file on a "
		       "headless server";
	case -ETIMEDOUT:
		return "the Secret Service did not answer in time: is the "
		       "keyring daemon stuck, or waiting for an unlock prompt?";
	case -EACCES:
		return "the keyring is locked: unlock it (log in to your "
		       "desktop session, or run gnome-keyring-daemon --unlock), "
		       "or use --store=file on a headless server";
	case -ENOENT:
		return "no credentials for this environment in the keyring "
		       "(run: sprinklrfs auth login ENV)";
	}
	return NULL;
}
