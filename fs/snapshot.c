/*
 * snapshot.c - the items of an index sorted by id, and profiles.ndjson.
 *
 * A snapshot is immutable once sorted and is read without locks; it holds a
 * reference to each item it lists, so the bytes it serves stay put however
 * the index changes meanwhile. index.c fills it under the index lock and
 * sorts it outside.
 *
 * profiles.ndjson is never stored: ends[] holds the prefix sums of the line
 * lengths (compact size plus the newline), a read finds its first line by
 * binary search and streams each line's compact form out of the item's
 * pretty bytes with render_compact().
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "render.h"

static int by_id(const void *a, const void *b)
{
	const struct idx_item *x = *(struct idx_item *const *)a;
	const struct idx_item *y = *(struct idx_item *const *)b;

	return strcmp(x->id, y->id);
}

struct idx_snapshot *snapshot_alloc(size_t n)
{
	struct idx_snapshot *snap;

	snap = malloc(sizeof(*snap) + n * (sizeof(*snap->items) +
					   sizeof(*snap->ends)));
	if (!snap)
		return NULL;
	snap->refs = 1;
	snap->n = n;
	snap->ends = (uint64_t *)(snap + 1);
	snap->items = (struct idx_item **)(snap->ends + n);
	return snap;
}

void snapshot_sort(struct idx_snapshot *snap)
{
	uint64_t end = 0;
	size_t i;

	qsort(snap->items, snap->n, sizeof(*snap->items), by_id);
	for (i = 0; i < snap->n; i++) {
		end += snap->items[i]->compact_size + 1;
		snap->ends[i] = end;
	}
}

void idx_snapshot_unref(struct idx_snapshot *snap)
{
	size_t i;

	if (!snap || __atomic_sub_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < snap->n; i++)
		idx_item_unref(snap->items[i]);
	free(snap);
}

size_t idx_snapshot_count(const struct idx_snapshot *snap)
{
	return snap ? snap->n : 0;
}

const struct idx_item *idx_snapshot_item(const struct idx_snapshot *snap,
					 size_t i)
{
	return snap && i < snap->n ? snap->items[i] : NULL;
}

uint64_t idx_snapshot_ndjson_size(const struct idx_snapshot *snap)
{
	return snap && snap->n ? snap->ends[snap->n - 1] : 0;
}

/* The first line that ends after off. */
static size_t line_at(const struct idx_snapshot *snap, uint64_t off)
{
	size_t lo = 0, hi = snap->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (snap->ends[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Copies bytes [from, to) of line i (compact JSON, then '\n') to out. */
static size_t line_copy(const struct idx_snapshot *snap, size_t i,
			uint64_t from, uint64_t to, char *out)
{
	const struct idx_item *item = snap->items[i];
	size_t n;

	n = render_compact(item->data, item->size, from, to, out);
	if (to > item->compact_size)
		out[n++] = '\n';
	return n;
}

ssize_t idx_snapshot_ndjson_read(const struct idx_snapshot *snap, char *buf,
				 size_t size, off_t off)
{
	uint64_t total = idx_snapshot_ndjson_size(snap), pos, start;
	size_t i, done = 0;

	if (off < 0)
		return -EINVAL;
	pos = (uint64_t)off;
	if (pos >= total || size == 0)
		return 0;
	if (size > total - pos)
		size = total - pos;
	if (size > SSIZE_MAX)
		size = SSIZE_MAX;
	for (i = line_at(snap, pos); done < size; i++) {
		start = i ? snap->ends[i - 1] : 0;
		done += line_copy(snap, i, pos + done - start,
				  pos + size - start, buf + done);
	}
	return (ssize_t)done;
}
