/*
 * creds_tool.c - drive where credentials are kept (auth/creds/backend.h) from
 * the command line, for tests. --store names the backend, as it does for
 * `sprinklrfs auth`.
 *
 *   creds_tool [--store=keyring|file] save         creds JSON on stdin
 *   creds_tool [--store=keyring|file] load ENV     creds JSON on stdout
 *   creds_tool [--store=keyring|file] list         one env per line
 *   creds_tool [--store=keyring|file] delete ENV
 *   creds_tool [--store=keyring|file] load-threads ENV N   N loads at once
 *
 * CREDS_TOOL_DEBUG=1 in the environment turns on debug logging.
 *
 * Exit status: 0, the errno of a failure (ENOENT, EHOSTDOWN, ...) with a line
 * "creds_tool: ERRNONAME: message" on stderr, or 64 for a usage error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "auth/base/log.h"
#include "auth/creds/backend.h"

#define TOOL_MAX_INPUT (1u << 20)
#define TOOL_USAGE 64

static int tool_read_stdin(char **out, size_t *len)
{
	char *buf = malloc(TOOL_MAX_INPUT + 1);
	size_t n;

	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, TOOL_MAX_INPUT + 1, stdin);
	if (n > TOOL_MAX_INPUT || ferror(stdin)) {
		free(buf);
		return n > TOOL_MAX_INPUT ? -EFBIG : -EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int tool_save(enum creds_backend backend)
{
	struct creds c = { 0 };
	char *input = NULL;
	size_t len = 0;
	int err = tool_read_stdin(&input, &len);

	if (err)
		return err;
	err = creds_from_json(input, len, &c);
	explicit_bzero(input, len);
	free(input);
	if (!err)
		err = creds_save(backend, &c);
	creds_clear(&c);
	return err;
}

static int tool_load(enum creds_backend backend, const char *env)
{
	struct creds c = { 0 };
	char *json = NULL;
	int err = creds_load(backend, env, &c);

	if (!err)
		err = creds_to_json(&c, &json);
	if (!err)
		printf("%s\n", json);
	creds_free_secret_string(json);
	creds_clear(&c);
	return err;
}

static int tool_list(enum creds_backend backend)
{
	GStrv envs = NULL;
	int err = creds_list(backend, &envs);

	if (err)
		return err;
	for (size_t i = 0; envs[i]; i++)
		printf("%s\n", envs[i]);
	g_strfreev(envs);
	return 0;
}

struct tool_job {
	enum creds_backend backend;
	const char *env;
	pthread_t thread;
	int err;
};

static void *tool_load_job(void *arg)
{
	struct tool_job *job = arg;
	struct creds c = { 0 };

	job->err = creds_load(job->backend, job->env, &c);
	creds_clear(&c);
	return NULL;
}

/* Loads from n threads at once; the first failure is the result. */
static int tool_load_threads(enum creds_backend backend, const char *env,
			     const char *n_text)
{
	struct tool_job jobs[64];
	char *end;
	long n = strtol(n_text, &end, 10);
	int err = 0;

	if (*end || n < 1 || n > 64)
		return 1;
	for (long i = 0; i < n; i++) {
		jobs[i] = (struct tool_job){ .backend = backend, .env = env };
		if (pthread_create(&jobs[i].thread, NULL, tool_load_job,
				   &jobs[i]) != 0) {
			n = i;
			err = -EAGAIN;
		}
	}
	for (long i = 0; i < n; i++) {
		pthread_join(jobs[i].thread, NULL);
		if (!err)
			err = jobs[i].err;
	}
	return err;
}

static int tool_run(enum creds_backend backend, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "save") == 0 && argc == 1)
		return tool_save(backend);
	if (strcmp(cmd, "load") == 0 && argc == 2)
		return tool_load(backend, argv[1]);
	if (strcmp(cmd, "list") == 0 && argc == 1)
		return tool_list(backend);
	if (strcmp(cmd, "load-threads") == 0 && argc == 3)
		return tool_load_threads(backend, argv[1], argv[2]);
	if (strcmp(cmd, "delete") == 0 && argc == 2)
		return creds_delete(backend, argv[1]);
	return 1;
}

static int tool_usage(void)
{
	fprintf(stderr, "usage: creds_tool [--store=keyring|file] "
		"save | load ENV | list | delete ENV\n");
	return TOOL_USAGE;
}

int main(int argc, char **argv)
{
	enum creds_backend backend = CREDS_KEYRING;
	const char *name;
	int err;

	if (getenv("CREDS_TOOL_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG);
	if (argc > 1 && strncmp(argv[1], "--store=", 8) == 0) {
		if (creds_backend_parse(argv[1] + 8, &backend))
			return tool_usage();
		argc--;
		argv++;
	}
	if (argc < 2)
		return tool_usage();
	err = tool_run(backend, argc - 1, argv + 1);
	if (err == 1)
		return tool_usage();
	if (!err)
		return 0;
	name = strerrorname_np(-err);
	fprintf(stderr, "creds_tool: %s: %s\n", name ? name : "?",
		creds_strerror(backend, err));
	return -err;
}
