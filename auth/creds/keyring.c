/*
 * keyring.c - credentials in the Secret Service, through libsecret.
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
 * and starts a worker thread (base/worker.h) whose first tick comes at the
 * call's deadline; if the call has not finished by then, the tick cancels it
 * and the call fails with -ETIMEDOUT. kr_call_end() marks the call done and
 * stops the worker, which waits for a tick in progress. `done` and `fired`
 * are under the call's `lock`, so a tick and the end of the call agree on
 * whether the call timed out. All of that state lives in a struct kr_call on
 * the caller's stack, so calls from several threads at once share nothing of
 * ours; libsecret's synchronous API is itself safe to use from several
 * threads.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib.h>
#include <libsecret/secret.h>

#include "auth/base/log.h"
#include "auth/base/worker.h"
#include "auth/creds/creds.h"
#include "auth/creds/keyring.h"
#include "auth/net/endpoint.h"

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
	GMutex lock;
	bool done;			/* protected by lock */
	bool fired;			/* protected by lock */
	struct worker *watchdog;
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

/* The watchdog's tick: the deadline has come. */
static void kr_watchdog(void *arg)
{
	struct kr_call *call = arg;
	bool fire;

	g_mutex_lock(&call->lock);
	fire = !call->done && !call->fired;
	if (fire)
		call->fired = true;
	g_mutex_unlock(&call->lock);
	if (fire)
		g_cancellable_cancel(call->cancellable);
}

/* Without a session bus GIO would try to autolaunch one: say so instead. */
static bool kr_bus_configured(void)
{
	const char *address = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	char *path;
	bool found;

	if (address && *address)
		return true;
	if (!runtime || runtime[0] != '/')
		return false;
	path = g_build_filename(runtime, "bus", NULL);
	found = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
	g_free(path);
	return found;
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
	memset(call, 0, sizeof(*call));
	g_mutex_init(&call->lock);
	call->cancellable = g_cancellable_new();
	call->watchdog = worker_start("kr-watchdog", kr_watchdog, call,
				      kr_timeout_ms() / 1000.0);
	if (call->watchdog)
		return 0;
	g_object_unref(call->cancellable);
	g_mutex_clear(&call->lock);
	return -EAGAIN;
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
	int err = 0;

	g_mutex_lock(&call->lock);
	call->done = true;
	g_mutex_unlock(&call->lock);
	worker_stop(call->watchdog);
	if (error) {
		err = call->fired ? -ETIMEDOUT : kr_errno(error);
		log_debug("keyring: %s", error->message);
		g_error_free(error);
	}
	g_object_unref(call->cancellable);
	g_mutex_clear(&call->lock);
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

static int kr_store(const struct creds *c, const char *json)
{
	char *label = g_strdup_printf("sprinklrfs: %s", c->env);
	struct kr_call call;
	GError *error = NULL;
	gboolean stored;
	int err = kr_call_begin(&call);

	if (err)
		goto out_free_label;
	stored = secret_password_store_sync(&kr_schema, SECRET_COLLECTION_DEFAULT,
					    label, json, call.cancellable,
					    &error, "service", KR_SERVICE,
					    "env", c->env, NULL);
	err = kr_call_end(&call, error);
	/* no error but not stored: an unlock prompt was dismissed */
	if (!err && !stored)
		err = -EACCES;
out_free_label:
	g_free(label);
	return err;
}

int kr_save(const struct creds *c)
{
	char *json = NULL;
	int err = creds_to_json(c, &json);

	if (err)
		return err;
	err = kr_store(c, json);
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

/* Adds the env attribute of each item that is ours. */
static void kr_collect(GList *items, GPtrArray *envs)
{
	for (GList *l = items; l; l = l->next) {
		GHashTable *attrs = secret_item_get_attributes(l->data);
		const char *value;

		if (!attrs)
			continue;
		value = g_hash_table_lookup(attrs, "env");
		if (ep_env_valid(value))
			g_ptr_array_add(envs, g_strdup(value));
		g_hash_table_unref(attrs);
	}
}

int kr_list(GPtrArray *envs)
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
		kr_collect(items, envs);
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
