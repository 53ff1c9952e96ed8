/*
 * test_lock.c - the refresh lock excludes other opens and other processes.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "auth/api/lock.h"
#include "auth/base/flock.h"

static char root[PATH_MAX];

static void expect_lock(const char *env, int timeout_ms, int *fd, int want)
{
	int res = lock_env(env, timeout_ms, fd);

	check(res == want);
}

static void test_same_process(void)
{
	int a = -1, b = -1, c = -1;

	expect_lock("prod2", 1000, &a, 0);
	check(a >= 0);
	b = -7;
	expect_lock("prod2", 100, &b, -ETIMEDOUT);
	check(b == -7);
	expect_lock("prod2", 0, &b, -ETIMEDOUT);
	/* another environment has its own lock */
	expect_lock("qa4", 0, &c, 0);
	flock_release(a);
	expect_lock("prod2", 0, &b, 0);
	flock_release(b);
	flock_release(c);
	flock_release(-1);
}

static void wait_child(pid_t pid, int *status)
{
	pid_t waited = waitpid(pid, status, 0);

	check(waited == pid);
}

/* The child tries the lock the parent holds and reports through its status. */
static void test_child_excluded(void)
{
	int fd = -1;
	int status;
	pid_t pid;

	expect_lock("prod2", 1000, &fd, 0);
	pid = fork();
	check(pid >= 0);
	if (pid == 0) {
		int other = -1;

		_exit(lock_env("prod2", 200, &other) == -ETIMEDOUT ? 0 : 1);
	}
	wait_child(pid, &status);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	flock_release(fd);
}

/* The child holds the lock; it dies with the child, not before. */
static void test_dies_with_holder(void)
{
	int ready[2];
	int fd = -1;
	char byte;
	pid_t pid;
	int res;

	res = pipe(ready);
	check(res == 0);
	pid = fork();
	check(pid >= 0);
	if (pid == 0) {
		int held = -1;

		if (lock_env("prod2", 1000, &held) != 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	res = (int)read(ready[0], &byte, 1);
	check(res == 1);
	expect_lock("prod2", 100, &fd, -ETIMEDOUT);
	kill(pid, SIGKILL);
	wait_child(pid, NULL);
	expect_lock("prod2", 1000, &fd, 0);
	flock_release(fd);
	close(ready[0]);
	close(ready[1]);
}

static void test_bad_places(void)
{
	char path[PATH_MAX + 32];
	int fd = -1;
	int res;

	expect_lock("Prod", 0, &fd, -EINVAL);
	expect_lock("../x", 0, &fd, -EINVAL);
	expect_lock(NULL, 0, &fd, -EINVAL);

	/* a lock file that is a symlink is refused */
	snprintf(path, sizeof(path), "%s/sprinklrfs/evil.lock", root);
	res = symlink("/tmp/elsewhere", path);
	check(res == 0);
	expect_lock("evil", 0, &fd, -EPERM);

	/* a directory open to others is refused */
	snprintf(path, sizeof(path), "%s/sprinklrfs", root);
	res = chmod(path, 0755);
	check(res == 0);
	expect_lock("prod2", 0, &fd, -EPERM);
	res = chmod(path, 0700);
	check(res == 0);
	check(fd == -1);
}

static void test_tmp_fallback(void)
{
	char env[16], path[64];
	struct stat st;
	int fd = -1;
	int res;

	snprintf(env, sizeof(env), "ut%d", (int)getpid());
	unsetenv("XDG_RUNTIME_DIR");
	expect_lock(env, 1000, &fd, 0);
	snprintf(path, sizeof(path), "/tmp/sprinklrfs-%u", (unsigned)geteuid());
	res = lstat(path, &st);
	check(res == 0 && S_ISDIR(st.st_mode));
	check((st.st_mode & 077) == 0);
	flock_release(fd);
	snprintf(path, sizeof(path), "/tmp/sprinklrfs-%u/%s.lock",
		 (unsigned)geteuid(), env);
	unlink(path);
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];
	int res;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	res = system(cmd);
	check(res == 0);
}

int main(void)
{
	char tmpl[] = "/tmp/test_lock.XXXXXX";
	char *made = mkdtemp(tmpl);

	check(made);
	snprintf(root, sizeof(root), "%s", made);
	setenv("XDG_RUNTIME_DIR", root, 1);

	test_same_process();
	test_child_excluded();
	test_dies_with_holder();
	test_bad_places();
	test_tmp_fallback();
	cleanup();
	printf("test_lock: ok\n");
	return 0;
}
