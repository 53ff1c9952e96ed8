/*
 * lines.c - profiles.ndjson and profiles.csv, of every profile or of a
 * list's members: one line per profile, in id order.
 *
 * The file is never stored. A view owns a connection of its own and holds a
 * read transaction on it from open to close, so it reads one snapshot of the
 * store whatever is committed meanwhile. Its size is known at open without
 * reading a line: each line is a stored size plus what the format adds to
 * every line (ndjson: the compact size and the newline; csv: the cells' size,
 * a comma per custom column and the CRLF), and profiles.csv has its header
 * first. The store keeps the sums of every profile's sizes in its total
 * row; a list's are summed over its members. An ndjson line is streamed out
 * of the pretty bytes the store holds with render_compact(); a csv line is
 * laid out from the cells the store holds (columns.h), which are the same
 * for every column layout, so only the snapshot's custom columns are worked
 * out at open. A line whose bytes disagree with its size (which a store
 * that is not what it says could give) never makes the size a lie: an
 * ndjson line is cut or padded with spaces, a csv line is all spaces but its
 * CRLF (a cut could leave a quote open and spoil the rows after it).
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

#include "fs/store/columns.h"
#include "fs/store/conn.h"
#include "fs/store/item.h"
#include "fs/store/lines.h"
#include "fs/store/render.h"

/*
 * A view's own page cache. A view walks the store once, in id order, so a
 * large cache holds nothing it reads again; and every list's two exports may
 * be open at once (an rsync of the environment opens them all), each with
 * its own connection, so the pool's share (store.c) times their number
 * would pass memory_limit.
 */
#define LINES_CACHE_KIB 512

struct store_line_end {
	uint64_t end;		/* offset just past the line's newline */
	int64_t rowid;
};

/* The statements of one view's format and scope (see sql_new). */
enum { Q_TOTAL, Q_FROM_ID, Q_AFTER_ID, Q_ENDS, Q_COUNT };

