/*
 * auth.c - parsing and dispatch of `sprinklrfs auth COMMAND`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/base/log.h"
#include "auth/cli/auth.h"
#include "auth/cli/cli.h"
#include "auth/cli/login.h"
#include "auth/cli/status.h"
#include "auth/creds/backend.h"
#include "auth/net/endpoint.h"
#include "auth/oauth/oauth.h"

void auth_usage(void)
{
	printf("usage: sprinklrfs auth login ENV --key KEY [--redirect-uri URI] [--api-url URL]\n"
	       "                        [--ca-file FILE] [--no-browser] [--timeout SECONDS]\n"
	       "                        [--store keyring|file]\n"
	       "       sprinklrfs auth import ENV --key KEY [--redirect-uri URI] [--api-url URL]\n"
	       "                        [--ca-file FILE] [--store keyring|file]\n"
	       "       sprinklrfs auth list [--store keyring|file]\n"
	       "       sprinklrfs auth status [ENV...] [--json] [--store keyring|file]\n"
	       "       sprinklrfs auth refresh ENV [--store keyring|file]\n"
	       "       sprinklrfs auth logout ENV [--store keyring|file]\n"
	       "\n"
	       "login   opens Sprinklr's authorization page, receives the code on the\n"
	       "        redirect URI (default %s),\n"
	       "        and stores the tokens. The application secret is read from a\n"
	       "        prompt, or from one line of standard input.\n"
	       "import  stores tokens obtained by hand: reads the application secret,\n"
	       "        the access token and the refresh token (three lines).\n"
	       "list    the names of the stored environments, one per line; reads\n"
	       "        only the store, never the network (for scripts and completion).\n"
	       "status  one line per environment; exit 0 when all are usable, 1 when\n"
	       "        one needs a login, 3 when one could not be checked (offline).\n"
	       "refresh gets a new token set now. logout forgets an environment.\n"
	       "\n"
	       "ENV is the Sprinklr environment (prod, prod2, qa4, ...). --api-url\n"
	       "defaults to %s; --ca-file trusts a private CA.\n"
	       "Credentials live in the Secret Service keyring; --store file keeps them\n"
	       "in $XDG_CONFIG_HOME/sprinklrfs/ (mode 0600) for headless servers.\n",
	       OAUTH_DEFAULT_REDIRECT_URI, OAUTH_DEFAULT_API_URL);
}

enum { OPT_KEY = 256, OPT_REDIRECT, OPT_API_URL, OPT_CA_FILE, OPT_NO_BROWSER,
       OPT_STORE, OPT_JSON, OPT_TIMEOUT };

static const struct option long_options[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "redirect-uri", required_argument, NULL, OPT_REDIRECT },
	{ "api-url", required_argument, NULL, OPT_API_URL },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "no-browser", no_argument, NULL, OPT_NO_BROWSER },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_timeout(const char *s, int *out)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end || n < 1 || n > 86400)
		return -1;
	*out = (int)n;
	return 0;
}

static int parse_option(struct cli_opts *o, int c)
{
	switch (c) {
	case OPT_KEY: o->key = optarg; return 0;
	case OPT_REDIRECT: o->redirect_uri = optarg; return 0;
	case OPT_API_URL: o->api_url = optarg; return 0;
	case OPT_CA_FILE: o->ca_file = optarg; return 0;
	case OPT_NO_BROWSER: o->no_browser = true; return 0;
	case OPT_JSON: o->json = true; return 0;
	case OPT_STORE:
		if (creds_backend_parse(optarg, &o->creds) == 0)
			return 0;
		log_error("--store takes keyring or file, not '%s'", optarg);
		return -1;
	case OPT_TIMEOUT:
		if (parse_timeout(optarg, &o->timeout_s) == 0)
			return 0;
		log_error("--timeout takes seconds (1 to 86400)");
		return -1;
	default:
		return -1;
	}
}

static int check_envs(const struct cli_opts *o)
{
	int i;

	for (i = 0; i < o->n_envs; i++) {
		if (!ep_env_valid(o->envs[i])) {
			log_error("'%s' is not an environment name: use 1 to %d "
				  "characters a-z and 0-9 (prod, prod2, qa4)",
				  o->envs[i], EP_ENV_MAX);
			return -1;
		}
	}
	return 0;
}

static int parse_args(int argc, char *argv[], struct cli_opts *o)
{
	int c;

	optind = 1;
	for (;;) {
		c = getopt_long(argc, argv, "h", long_options, NULL);
		if (c == -1)
			break;
		if (c == 'h') {
			auth_usage();
			return 1;
		}
		if (parse_option(o, c) < 0)
			return -1;
	}
	o->envs = argv + optind;
	o->n_envs = argc - optind;
	return check_envs(o);
}

static int need_one_env(const struct cli_opts *o)
{
	if (o->n_envs == 1)
		return 0;
	log_error("auth %s takes exactly one environment (see sprinklrfs auth --help)",
		  o->command);
	return -1;
}

static const struct {
	const char *name;
	int (*run)(const struct cli_opts *o);
	bool one_env;
} commands[] = {
	{ "login", cli_login, true },
	{ "import", cli_import, true },
	{ "list", cli_list, false },
	{ "status", cli_status, false },
	{ "refresh", cli_refresh, true },
	{ "logout", cli_logout, true },
};

/* argv[0] is "auth", argv[1] the command. */
int auth_main(int argc, char *argv[])
{
	struct cli_opts o = {
		.creds = CREDS_KEYRING,
		.timeout_s = 600,
		.redirect_uri = OAUTH_DEFAULT_REDIRECT_URI,
		.api_url = OAUTH_DEFAULT_API_URL,
	};
	size_t i;
	int res;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		auth_usage();
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	o.command = argv[1];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, o.command) != 0)
			continue;
		res = parse_args(argc - 1, argv + 1, &o);
		if (res != 0)
			return res > 0 ? CLI_OK : CLI_USAGE;
		if (commands[i].one_env && need_one_env(&o) < 0)
			return CLI_USAGE;
		o.env = o.n_envs ? o.envs[0] : NULL;
		return commands[i].run(&o);
	}
	log_error("unknown command 'auth %s' (see sprinklrfs auth --help)", o.command);
	return CLI_USAGE;
}
