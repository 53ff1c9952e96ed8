/*
 * store_tool.c - drive a credential store from the command line, for tests.
 *
 *   store_tool [--store=keyring|file] save         creds JSON on stdin
 *   store_tool [--store=keyring|file] load ENV     creds JSON on stdout
 *   store_tool [--store=keyring|file] list         one env per line
 *   store_tool [--store=keyring|file] delete ENV
 *   store_tool [--store=keyring|file] load-threads ENV N   N loads at once
 *
 * STORE_TOOL_DEBUG=1 in the environment turns on debug logging.
 *
 * Exit status: 0, the errno of a failure (ENOENT, EHOSTDOWN, ...) with a line
 * "store_tool: ERRNONAME: message" on stderr, or 64 for a usage error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

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

static int tool_save(enum store_kind kind)
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
		err = store_save(kind, &c);
	creds_clear(&c);
	return err;
}

static int tool_load(enum store_kind kind, const char *env)
{
	struct creds c = { 0 };
	char *json = NULL;
	int err = store_load(kind, env, &c);

	if (!err)
		err = creds_to_json(&c, &json);
	if (!err)
		printf("%s\n", json);
	creds_free_secret_string(json);
	creds_clear(&c);
	return err;
}

static int tool_list(enum store_kind kind)
{
	char **envs = NULL;
	size_t count = 0;
	int err = store_list(kind, &envs, &count);

	if (err)
		return err;
	for (size_t i = 0; i < count; i++)
		printf("%s\n", envs[i]);
	store_list_free(envs, count);
	return 0;
}

struct tool_job {
	enum store_kind kind;
	const char *env;
	pthread_t thread;
	int err;
};

static void *tool_load_job(void *arg)
{
	struct tool_job *job = arg;
	struct creds c = { 0 };

	job->err = store_load(job->kind, job->env, &c);
	creds_clear(&c);
	return NULL;
}

/* Loads from n threads at once; the first failure is the result. */
static int tool_load_threads(enum store_kind kind, const char *env,
			     const char *n_text)
{
	struct tool_job jobs[64];
	char *end;
	long n = strtol(n_text, &end, 10);
	int err = 0;

	if (*end || n < 1 || n > 64)
		return 1;
	for (long i = 0; i < n; i++) {
		jobs[i] = (struct tool_job){ .kind = kind, .env = env };
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

static int tool_run(enum store_kind kind, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "save") == 0 && argc == 1)
		return tool_save(kind);
	if (strcmp(cmd, "load") == 0 && argc == 2)
		return tool_load(kind, argv[1]);
	if (strcmp(cmd, "list") == 0 && argc == 1)
		return tool_list(kind);
	if (strcmp(cmd, "load-threads") == 0 && argc == 3)
		return tool_load_threads(kind, argv[1], argv[2]);
	if (strcmp(cmd, "delete") == 0 && argc == 2)
		return store_delete(kind, argv[1]);
	return 1;
}

static int tool_usage(void)
{
	fprintf(stderr, "usage: store_tool [--store=keyring|file] "
		"save | load ENV | list | delete ENV\n");
	return TOOL_USAGE;
}

int main(int argc, char **argv)
{
	enum store_kind kind = STORE_KEYRING;
	const char *name;
	int err;

	if (getenv("STORE_TOOL_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG);
	if (argc > 1 && strncmp(argv[1], "--store=", 8) == 0) {
		if (store_parse_kind(argv[1] + 8, &kind))
			return tool_usage();
		argc--;
		argv++;
	}
	if (argc < 2)
		return tool_usage();
	err = tool_run(kind, argc - 1, argv + 1);
	if (err == 1)
		return tool_usage();
	if (!err)
		return 0;
	name = strerrorname_np(-err);
	fprintf(stderr, "store_tool: %s: %s\n", name ? name : "?",
		store_strerror(kind, err));
	return -err;
}