struct store_lines {
	pthread_mutex_t lock;
	enum lines_format format;
	bool list;			/* a list's members, else every profile */
	char *space;
	int64_t list_id;
	char *sql[Q_COUNT];
	uint64_t size;
	uint64_t n_lines;
	uint64_t extra;			/* what each line adds to its size */
	int64_t newest_ms;		/* its newest profile's modifiedTime */
	struct csv_columns *cols;	/* csv; protected by lock */
	GString *head;			/* csv: the header; else empty */
	GString *row;			/* protected by lock: a csv line */
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

static const char SQL_ID_OF[] = "SELECT id FROM profile WHERE rowid = ?1";
static const char SQL_FIELDS[] =
	"SELECT space, key FROM field ORDER BY space, key";

/* The number of lines, the sums of their stored parts' sizes and the
 * newest profile's time. */
static const char TOTAL_ALL[] =
	"SELECT profiles, ndjson - profiles, csv,"
	" (SELECT max(modified) FROM profile) FROM total";
static const char TOTAL_LIST[] =
	"SELECT count(*), coalesce(sum(p.compact_size), 0),"
	" coalesce(sum(p.csv_size), 0), max(p.modified) FROM member m"
	" JOIN profile p ON p.rowid = m.profile"
	" WHERE m.space = ?2 AND m.list = ?3";
/*
 * Lines from an id on (%s: the size column, the bytes' table, >= or >). A
 * list's walk the id index and keep the members (a primary key lookup
 * each, CROSS JOIN keeping that order): reading a list's export costs a
 * walk of every profile's id, where an index of members by id would cost
 * every listing a write at a random place per membership.
 */
static const char FROM_ALL[] =
	"SELECT p.id, p.%s, b.data FROM profile p"
	" LEFT JOIN %s b ON b.rowid = p.rowid WHERE p.id %s ?1 ORDER BY p.id";
static const char FROM_LIST[] =
	"SELECT p.id, p.%s, b.data FROM profile p INDEXED BY profile_id"
	" CROSS JOIN member m ON m.space = ?2 AND m.list = ?3"
	" AND m.profile = p.rowid"
	" LEFT JOIN %s b ON b.rowid = p.rowid WHERE p.id %s ?1 ORDER BY p.id";
/* Every line's rowid and size, in order (%s: the size column). */
static const char ENDS_ALL[] =
	"SELECT rowid, %s FROM profile INDEXED BY profile_id ORDER BY id";
static const char ENDS_LIST[] =
	"SELECT p.rowid, p.%s FROM profile p INDEXED BY profile_id"
	" CROSS JOIN member m ON m.space = ?2 AND m.list = ?3"
	" AND m.profile = p.rowid ORDER BY p.id";

/* --- opening -------------------------------------------------------------- */

/* The view's statements; they live as long as it does, so their texts key
 * its connection's statement cache (conn.h). */
static void sql_new(struct store_lines *lines)
{
	bool csv = lines->format == LINES_CSV;
	const char *size = csv ? "csv_size" : "compact_size";
	const char *bytes = csv ? "csv" : "body";

	lines->sql[Q_TOTAL] = g_strdup(lines->list ? TOTAL_LIST : TOTAL_ALL);
	lines->sql[Q_FROM_ID] = g_strdup_printf(lines->list ? FROM_LIST
							   : FROM_ALL,
						size, bytes, ">=");
	lines->sql[Q_AFTER_ID] = g_strdup_printf(lines->list ? FROM_LIST
							    : FROM_ALL,
						 size, bytes, ">");
	lines->sql[Q_ENDS] = g_strdup_printf(lines->list ? ENDS_LIST
						       : ENDS_ALL, size);
}

/* A statement of the view, its scope bound (?2 and ?3 of a list's). */
static int view_stmt(struct store_lines *lines, int q, sqlite3_stmt **out)
{
	int ret = conn_stmt(lines->conn, lines->sql[q], out);

	if (ret == 0 && lines->list) {
		sqlite3_bind_text(*out, 2, lines->space, -1, SQLITE_STATIC);
		sqlite3_bind_int64(*out, 3, lines->list_id);
	}
	return ret;
}

/* csv: the snapshot's custom columns and the header. */
static int columns_read(struct store_lines *lines, const struct lines_spec *spec)
{
	struct store_conn *c = lines->conn;
	sqlite3_stmt *stmt;
	const GString *head;
	int ret = conn_stmt(c, SQL_FIELDS, &stmt);

	if (ret < 0)
		return ret;
	lines->cols = columns_new(spec->fields_doc, spec->fields_len);
	for (;;) {
		const char *space, *key;

		ret = conn_step(stmt);
		if (ret <= 0)
			break;
		space = (const char *)sqlite3_column_text(stmt, 0);
		key = (const char *)sqlite3_column_text(stmt, 1);
		if (space && key)
			columns_use(lines->cols, space, key);
	}
	conn_stmt_done(c, stmt);
	head = columns_header(lines->cols);
	g_string_append_len(lines->head, head->str, (gssize)head->len);
	lines->extra = columns_count(lines->cols) + 2;
	return ret;
}

/* The sizes: the number of lines and the sum of their stored parts. */
static int total_read(struct store_lines *lines)
{
	bool csv = lines->format == LINES_CSV;
	sqlite3_stmt *stmt;
	uint64_t sum;
	int ret = view_stmt(lines, Q_TOTAL, &stmt);

	if (ret < 0)
		return ret;
	ret = conn_step(stmt);
	if (ret > 0) {
		lines->n_lines = (uint64_t)sqlite3_column_int64(stmt, 0);
		sum = (uint64_t)sqlite3_column_int64(stmt, csv ? 2 : 1);
		lines->size = lines->head->len + sum +
			      lines->n_lines * lines->extra;
		lines->newest_ms = sqlite3_column_int64(stmt, 3);
	}
	conn_stmt_done(lines->conn, stmt);
	return ret > 0 ? 0 : ret < 0 ? ret : -EUCLEAN;
}

/* Starts the read transaction; its first read fixes the snapshot. */
static int begin_view(struct store_lines *lines, const struct lines_spec *spec)
{
	int ret = conn_exec(lines->conn, "BEGIN");

	lines->extra = 1;
	if (ret == 0 && lines->format == LINES_CSV)
		ret = columns_read(lines, spec);
	return ret < 0 ? ret : total_read(lines);
}

static struct store_lines *lines_new(const struct lines_spec *spec)
{
	struct store_lines *lines = calloc(1, sizeof(*lines));

	if (!lines)
		return NULL;
	if (pthread_mutex_init(&lines->lock, NULL) != 0) {
		free(lines);
		return NULL;
	}
	lines->format = spec->format;
	lines->list = spec->list;
	lines->space = g_strdup(spec->space ? spec->space : "");
	lines->list_id = spec->list_id;
	lines->head = g_string_new(NULL);
	lines->row = g_string_new(NULL);
	sql_new(lines);
	return lines;
}

static void lines_free(struct store_lines *lines)
{
	int q;

	pthread_mutex_destroy(&lines->lock);
	for (q = 0; q < Q_COUNT; q++)
		g_free(lines->sql[q]);
	g_free(lines->space);
	columns_free(lines->cols);
	g_string_free(lines->head, TRUE);
	g_string_free(lines->row, TRUE);
	free(lines->ends);
	free(lines);
}

int lines_open(struct store *st, const struct lines_spec *spec,
	       struct store_lines **out)
{
	struct store_lines *lines = lines_new(spec);
	int ret;

