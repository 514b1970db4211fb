/* csvtab.c - CSV read whole under its header, and the shared feeder (see csvtab.h). */
#include "csvtab.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* The delimiter of a header line: the most frequent of , ; TAB outside quotes. */
static int guess_delim(const char *line)
{
	int n[3] = { 0, 0, 0 }, q = 0;
	for (const char *p = line; *p && *p != '\n'; p++) {
		if (*p == '"')
			q = !q;
		else if (!q)
			n[0] += *p == ',', n[1] += *p == ';', n[2] += *p == '\t';
	}
	return n[1] > n[0] && n[1] >= n[2] ? ';' : n[2] > n[0] && n[2] > n[1] ? '\t' : ',';
}

int fs_csv_delim_parse(const char *s)
{
	if (!s || !strcmp(s, "auto"))
		return 0;
	if (!strcmp(s, ",") || !strcmp(s, "comma"))
		return ',';
	if (!strcmp(s, ";") || !strcmp(s, "semicolon"))
		return ';';
	if (!strcmp(s, "\t") || !strcmp(s, "tab") || !strcmp(s, "\\t"))
		return '\t';
	return -1;
}

const char *fs_csv_number(const char *cell, int delim, char buf[64])
{
	if (!cell || delim == ',')
		return cell;
	const char *c = strchr(cell, ',');
	size_t n = strlen(cell);
	if (!c || n >= 64 || strchr(c + 1, ',') || strchr(cell, '.'))
		return cell;
	for (const char *p = cell; *p; p++)
		if (!(*p >= '0' && *p <= '9') && *p != ',' && !(p == cell && (*p == '-' || *p == '+')))
			return cell;
	memcpy(buf, cell, n + 1);
	buf[c - cell] = '.';
	return buf;
}

