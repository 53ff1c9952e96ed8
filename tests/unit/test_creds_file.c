/*
 * test_creds_file.c - credentials kept in a file (the opt-in backend), in a
 * throwaway XDG_CONFIG_HOME.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "check.h"
#include "auth/creds/backend.h"

static char root[PATH_MAX];
static char dir[PATH_MAX];

static void make(struct creds *c, const char *env, const char *token)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->env, sizeof(c->env), "%s", env);
	c->api_url = strdup("https://127.0.0.1:8443");
	c->key = strdup("k");
	c->secret = strdup("s");
	c->redirect_uri = strdup("http://localhost:8123/sprinklr/callback");
	c->access_token = strdup(token);
	c->refresh_token = strdup("r");
	c->expires_at = 1800000000;
}

static void path_of(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	check(n >= 0 && (size_t)n < size);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *f;
	int res;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	check(f);
	fputs(text, f);
	fclose(f);
	res = chmod(path, mode);
	check(res == 0);
}

/* The permission bits of path; asserts that it exists. */
static mode_t mode_of(const char *path)
{
	struct stat st;
	int res = stat(path, &st);

	check(res == 0);
	return st.st_mode & 0777;
}

static void test_save_load(void)
{
	struct creds c, got = { 0 };
	char path[PATH_MAX];
	int res;

	make(&c, "prod2", "a1");
	res = creds_save(CREDS_FILE, &c);
	check(res == 0);
	check(mode_of(dir) == 0700);
	path_of(path, sizeof(path), "prod2.json");
	check(mode_of(path) == 0600);
	res = creds_load(CREDS_FILE, "prod2", &got);
	check(res == 0);
	check(strcmp(got.access_token, "a1") == 0);
	check(strcmp(got.env, "prod2") == 0 && got.expires_at == 1800000000);
	creds_clear(&got);
	creds_clear(&c);
}

static bool no_temp_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool clean = true;

	check(d);
	for (de = readdir(d); de; de = readdir(d))
		if (strstr(de->d_name, ".tmp-"))
			clean = false;
	closedir(d);
	return clean;
}

static void test_atomic_replace(void)
{
	struct creds c, got = { 0 };
	char path[PATH_MAX];
	struct stat before, after;
	char buf[4096];
	ssize_t n;
	int fd, res;

	path_of(path, sizeof(path), "prod2.json");
	fd = open(path, O_RDONLY);
	check(fd >= 0);
	res = fstat(fd, &before);
	check(res == 0);
	make(&c, "prod2", "a2");
	res = creds_save(CREDS_FILE, &c);
	check(res == 0);
	creds_clear(&c);
	/* a new file took the name; a reader of the old one sees it whole */
	res = stat(path, &after);
	check(res == 0 && after.st_ino != before.st_ino);
	n = read(fd, buf, sizeof(buf) - 1);
	check(n > 0);
	buf[n] = '\0';
	check(strstr(buf, "\"access_token\":\"a1\""));
	close(fd);
	res = creds_load(CREDS_FILE, "prod2", &got);
	check(res == 0);
	check(strcmp(got.access_token, "a2") == 0);
	creds_clear(&got);
	check(no_temp_files());
}

static void test_list_delete(void)
{
	struct creds c;
	GStrv envs = NULL;
	int res;

	make(&c, "qa4", "q");
	res = creds_save(CREDS_FILE, &c);
	check(res == 0);
	creds_clear(&c);
	write_file("README.txt", "x", 0600);
	write_file("Bad.json", "{}", 0600);
	write_file(".prod.json.tmp-abcdef", "{}", 0600);
	res = creds_list(CREDS_FILE, &envs);
	check(res == 0);
	check(g_strv_length(envs) == 2);
	check(strcmp(envs[0], "prod2") == 0 && strcmp(envs[1], "qa4") == 0);
	g_strfreev(envs);

	res = creds_delete(CREDS_FILE, "qa4");
	check(res == 0);
	res = creds_delete(CREDS_FILE, "qa4");
	check(res == 0);
	res = creds_load(CREDS_FILE, "qa4", &c);
	check(res == -ENOENT);
	res = creds_delete(CREDS_FILE, "../x");
	check(res == -EINVAL);
	res = creds_list(CREDS_FILE, &envs);
	check(res == 0);
	check(g_strv_length(envs) == 1 && strcmp(envs[0], "prod2") == 0);
	g_strfreev(envs);
}

