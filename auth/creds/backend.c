/*
 * backend.c - choose where credentials are kept, and speak for it.
 *
 * Validates environment names once for both backends, warns once per process
 * that the file backend keeps secrets on disk, sorts what the backends list,
 * and turns a backend's errno into a sentence that says what to do.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <glib.h>

#include "auth/base/log.h"
#include "auth/creds/backend.h"
#include "auth/creds/file.h"
#include "auth/creds/keyring.h"
#include "auth/net/endpoint.h"

/* "keyring" or "file"; *backend is untouched on failure. */
int creds_backend_parse(const char *name, enum creds_backend *backend)
{
	if (!name)
		return -EINVAL;
	if (strcmp(name, "keyring") == 0)
		*backend = CREDS_KEYRING;
	else if (strcmp(name, "file") == 0)
		*backend = CREDS_FILE;
	else
		return -EINVAL;
	return 0;
}

const char *creds_backend_name(enum creds_backend backend)
{
	switch (backend) {
	case CREDS_KEYRING:
		return "keyring";
	case CREDS_FILE:
		return "file";
	}
	return "unknown";
}

static void creds_warn_file(void)
{
	static atomic_bool warned;

	if (atomic_exchange(&warned, true))
		return;
	log_warn("credentials are kept in a file (--store=file), not in the "
		 "system keyring: anyone who can read it as you can use them");
}

int creds_load(enum creds_backend backend, const char *env, struct creds *out)
{
	if (!ep_env_valid(env))
		return -EINVAL;
	if (backend == CREDS_KEYRING)
		return kr_load(env, out);
	creds_warn_file();
	return cf_load(env, out);
}

int creds_save(enum creds_backend backend, const struct creds *c)
{
	if (!c || !ep_env_valid(c->env))
		return -EINVAL;
	if (backend == CREDS_KEYRING)
		return kr_save(c);
	creds_warn_file();
	return cf_save(c);
}

int creds_delete(enum creds_backend backend, const char *env)
{
	if (!ep_env_valid(env))
		return -EINVAL;
	return backend == CREDS_KEYRING ? kr_delete(env) : cf_delete(env);
}

static gint creds_env_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, each name once, NULL-terminated; takes found. */
static GStrv creds_envs_finish(GPtrArray *found)
{
	guint i = 1;

	g_ptr_array_sort(found, creds_env_cmp);
	while (i < found->len) {
		if (strcmp(found->pdata[i - 1], found->pdata[i]) == 0)
			g_ptr_array_remove_index(found, i);
		else
			i++;
	}
	g_ptr_array_add(found, NULL);
	return (GStrv)g_ptr_array_free(found, FALSE);
}

/* The stored environments, sorted and distinct; free *envs with g_strfreev(). */
int creds_list(enum creds_backend backend, GStrv *envs)
{
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
	int err = backend == CREDS_KEYRING ? kr_list(found) : cf_list(found);

	if (err) {
		g_ptr_array_unref(found);
		return err;
	}
	*envs = creds_envs_finish(found);
	return 0;
}

static const char *creds_generic_strerror(int err)
{
	const char *desc;

	switch (err) {
	case 0:
		return "success";
	case -ENOENT:
		return "no credentials are stored for this environment "
		       "(run: sprinklrfs auth login ENV)";
	case -EINVAL:
		return "the stored credentials are malformed "
		       "(run: sprinklrfs auth login ENV)";
	case -ENOMEM:
		return "out of memory";
	}
	desc = strerrordesc_np(-err);
	return desc ? desc : "unknown error";
}

/*
 * The returned text is static or, for the file backend, per thread and
 * valid until the next call: call this right after the failing call, from
 * the same thread.
 */
const char *creds_strerror(enum creds_backend backend, int err)
{
	const char *msg = backend == CREDS_KEYRING ? kr_strerror(err)
						   : cf_strerror(err);

	return msg ? msg : creds_generic_strerror(err);
}
