/*
 * store.c - choose the credential store and speak for it.
 *
 * Validates environment names once for both backends, warns once per process
 * that the file store keeps secrets on disk, and turns a backend's errno into a
 * sentence that says what to do.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_backend.h"

int store_parse_kind(const char *name, enum store_kind *kind)
{
	if (!name)
		return -EINVAL;
	if (strcmp(name, "keyring") == 0)
		*kind = STORE_KEYRING;
	else if (strcmp(name, "file") == 0)
		*kind = STORE_FILE;
	else
		return -EINVAL;
	return 0;
}

const char *store_kind_name(enum store_kind kind)
{
	switch (kind) {
	case STORE_KEYRING:
		return "keyring";
	case STORE_FILE:
		return "file";
	}
	return "unknown";
}

static void store_warn_file(void)
{
	static atomic_bool warned;

	if (atomic_exchange(&warned, true))
		return;
	log_warn("credentials are kept in a file (--store=file), not in the "
		 "system keyring: anyone who can read it as you can use them");
}

int store_load(enum store_kind kind, const char *env, struct creds *out)
{
	if (!ep_env_valid(env))
		return -EINVAL;
	if (kind == STORE_KEYRING)
		return kr_load(env, out);
	store_warn_file();
	return sf_load(env, out);
}

int store_save(enum store_kind kind, const struct creds *c)
{
	if (!c || !ep_env_valid(c->env))
		return -EINVAL;
	if (kind == STORE_KEYRING)
		return kr_save(c);
	store_warn_file();
	return sf_save(c);
}

int store_delete(enum store_kind kind, const char *env)
{
	if (!ep_env_valid(env))
		return -EINVAL;
	return kind == STORE_KEYRING ? kr_delete(env) : sf_delete(env);
}

int store_list(enum store_kind kind, char ***envs, size_t *count)
{
	return kind == STORE_KEYRING ? kr_list(envs, count)
				     : sf_list(envs, count);
}

void store_list_free(char **envs, size_t count)
{
	if (!envs)
		return;
	for (size_t i = 0; i < count; i++)
		free(envs[i]);
	free(envs);
}

static int store_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t store_envs_normalize(char **envs, size_t count)
{
	size_t kept = 0;

	if (count == 0)
		return 0;
	qsort(envs, count, sizeof(*envs), store_cmp);
	for (size_t i = 0; i < count; i++) {
		if (kept > 0 && strcmp(envs[kept - 1], envs[i]) == 0) {
			free(envs[i]);
			continue;
		}
		envs[kept++] = envs[i];
	}
	return kept;
}

static const char *store_generic_strerror(int err)
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
 * The returned text is static or, for the file store, per thread: call this
 * right after the failing call, from the same thread.
 */
const char *store_strerror(enum store_kind kind, int err)
{
	const char *msg = kind == STORE_KEYRING ? kr_strerror(err)
						: sf_strerror(err);

	return msg ? msg : store_generic_strerror(err);
}
