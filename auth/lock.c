/*
 * lock.c - the per-environment flock that makes token refresh single-flight.
 *
 * The lock file lives in $XDG_RUNTIME_DIR/sprinklrfs/ or, without a runtime
 * directory, in /tmp/sprinklrfs-UID/. Either directory must be ours and closed
 * to group and others, checked with lstat so that nobody else can pre-create
 * it, or a symlink in its place, in the shared /tmp. flock() belongs to the
 * open file description, so two opens in one process exclude each other just
 * as two processes do, and the kernel drops the lock when its holder dies.
 *
 * A timeout_ms below zero waits without limit; zero tries once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/net/endpoint.h"
#include "lock.h"

#define LOCK_POLL_FIRST_MS 10
#define LOCK_POLL_MAX_MS 50

static int lock_dir(char *buf, size_t size)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	int n;

	if (runtime && runtime[0] == '/')
		n = snprintf(buf, size, "%s/sprinklrfs", runtime);
	else
		n = snprintf(buf, size, "/tmp/sprinklrfs-%u",
			     (unsigned)geteuid());
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Make dir if needed and require a real directory of ours, mode 0700. */
static int lock_make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return -EPERM;
	return 0;
}

static int lock_open(const char *env, int *fd)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int err, n, f;

	err = lock_dir(dir, sizeof(dir));
	if (!err)
		err = lock_make_dir(dir);
	if (err)
		return err;
	n = snprintf(path, sizeof(path), "%s/%s.lock", dir, env);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return errno == ELOOP ? -EPERM : -errno;
	*fd = f;
	return 0;
}

static long long lock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lock_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Poll with a growing interval: flock() itself cannot time out. */
static int lock_wait(int fd, int timeout_ms)
{
	long long deadline = lock_now_ms() + timeout_ms;
	int delay = LOCK_POLL_FIRST_MS;

	for (;;) {
		long long left;

		if (flock(fd, timeout_ms < 0 ? LOCK_EX : LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		left = deadline - lock_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		lock_sleep_ms(left < delay ? (int)left : delay);
		if (delay < LOCK_POLL_MAX_MS)
			delay = delay * 2 > LOCK_POLL_MAX_MS ? LOCK_POLL_MAX_MS
							     : delay * 2;
	}
}

int lock_env(const char *env, int timeout_ms, int *fd)
{
	int f = -1;
	int err;

	if (!ep_env_valid(env) || !fd)
		return -EINVAL;
	err = lock_open(env, &f);
	if (err)
		return err;
	err = lock_wait(f, timeout_ms);
	if (err) {
		close(f);
		return err;
	}
	*fd = f;
	return 0;
}

void lock_release(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
