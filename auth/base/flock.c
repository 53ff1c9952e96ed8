/*
 * flock.c - take an exclusive flock, polling with a growing interval.
 *
 * flock() belongs to the open file description, so two opens in one process
 * exclude each other just as two processes do, and the kernel drops the lock
 * when its holder dies. The file is opened without following a symlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "auth/base/clock.h"
#include "auth/base/flock.h"

#define POLL_FIRST_S 0.01
#define POLL_MAX_S 0.05

static int wait_for_lock(int fd, int timeout_ms, bool (*stop)(void *arg),
			 void *arg)
{
	double deadline = clock_now() + timeout_ms / 1000.0;
	double delay = POLL_FIRST_S, left;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (stop && stop(arg))
			return -ECANCELED;
		left = deadline - clock_now();
		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		clock_sleep(timeout_ms >= 0 && left < delay ? left : delay);
		delay = delay * 2 < POLL_MAX_S ? delay * 2 : POLL_MAX_S;
	}
}

/*
 * Opens path (created 0600 if missing) and takes an exclusive flock on it:
 * *fd holds it until flock_release(). timeout_ms < 0 waits without a limit,
 * 0 tries once; -ETIMEDOUT when it passes. stop(arg), when given, is asked
 * between polls: -ECANCELED when it says so. -ELOOP for a symlink.
 */
int flock_take(const char *path, int timeout_ms, bool (*stop)(void *arg),
	       void *arg, int *fd)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int res;

	if (f < 0)
		return -errno;
	res = wait_for_lock(f, timeout_ms, stop, arg);
	if (res < 0) {
		close(f);
		return res;
	}
	*fd = f;
	return 0;
}

void flock_release(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
