/*
 * test_store_file.c - the opt-in file store, in a throwaway XDG_CONFIG_HOME.
 */
#include <assert.h>
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

#include "store.h"

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
	assert((size_t)snprintf(buf, size, "%s/%s", dir, name) < size);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, "w");
	assert(f);
	fputs(text, f);
	fclose(f);
	assert(chmod(path, mode) == 0);
}

static void test_save_load(void)
{
	struct creds c, got = { 0 };
	char path[PATH_MAX];
	struct stat st;

	make(&c, "prod2", "a1");
	assert(store_save(STORE_FILE, &c) == 0);
	assert(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	path_of(path, sizeof(path), "prod2.json");
	assert(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	assert(store_load(STORE_FILE, "prod2", &got) == 0);
	assert(strcmp(got.access_token, "a1") == 0);
	assert(strcmp(got.env, "prod2") == 0 && got.expires_at == 1800000000);
	creds_clear(&got);
	creds_clear(&c);
}

static bool no_temp_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool clean = true;

	assert(d);
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
	int fd;

	path_of(path, sizeof(path), "prod2.json");
	fd = open(path, O_RDONLY);
	assert(fd >= 0 && fstat(fd, &before) == 0);
	make(&c, "prod2", "a2");
	assert(store_save(STORE_FILE, &c) == 0);
	creds_clear(&c);
	/* a new file took the name; a reader of the old one sees it whole */
	assert(stat(path, &after) == 0 && after.st_ino != before.st_ino);
	n = read(fd, buf, sizeof(buf) - 1);
	assert(n > 0);
	buf[n] = '\0';
	assert(strstr(buf, "\"access_token\":\"a1\""));
	close(fd);
	assert(store_load(STORE_FILE, "prod2", &got) == 0);
	assert(strcmp(got.access_token, "a2") == 0);
	creds_clear(&got);
	assert(no_temp_files());
}

static void test_list_delete(void)
{
	struct creds c;
	char **envs = NULL;
	size_t count = 0;

	make(&c, "qa4", "q");
	assert(store_save(STORE_FILE, &c) == 0);
	creds_clear(&c);
	write_file("README.txt", "x", 0600);
	write_file("Bad.json", "{}", 0600);
	write_file(".prod.json.tmp-abcdef", "{}", 0600);
	assert(store_list(STORE_FILE, &envs, &count) == 0);
	assert(count == 2);
	assert(strcmp(envs[0], "prod2") == 0 && strcmp(envs[1], "qa4") == 0);
	store_list_free(envs, count);

	assert(store_delete(STORE_FILE, "qa4") == 0);
	assert(store_delete(STORE_FILE, "qa4") == 0);
	assert(store_load(STORE_FILE, "qa4", &c) == -ENOENT);
	assert(store_delete(STORE_FILE, "../x") == -EINVAL);
	assert(store_list(STORE_FILE, &envs, &count) == 0);
	assert(count == 1 && strcmp(envs[0], "prod2") == 0);
	store_list_free(envs, count);
}

static void expect_load_fails(const char *env, int want)
{
	struct creds c, before;

	make(&c, "keep", "untouched");
	before = c;
	assert(store_load(STORE_FILE, env, &c) == want);
	assert(memcmp(&c, &before, sizeof(c)) == 0);
	creds_clear(&c);
}

static void test_refuse_readable(void)
{
	char path[PATH_MAX];
	const char *msg;

	path_of(path, sizeof(path), "prod2.json");
	assert(chmod(path, 0644) == 0);
	expect_load_fails("prod2", -EPERM);
	msg = store_strerror(STORE_FILE, -EPERM);
	assert(strstr(msg, path) && strstr(msg, "chmod 600"));
	assert(chmod(path, 0640) == 0);
	expect_load_fails("prod2", -EPERM);
	assert(chmod(path, 0600) == 0);
	expect_load_fails("nothere", -ENOENT);
}

static void test_refuse_symlink(void)
{
	struct creds c;
	char target[PATH_MAX], link[PATH_MAX];

	/* a valid, private file that is reached through a symlink */
	make(&c, "prod5", "t");
	assert(store_save(STORE_FILE, &c) == 0);
	creds_clear(&c);
	path_of(target, sizeof(target), "prod5.json");
	path_of(link, sizeof(link), "prod6.json");
	assert(rename(target, link) == 0);
	assert(symlink(link, target) == 0);
	expect_load_fails("prod5", -EPERM);
	assert(unlink(target) == 0 && unlink(link) == 0);
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
	char home[PATH_MAX], path[PATH_MAX + 64];
	struct creds c;
	struct stat st;

	assert((size_t)snprintf(home, sizeof(home), "%s/home", root) <
	       sizeof(home));
	assert(mkdir(home, 0700) == 0);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", home, 1);
	make(&c, "prod", "h");
	assert(store_save(STORE_FILE, &c) == 0);
	creds_clear(&c);
	snprintf(path, sizeof(path), "%s/.config/sprinklrfs/prod.json", home);
	assert(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert(system(cmd) == 0);
}

int main(void)
{
	char tmpl[] = "/tmp/test_store_file.XXXXXX";

	assert(mkdtemp(tmpl));
	snprintf(root, sizeof(root), "%s", tmpl);
	assert((size_t)snprintf(dir, sizeof(dir), "%s/sprinklrfs", root) <
	       sizeof(dir));
	setenv("XDG_CONFIG_HOME", root, 1);

	test_save_load();
	test_atomic_replace();
	test_list_delete();
	test_refuse_readable();
	test_refuse_symlink();
	test_corrupt();
	test_home_fallback();
	cleanup();
	printf("test_store_file: ok\n");
	return 0;
}
