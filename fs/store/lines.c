/*
 * lines.c - profiles.ndjson: every profile's one-line form, in id order.
 *
 * The file is never stored. A view owns a connection of its own and holds a
 * read transaction on it from open to close, so it reads one snapshot of the
 * store whatever is committed meanwhile; its size is the sum of the lines'
 * lengths (compact size plus the newline), which the store keeps in its
 * total row. Each line is streamed out of the pretty bytes the store holds
 * with render_compact().
 *
 * Finding the line under an offset: a read that starts where the previous
 * one stopped (the common case, cat or cp) resumes from the line it stopped
 * in, remembered by id and start offset, and walks the id index from there.
 * Any other offset needs the line ends: the first such read collects, once,
 * every line's end offset and rowid (16 bytes a line) and later ones
 * binary-search them.
 *
 * Concurrency: a view's mutex, lines->lock, serializes its reads (FUSE may
 * read one open file from two threads) and guards the connection, the
 * resume point and the ends. The size is set at open and never changes.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/store/conn.h"
#include "fs/store/item.h"
#include "fs/store/lines.h"
#include "fs/store/render.h"

struct store_line_end {
	uint64_t end;		/* offset just past the line's newline */
	int64_t rowid;
};

struct store_lines {
	pthread_mutex_t lock;
	uint64_t size;
	uint64_t n_lines;
	struct store_conn *conn;		/* protected by lock */
	char last_id[ITEM_ID_MAX + 1];	/* protected by lock; "" before a read */
	uint64_t last_start;		/* protected by lock */
	uint64_t last_len;		/* protected by lock */
	struct store_line_end *ends;	/* protected by lock; built on demand */
	size_t n_ends;			/* protected by lock */
};

/* Where a read starts: the first line with id >= (or >) id, at start. */
struct cursor {
	char id[ITEM_ID_MAX + 1];
	bool inclusive;
	uint64_t start;
};

static const char SQL_TOTAL[] = "SELECT profiles, ndjson FROM total";
static const char SQL_FROM_ID[] =
	"SELECT p.id, p.compact_size, b.data FROM profile p"
	" JOIN body b ON b.rowid = p.rowid WHERE p.id >= ?1 ORDER BY p.id";
static const char SQL_AFTER_ID[] =
	"SELECT p.id, p.compact_size, b.data FROM profile p"
	" JOIN body b ON b.rowid = p.rowid WHERE p.id > ?1 ORDER BY p.id";
static const char SQL_ENDS[] =
	"SELECT rowid, compact_size FROM profile INDEXED BY profile_id"
	" ORDER BY id";
static const char SQL_ID_OF[] = "SELECT id FROM profile WHERE rowid = ?1";

/* --- opening -------------------------------------------------------------- */

/* Starts the read transaction; its first read fixes the snapshot. */
static int begin_view(struct store_lines *lines)
{
	struct store_conn *c = lines->conn;
	sqlite3_stmt *stmt;
	int ret = conn_exec(c, "BEGIN");

	if (ret == 0)
		ret = conn_stmt(c, SQL_TOTAL, &stmt);
	if (ret < 0)
		return ret;
	ret = conn_step(stmt);
	if (ret > 0) {
		lines->n_lines = (uint64_t)sqlite3_column_int64(stmt, 0);
		lines->size = (uint64_t)sqlite3_column_int64(stmt, 1);
	}
	conn_stmt_done(c, stmt);
	return ret > 0 ? 0 : ret < 0 ? ret : -EUCLEAN;
}

int lines_open(struct store *st, struct store_lines **out)
{
	struct store_lines *lines = calloc(1, sizeof(*lines));
	int ret;

	if (!lines)
		return -ENOMEM;
	ret = conn_open(st->path, st->cache_kib, &lines->conn);
	if (ret < 0)
		goto out_free;
	ret = begin_view(lines);
	if (ret < 0)
		goto out_close;
	if (pthread_mutex_init(&lines->lock, NULL) != 0) {
		ret = -ENOMEM;
		goto out_close;
	}
	*out = lines;
	return 0;

out_close:
	conn_close(lines->conn);
out_free:
	free(lines);
	return ret;
}

void lines_close(struct store_lines *lines)
{
	if (!lines)
		return;
	conn_exec(lines->conn, "COMMIT");
	conn_close(lines->conn);
	pthread_mutex_destroy(&lines->lock);
	free(lines->ends);
	free(lines);
}

uint64_t lines_size(const struct store_lines *lines)
{
	return lines ? lines->size : 0;
}

/* --- the line ends (lock held) ------------------------------------------- */

static int collect_ends(struct store_lines *lines, sqlite3_stmt *stmt)
{
	uint64_t end = 0;
	int ret = 0;

	while (lines->n_ends < lines->n_lines) {
		struct store_line_end *e;

		ret = conn_step(stmt);
		if (ret <= 0)
			break;
		e = &lines->ends[lines->n_ends++];
		e->rowid = sqlite3_column_int64(stmt, 0);
		end += (uint64_t)sqlite3_column_int64(stmt, 1) + 1;
		e->end = end;
	}
	return lines->n_ends < lines->n_lines ? ret : 0;
}