int fs_csv_feed(FILE *fp, long max_bytes, struct fs_csv_pos *pos, void (*cell)(void *, size_t, void *),
		void (*row)(int, void *), void *ctx)
{
	struct csv_parser cp;
	char buf[65536];
	long total = 0;
	int first = 1;
	if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return pos->rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	/* fed a line at a time, so each record knows the line it starts on */
	while (pos->rc == 0 && fgets(buf, sizeof buf, fp)) {
		size_t n = strlen(buf), off = 0;
		total += (long)n;
		if (total > max_bytes) {
			pos->rc = fs_err(FIELDSYNC_ELIMIT, "the file is larger than %ld bytes", max_bytes);
			break;
		}
		if (first && n >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
			off = 3;	/* UTF-8 byte order mark */
		if (first) {
			if (!pos->delim)
				pos->delim = guess_delim(buf + off);
			csv_set_delim(&cp, (unsigned char)pos->delim);
		}
		first = 0;
		if (!pos->in_row && !pos->start && strspn(buf + off, " \t\r\n") < n - off)
			pos->start = pos->line;	/* a record starts on this line */
		if (csv_parse(&cp, buf + off, n - off, cell, row, ctx) != n - off && pos->rc == 0)
			pos->rc = fs_err(FIELDSYNC_EINVAL, "line %d: not valid CSV (%s)", pos->start ? pos->start : pos->line,
					 csv_strerror(csv_error(&cp)));
		if (n && buf[n - 1] == '\n')
			pos->line++;
	}
	if (pos->rc == 0 && ferror(fp))
		pos->rc = fs_err(FIELDSYNC_EIO, "reading the file failed");
	if (pos->rc == 0 && csv_fini(&cp, cell, row, ctx) != 0 && pos->rc == 0)
		pos->rc = fs_err(FIELDSYNC_EINVAL, "line %d: not valid CSV (%s: a quote is not closed)",
				 pos->start ? pos->start : pos->line, csv_strerror(csv_error(&cp)));
	csv_free(&cp);
	return pos->rc;
}

struct tab_read {
	struct fs_csv_pos pos;	/* first: the feeder's */
	struct fs_csvtab *t;
	int max_rows, cap, cur, header_done, any;
	char **row;		/* the row being read: ncol cells */
};

static void tab_cell(void *s, size_t n, void *ctx)
{
	struct tab_read *r = ctx;
	struct fs_csvtab *t = r->t;
	if (r->pos.rc)
		return;
	if (!r->pos.in_row) {
		r->pos.in_row = 1;
		if (!r->pos.start)
			r->pos.start = r->pos.line;
	}
	if (!r->header_done) {
		char *name = malloc(n + 1), **h = realloc(t->head, (size_t)(t->ncol + 1) * sizeof *h);
		if (h)
			t->head = h;
		if (!name || !h) {
			free(name);
			r->pos.rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
			return;
		}
		for (size_t i = 0; i < n; i++)
			name[i] = ((const char *)s)[i] == '-' ? '_' : (char)((((const char *)s)[i] >= 'A' &&
						((const char *)s)[i] <= 'Z') ? ((const char *)s)[i] + 32 : ((const char *)s)[i]);
		name[n] = '\0';
		if (fs_csvtab_col(t, name) >= 0) {
			r->pos.rc = fs_err(FIELDSYNC_EINVAL, "line %d: column '%.60s' appears twice", r->pos.start, name);
			free(name);
			return;
		}
		t->head[t->ncol++] = name;
		return;
	}
	int c = r->cur++;
	if (c >= t->ncol) {
		if (n)
			r->pos.rc = fs_err(FIELDSYNC_EINVAL, "line %d: more cells than the header has columns",
					   r->pos.start);
		return;
	}
	if (!n)
		return;
	if (!(r->row[c] = malloc(n + 1))) {
		r->pos.rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		return;
	}
	memcpy(r->row[c], s, n);
	r->row[c][n] = '\0';
	r->any = 1;
}

static void tab_row(int term, void *ctx)
{
	struct tab_read *r = ctx;
	struct fs_csvtab *t = r->t;
	(void)term;
	if (r->pos.rc)
		return;
	int line = r->pos.start;
	r->pos.in_row = 0;
	r->pos.start = 0;
	r->cur = 0;
	if (!r->header_done) {
		r->header_done = 1;
		if (!(r->row = calloc((size_t)t->ncol + 1, sizeof *r->row)))
			r->pos.rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		return;
	}
	if (!r->any)
		return;	/* a row of empty cells */
	r->any = 0;
	if (t->nrow == r->max_rows) {
		r->pos.rc = fs_err(FIELDSYNC_ELIMIT, "line %d: more than %d rows", line, r->max_rows);
		return;
	}
	if (t->nrow == r->cap) {
		int cap = r->cap ? 2 * r->cap : 64;
		char **c = realloc(t->cells, (size_t)cap * (size_t)t->ncol * sizeof *c);
		int *l = c ? realloc(t->line, (size_t)cap * sizeof *l) : NULL;
		if (c)
			t->cells = c;
		if (l)
			t->line = l;
		if (!c || !l) {
			r->pos.rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
			return;
		}
		r->cap = cap;
	}
	memcpy(t->cells + (size_t)t->nrow * (size_t)t->ncol, r->row, (size_t)t->ncol * sizeof *r->row);
	memset(r->row, 0, (size_t)t->ncol * sizeof *r->row);
	t->line[t->nrow++] = line;
}

int fs_csvtab_read(FILE *fp, long max_bytes, int max_rows, struct fs_csvtab *t)
{
	struct tab_read r;
	memset(t, 0, sizeof *t);
	memset(&r, 0, sizeof r);
	r.pos.line = 1;
	r.t = t;
	r.max_rows = max_rows;
	int rc = fs_csv_feed(fp, max_bytes, &r.pos, tab_cell, tab_row, &r);
	t->delim = r.pos.delim ? r.pos.delim : ',';
	for (int c = 0; r.row && c < t->ncol; c++)
		free(r.row[c]);
	free(r.row);
	if (rc == 0 && !r.header_done)
		rc = fs_err(FIELDSYNC_EINVAL, "line 1: the file is empty (a header row is needed)");
	if (rc)
		fs_csvtab_free(t);
	return rc;
}

void fs_csvtab_free(struct fs_csvtab *t)
{
	for (size_t i = 0; t->cells && i < (size_t)t->nrow * (size_t)t->ncol; i++)
		free(t->cells[i]);
	for (int c = 0; c < t->ncol; c++)
		free(t->head[c]);
	free(t->cells);
	free(t->head);
	free(t->line);
	memset(t, 0, sizeof *t);
}

int fs_csvtab_col(const struct fs_csvtab *t, const char *name)
{
	for (int c = 0; c < t->ncol; c++)
		if (!strcmp(t->head[c], name))
			return c;
	return -1;
}

const char *fs_csvtab_cell(const struct fs_csvtab *t, int row, int col)
{
	return col < 0 || row < 0 || row >= t->nrow ? NULL : t->cells[(size_t)row * (size_t)t->ncol + (size_t)col];
}