	if (!lines)
		return -ENOMEM;
	ret = conn_open(st->path, LINES_CACHE_KIB, &lines->conn);
	if (ret < 0)
		goto out_free;
	ret = begin_view(lines, spec);
	if (ret < 0)
		goto out_close;
	*out = lines;
	return 0;

out_close:
	conn_close(lines->conn);
out_free:
	lines_free(lines);
	return ret;
}

void lines_close(struct store_lines *lines)
{
	if (!lines)
		return;
	conn_exec(lines->conn, "COMMIT");
	conn_close(lines->conn);	/* before the texts its cache is keyed by */
	lines_free(lines);
}

uint64_t lines_size(const struct store_lines *lines)
{
	return lines ? lines->size : 0;
}

int64_t lines_newest(const struct store_lines *lines)
{
	return lines ? lines->newest_ms : 0;
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
		end += (uint64_t)sqlite3_column_int64(stmt, 1) + lines->extra;
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
	ret = view_stmt(lines, Q_ENDS, &stmt);
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

/* Copies bytes [from, to) of an ndjson line (compact JSON, then '\n'). */
static size_t ndjson_copy(const char *data, size_t size, uint64_t compact,
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

/* Copies bytes [from, to) of a csv line of len bytes (lock held). */
static size_t csv_copy(struct store_lines *lines, const char *data,
		       size_t size, uint64_t len, uint64_t from, uint64_t to,
		       char *out)
{
	GString *row = lines->row;
	size_t n;

	columns_row(lines->cols, data, size, row);
	if (row->len != len) {	/* spaces, its CRLF kept */
		g_string_set_size(row, len >= 2 ? (size_t)len - 2 : 0);
		memset(row->str, ' ', row->len);
		g_string_append_len(row, "\r\n", len >= 2 ? 2 : (gssize)len);
	}
	if (to > len)
		to = len;
	n = from < to ? (size_t)(to - from) : 0;
	memcpy(out, row->str + from, n);
	return n;
}

static size_t line_copy(struct store_lines *lines, sqlite3_stmt *stmt,
			uint64_t stored, uint64_t from, uint64_t to, char *out)
{
	const char *data = sqlite3_column_blob(stmt, 2);
	size_t size = (size_t)sqlite3_column_bytes(stmt, 2);

	if (lines->format == LINES_CSV)
		return csv_copy(lines, data, size, stored + lines->extra,
				from, to, out);
	return ndjson_copy(data, size, stored, from, to, out);
}

static void remember(struct store_lines *lines, const char *id, uint64_t start,
		     uint64_t len)
{
	snprintf(lines->last_id, sizeof(lines->last_id), "%s", id);
	lines->last_start = start;
	lines->last_len = len;
}

/* Lines from the cursor on; positions count from the first line. */
static ssize_t copy_lines(struct store_lines *lines, struct cursor *cur,
			  char *buf, size_t size, uint64_t pos)
{
	sqlite3_stmt *stmt;
	uint64_t start = cur->start, len;
	size_t done = 0;
	int ret;

	ret = view_stmt(lines, cur->inclusive ? Q_FROM_ID : Q_AFTER_ID, &stmt);
	if (ret < 0)
		return ret;
	sqlite3_bind_text(stmt, 1, cur->id, -1, SQLITE_STATIC);
	while (done < size) {
		const char *id;
		uint64_t stored;

		ret = conn_step(stmt);
		if (ret <= 0)
			break;
		id = (const char *)sqlite3_column_text(stmt, 0);
		stored = (uint64_t)sqlite3_column_int64(stmt, 1);
		if (!id) {
			ret = -ENOMEM;
			break;
		}
		len = stored + lines->extra;
		done += line_copy(lines, stmt, stored, pos + done - start,
				  pos + size - start, buf + done);
		remember(lines, id, start, len);
		start += len;
	}
	conn_stmt_done(lines->conn, stmt);
	return ret < 0 ? ret : (ssize_t)done;
}

/* The header's bytes from pos on (lock not needed: it never changes). */
static size_t copy_head(const struct store_lines *lines, char *buf,
			size_t size, uint64_t pos)
{
	size_t n;

	if (pos >= lines->head->len)
		return 0;
	n = lines->head->len - (size_t)pos;
	if (n > size)
		n = size;
	memcpy(buf, lines->head->str + pos, n);
	return n;
}

ssize_t lines_read(struct store_lines *lines, char *buf, size_t size,
		   off_t off)
{
	struct cursor cur;
	uint64_t pos;
	size_t head;
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
	head = copy_head(lines, buf, size, pos);
	if (head == size)
		return (ssize_t)size;
	pos = pos + head - lines->head->len;
	pthread_mutex_lock(&lines->lock);
	ret = find_start(lines, pos, &cur);
	n = ret < 0 ? ret : copy_lines(lines, &cur, buf + head, size - head,
				       pos);
	pthread_mutex_unlock(&lines->lock);
	return n < 0 ? n : n + (ssize_t)head;
}