static int build_ends(struct store_lines *lines)
{
	sqlite3_stmt *stmt;
	int ret;

	if (lines->ends)
		return 0;
	if (lines->n_lines > SIZE_MAX / sizeof(*lines->ends))
		return -ENOMEM;
	lines->ends = malloc(lines->n_lines * sizeof(*lines->ends) + 1);
	if (!lines->ends)
		return -ENOMEM;
	ret = conn_stmt(lines->conn, SQL_ENDS, &stmt);
	if (ret == 0) {
		ret = collect_ends(lines, stmt);
		conn_stmt_done(lines->conn, stmt);
	}
	if (ret < 0) {
		free(lines->ends);
		lines->ends = NULL;
		lines->n_ends = 0;
	}
	return ret;
}

/* The first line that ends after off (there is one: off < size). */
static size_t line_at(const struct store_lines *lines, uint64_t off)
{
	size_t lo = 0, hi = lines->n_ends;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lines->ends[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int id_of(struct store_lines *lines, int64_t rowid, char *id)
{
	struct store_conn *c = lines->conn;
	sqlite3_stmt *stmt;
	const char *text;
	int ret = conn_stmt(c, SQL_ID_OF, &stmt);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(stmt, 1, rowid);
	ret = conn_step(stmt);
	text = ret > 0 ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
	if (text)
		snprintf(id, ITEM_ID_MAX + 1, "%s", text);
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : text ? 0 : -EUCLEAN;
}

/* --- reading (lock held) -------------------------------------------------- */

static int find_start(struct store_lines *lines, uint64_t pos, struct cursor *cur)
{
	uint64_t last_end = lines->last_start + lines->last_len;
	size_t i;
	int ret;

	cur->inclusive = true;
	cur->id[0] = '\0';
	cur->start = 0;
	if (lines->last_id[0] && pos >= lines->last_start && pos <= last_end) {
		memcpy(cur->id, lines->last_id, sizeof(cur->id));
		cur->inclusive = pos < last_end;
		cur->start = cur->inclusive ? lines->last_start : last_end;
		return 0;
	}
	if (pos == 0)
		return 0;
	ret = build_ends(lines);
	if (ret < 0)
		return ret;
	i = line_at(lines, pos);
	if (i >= lines->n_ends)
		return -EUCLEAN;
	cur->start = i ? lines->ends[i - 1].end : 0;
	return id_of(lines, lines->ends[i].rowid, cur->id);
}

/* Copies bytes [from, to) of a line (compact JSON, then '\n') to out. */
static size_t line_copy(const char *data, size_t size, uint64_t compact,
			uint64_t from, uint64_t to, char *out)
{
	uint64_t stop = to < compact ? to : compact;
	size_t n = 0, want;

	if (from < stop) {
		want = (size_t)(stop - from);
		n = render_compact(data, size, (size_t)from, (size_t)stop, out);
		if (n < want)	/* bytes that disagree with their size */
			memset(out + n, ' ', want - n);
		n = want;
	}
	if (to > compact && from <= compact)
		out[n++] = '\n';
	return n;
}

static void remember(struct store_lines *lines, const char *id, uint64_t start,
		     uint64_t len)
{
	snprintf(lines->last_id, sizeof(lines->last_id), "%s", id);
	lines->last_start = start;
	lines->last_len = len;
}

static ssize_t copy_lines(struct store_lines *lines, struct cursor *cur,
			  char *buf, size_t size, uint64_t pos)
{
	struct store_conn *c = lines->conn;
	sqlite3_stmt *stmt;
	uint64_t start = cur->start;
	size_t done = 0;
	int ret;

	ret = conn_stmt(c, cur->inclusive ? SQL_FROM_ID : SQL_AFTER_ID, &stmt);
	if (ret < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, cur->id, -1, SQLITE_STATIC);
	while (done < size) {
		const char *id, *data;
		uint64_t compact;

		ret = conn_step(stmt);
		if (ret <= 0)
			break;
		id = (const char *)sqlite3_column_text(stmt, 0);
		compact = (uint64_t)sqlite3_column_int64(stmt, 1);
		data = sqlite3_column_blob(stmt, 2);
		if (!id) {
			ret = -ENOMEM;
			break;
		}
		done += line_copy(data, (size_t)sqlite3_column_bytes(stmt, 2),
				  compact, pos + done - start,
				  pos + size - start, buf + done);
		remember(lines, id, start, compact + 1);
		start += compact + 1;
	}
	conn_stmt_done(c, stmt);
	return ret < 0 ? ret : (ssize_t)done;
}

ssize_t lines_read(struct store_lines *lines, char *buf, size_t size,
		       off_t off)
{
	struct cursor cur;
	uint64_t pos;
	ssize_t n;
	int ret;

	if (off < 0)
		return -EINVAL;
	pos = (uint64_t)off;
	if (pos >= lines->size || size == 0)
		return 0;
	if (size > lines->size - pos)
		size = (size_t)(lines->size - pos);
	if (size > SSIZE_MAX)
		size = SSIZE_MAX;
	pthread_mutex_lock(&lines->lock);
	ret = find_start(lines, pos, &cur);
	n = ret < 0 ? ret : copy_lines(lines, &cur, buf, size, pos);
	pthread_mutex_unlock(&lines->lock);
	return n;
}
