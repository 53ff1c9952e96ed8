/*
 * bench_store.c - profiles stored per second by the listing's write path.
 *
 * Usage: bench_store [PAGES [SIZE [DIR]]] (default 100 pages of 1000, in
 * $TMPDIR or /tmp). Makes PAGES search pages of SIZE generated profiles
 * (profiles.h), then times what a first listing does with them: the main
 * thread parses a page (page_parse) and renders its profiles (item_render)
 * while a second thread stores the one before in one batch (store_put_item
 * of each profile, the resume point, the commit). The listing does the
 * same work, but parses each page on its own thread and renders and
 * writes it on a thread of the page's own (listing.c); here parsing and
 * rendering stay together, apart from the writes, so that each half has
 * its own CPU time. Making the pages' text is not timed. It prints
 * each thread's CPU time, which the load of a shared machine changes less
 * than the wall time. The last line printed is the figure alone, profiles
 * per second, for scripts; it is not a test and CI does not run it.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fs/store/store.h"
#include "fs/sync/page.h"
#include "profiles.h"

#define EPOCH_MS 1641055332180

struct job {
	struct store *st;
	GPtrArray *items;
	double cpu;		/* seconds the storing thread ran */
	int res;
};

/* The calling thread's CPU time: the figure the machine's load moves least. */
static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *page_text(int page, int size)
{
	GString *s = g_string_new("{\"data\":{\"results\":[");
	int i, n;

	for (i = 0; i < size; i++) {
		n = page * size + i;
		char *text = profile_text(n, EPOCH_MS + n);

		g_string_append(s, text);
		if (i + 1 < size)
			g_string_append_c(s, ',');
		free(text);
	}
	g_string_append_printf(s, "],\"cursor\":\"id=c%d\"},\"errors\":[]}",
			       page);
	return g_string_free(s, FALSE);
}

/* One page in one batch, with a resume point as the listing's. */
static gpointer store_page(gpointer arg)
{
	struct job *job = arg;
	const struct item *item = NULL;
	bool changed;
	double cpu = thread_cpu();
	guint i;

	job->res = store_begin(job->st);
	if (job->res < 0)
		return NULL;
	for (i = 0; i < job->items->len; i++) {
		item = g_ptr_array_index(job->items, i);
		if (store_put_item(job->st, item, 1, &changed) < 0)
			job->res = -EIO;
	}
	store_state_set(job->st, "part.0.resume", item ? item->modified_ms : 0);
	store_state_set(job->st, "part.0.phase", 1);
	if (store_commit(job->st) < 0)
		job->res = -EIO;
	job->cpu += thread_cpu() - cpu;
	return NULL;
}

static void finish(struct job *job, GThread **thread)
{
	if (!*thread)
		return;
	g_thread_join(*thread);
	*thread = NULL;
	check(job->res == 0);
	g_ptr_array_unref(job->items);
}

static GPtrArray *render_page(char *text)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)item_unref);
	const cJSON *profile;
	struct item *item;
	struct page page;

	check(page_parse(text, strlen(text), &page) == 0);
	cJSON_ArrayForEach(profile, page.results) {
		check(item_render(profile, &item) == 0);
		g_ptr_array_add(items, item);
	}
	page_free(&page);
	return items;
}

static double run(struct store *st, char **pages, int n_pages)
{
	struct job job = { .st = st };
	double cpu = thread_cpu();
	GThread *thread = NULL;
	gint64 start = g_get_monotonic_time();
	GPtrArray *items;
	int i;

	for (i = 0; i < n_pages; i++) {
		items = render_page(pages[i]);
		finish(&job, &thread);
		job.items = items;
		thread = g_thread_new("store", store_page, &job);
	}
	finish(&job, &thread);
	printf("CPU seconds: %.2f parsing and rendering, %.2f writing\n",
	       thread_cpu() - cpu, job.cpu);
	return (double)(g_get_monotonic_time() - start) / 1e6;
}

static void remove_store(char *dir, char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		char *name = g_strconcat(path, suffixes[i], NULL);

		unlink(name);
		g_free(name);
	}
	rmdir(dir);
	g_free(path);
	g_free(dir);
}

int main(int argc, char *argv[])
{
	int n_pages = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 100;
	int size = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1000;
	const char *tmp = argc > 3 ? argv[3] : getenv("TMPDIR");
	char *dir, *path, **pages;
	struct store *st;
	double secs;
	int i;

	check(n_pages > 0 && size > 0);
	dir = g_strdup_printf("%s/bench_store.XXXXXX", tmp ? tmp : "/tmp");
	check(g_mkdtemp(dir));
	path = g_build_filename(dir, "bench.sqlite", NULL);
	pages = g_new(char *, n_pages);
	for (i = 0; i < n_pages; i++)
		pages[i] = page_text(i, size);
	/* the cache a mount gives it at the default memory_limit (256 MiB) */
	check(store_open(path, (size_t)256 << 19, &st) == 0);
	secs = run(st, pages, n_pages);
	printf("%d pages of %d profiles stored in %.2f s, %.0f bytes/profile\n",
	       n_pages, size, secs,
	       (double)store_bytes(st) / ((double)n_pages * size));
	printf("%.0f\n", (double)n_pages * size / secs);
	store_close(st);
	for (i = 0; i < n_pages; i++)
		g_free(pages[i]);
	g_free(pages);
	remove_store(dir, path);
	return 0;
}