static void expect_load_fails(const char *env, int want)
{
	struct creds c, before;
	int res;

	make(&c, "keep", "untouched");
	before = c;
	res = creds_load(CREDS_FILE, env, &c);
	check(res == want);
	check(memcmp(&c, &before, sizeof(c)) == 0);
	creds_clear(&c);
}

static void set_mode(const char *path, mode_t mode)
{
	int res = chmod(path, mode);

	check(res == 0);
}

static void test_refuse_readable(void)
{
	char path[PATH_MAX];
	const char *msg;

	path_of(path, sizeof(path), "prod2.json");
	set_mode(path, 0644);
	expect_load_fails("prod2", -EPERM);
	msg = creds_strerror(CREDS_FILE, -EPERM);
	check(strstr(msg, path) && strstr(msg, "chmod 600"));
	set_mode(path, 0640);
	expect_load_fails("prod2", -EPERM);
	set_mode(path, 0600);
	expect_load_fails("nothere", -ENOENT);
}

static void test_refuse_symlink(void)
{
	struct creds c;
	char target[PATH_MAX], link[PATH_MAX];
	int res;

	/* a valid, private file that is reached through a symlink */
	make(&c, "prod5", "t");
	res = creds_save(CREDS_FILE, &c);
	check(res == 0);
	creds_clear(&c);
	path_of(target, sizeof(target), "prod5.json");
	path_of(link, sizeof(link), "prod6.json");
	res = rename(target, link);
	check(res == 0);
	res = symlink(link, target);
	check(res == 0);
	expect_load_fails("prod5", -EPERM);
	res = unlink(target);
	check(res == 0);
	res = unlink(link);
	check(res == 0);
}

static void test_corrupt(void)
{
	write_file("prod3.json", "{\"version\":1", 0600);
	expect_load_fails("prod3", -EINVAL);
	/* a document for another environment is not this one's */
	write_file("prod4.json",
		   "{\"version\":1,\"env\":\"prod3\",\"api_url\":\"https://x\","
		   "\"key\":\"k\",\"secret\":\"s\",\"redirect_uri\":\"http://l/c\"}",
		   0600);
	expect_load_fails("prod4", -EINVAL);
	expect_load_fails("Prod4", -EINVAL);
}

static void test_home_fallback(void)
{
	char *home = g_build_filename(root, "home", NULL);
	char *path = g_build_filename(home, ".config", "sprinklrfs",
				      "prod.json", NULL);
	struct creds c;
	int res;

	res = mkdir(home, 0700);
	check(res == 0);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", home, 1);
	make(&c, "prod", "h");
	res = creds_save(CREDS_FILE, &c);
	check(res == 0);
	creds_clear(&c);
	check(mode_of(path) == 0600);
	g_free(path);
	g_free(home);
}

static void cleanup(void)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", root);
	int res = system(cmd);

	check(res == 0);
	g_free(cmd);
}

int main(void)
{
	char tmpl[] = "/tmp/test_creds_file.XXXXXX";
	char *made = mkdtemp(tmpl);
	int n;

	check(made);
	snprintf(root, sizeof(root), "%s", made);
	n = snprintf(dir, sizeof(dir), "%s/sprinklrfs", root);
	check(n >= 0 && (size_t)n < sizeof(dir));
	setenv("XDG_CONFIG_HOME", root, 1);

	test_save_load();
	test_atomic_replace();
	test_list_delete();
	test_refuse_readable();
	test_refuse_symlink();
	test_corrupt();
	test_home_fallback();
	cleanup();
	printf("test_creds_file: ok\n");
	return 0;
}
