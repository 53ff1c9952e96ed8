/*
 * test_pagesize.c - the page size of page_size=auto: the sizes it asks for
 * after each 400, what it keeps in the store for the next mount, a refused
 * floor, and an explicit size that never changes.
 */
#include "check.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs/store/store.h"
#include "fs/sync/pagesize.h"
#include "fs/sync/state.h"

static char dir[64];
static char path[128];

static struct store *open_store(void)
{
	struct store *st = NULL;

	check(store_open(path, 1 << 20, &st) == 0);
	return st;
}

/* 1000, 500, 250 refused; 125 accepted and kept for the next mount. */
static void test_halves_and_remembers(void)
{
	struct store *st = open_store();
	struct pagesize *ps = pagesize_new(st, PAGESIZE_AUTO);
	int size = 0, expect[] = { 500, 250, 125 };
	bool known = true;
	size_t i;

	check(pagesize_get(ps, &known) == 1000 && !known);
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		check(pagesize_refused(ps, pagesize_get(ps, NULL), &size));
		check(size == expect[i]);
	}
	pagesize_accepted(ps, 125);
	check(pagesize_get(ps, &known) == 125 && known);
	pagesize_free(ps);
	store_close(st);

	st = open_store();
	check(state_get(st, STATE_PAGE_SIZE, 0) == 125);
	ps = pagesize_new(st, PAGESIZE_AUTO);
	check(pagesize_get(ps, &known) == 125 && known);
	/* a 400 to a size another search already halved asks for the newer */
	check(pagesize_refused(ps, 125, &size) && size == 100);
	check(pagesize_refused(ps, 125, &size) && size == 100);
	pagesize_free(ps);
	store_close(st);
}

/* A 400 at the floor was about something else: start over, keep nothing. */
static void test_refused_floor_starts_over(void)
{
	struct store *st = open_store();
	struct pagesize *ps;
	int size = 7;

	check(store_state_set(st, STATE_PAGE_SIZE, 0) == 0);
	ps = pagesize_new(st, PAGESIZE_AUTO);
	check(pagesize_refused(ps, 1000, &size) && size == 500);
	check(pagesize_refused(ps, 500, &size) && size == 250);
	check(pagesize_refused(ps, 250, &size) && size == 125);
	check(pagesize_refused(ps, 125, &size) && size == 100);
	size = 7;
	check(!pagesize_refused(ps, 100, &size) && size == 7);
	check(pagesize_get(ps, NULL) == 1000);
	check(state_get(st, STATE_PAGE_SIZE, 0) == 0);
	pagesize_free(ps);
	store_close(st);
}

/* page_size=N: asked as it is, never stored, a 400 stands. */
static void test_explicit_size(void)
{
	struct store *st = open_store();
	struct pagesize *ps = pagesize_new(st, 300);
	bool known = false;
	int size = 7;

	check(pagesize_get(ps, &known) == 300 && known);
	check(!pagesize_refused(ps, 300, &size) && size == 7);
	pagesize_accepted(ps, 300);
	check(state_get(st, STATE_PAGE_SIZE, 0) == 0);
	pagesize_free(ps);
	pagesize_free(NULL);
	store_close(st);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	static const char *suffixes[] = { "", "-wal", "-shm" };
	size_t i;

	snprintf(dir, sizeof(dir), "%s/test_pagesize.XXXXXX", tmp ? tmp : "/tmp");
	check(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	test_halves_and_remembers();
	test_refused_floor_starts_over();
	test_explicit_size();
	printf("pagesize: 3 tests passed\n");
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char name[160];

		snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
		unlink(name);
	}
	rmdir(dir);
	return 0;
}
