/* import.c - customers from CSV, all or nothing (see import.h). */
#include "import.h"
#include "csvtab.h"

#include <csv.h>
#include "api.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fieldsync.h"
#include "util.h"

struct parse {
	struct fs_import *im;
	int col[FS_MAX_FIELDS + 8];	/* field index per column; -1: ignored (id) */
	int ncol;			/* header columns */
	int code_col, id_col;
	int header_done;
	int cur;			/* column of the next cell */
	struct fs_csv_pos pos;		/* the feeder's: line, record start, error */
	struct fs_import_row row;
	int *codes;			/* hash set of the codes so far: row index + 1, 0 empty */
	size_t ncodes;			/* its size, a power of two (0: none yet) */
};

static size_t code_hash(const char *c)
{
	size_t h = 14695981039346656037u;	/* FNV-1a */
	for (; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211u;
	return h;
}

/* The row before that has this code, or -1. */
static int code_find(const struct parse *p, const char *code)
{
	for (size_t k = p->ncodes ? code_hash(code) & (p->ncodes - 1) : 0; p->ncodes && p->codes[k];
	     k = (k + 1) & (p->ncodes - 1))
		if (!strcmp(p->im->rows[p->codes[k] - 1].code, code))
			return p->codes[k] - 1;
	return -1;
}

/* Add row i (which has a code); kept at most half full. */
static int code_add(struct parse *p, int i)
{
	if (2 * ((size_t)p->im->n + 1) > p->ncodes) {
		size_t n = p->ncodes ? 2 * p->ncodes : 256;
		int *t = calloc(n, sizeof *t);
		if (!t)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		for (size_t k = 0; k < p->ncodes; k++)
			if (p->codes[k]) {
				size_t j = code_hash(p->im->rows[p->codes[k] - 1].code) & (n - 1);
				while (t[j])
					j = (j + 1) & (n - 1);
				t[j] = p->codes[k];
			}
		free(p->codes);
		p->codes = t;
		p->ncodes = n;
	}
	size_t j = code_hash(p->im->rows[i].code) & (p->ncodes - 1);
	while (p->codes[j])
		j = (j + 1) & (p->ncodes - 1);
	p->codes[j] = i + 1;
	return 0;
}

static int set_error(struct parse *p, int line, const char *fmt, const char *a, const char *b)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
	if (p->pos.rc == 0)
		p->pos.rc = fs_err(FIELDSYNC_EINVAL, "line %d: %s", line, msg);
	return p->pos.rc;
}

static void header_cell(struct parse *p, const char *s, size_t n)
{
	char name[80];
	size_t k = 0;
	if (p->ncol >= (int)(sizeof p->col / sizeof p->col[0])) {
		set_error(p, 1, "too many columns%s%s", NULL, NULL);
		return;
	}
	for (size_t i = 0; i < n && k < sizeof name - 1; i++)
		name[k++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	name[k] = '\0';
	int fi = strcmp(name, "id") ? fs_field_find(p->im->t, name) : -2;
	if (fi == -2) {
		if (p->id_col >= 0) {
			set_error(p, 1, "column 'id' appears twice%s%s", NULL, NULL);
			return;
		}
		p->id_col = p->ncol;
	}
	if (fi == -1 || (fi >= 0 && (p->im->t->fields[fi].flags & FS_F_INTERNAL))) {
		set_error(p, 1, "unknown column '%.60s'%s", name, NULL);
		return;
	}
	for (int c = 0; fi >= 0 && c < p->ncol; c++)
		if (p->col[c] == fi) {
			set_error(p, 1, "column '%.60s' appears twice%s", name, NULL);
			return;
		}
	if (fi >= 0 && !strcmp(p->im->t->fields[fi].name, "code"))
		p->code_col = p->ncol;
	p->col[p->ncol++] = fi < 0 ? -1 : fi;
}

static void on_cell(void *s, size_t n, void *ctx)
{
	struct parse *p = ctx;
	if (p->pos.rc)
		return;
	if (!p->pos.in_row) {
		p->pos.in_row = 1;
		if (!p->pos.start)
			p->pos.start = p->pos.line;
	}
	if (!p->header_done) {
		header_cell(p, s, n);
		return;
	}
	int c = p->cur++;
	if (c >= p->ncol) {
		if (n)
			set_error(p, p->pos.start, "more cells than the header has columns%s%s", NULL, NULL);
		return;
	}
	int fi = p->col[c];
	if (c == p->id_col && n) {
		free(p->row.id);
		if (!(p->row.id = malloc(n + 1))) {
			p->pos.rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
			return;
		}
		memcpy(p->row.id, s, n);
		p->row.id[n] = '\0';
	}
	if (fi < 0 || n == 0)
		return;
	const struct fs_field *f = &p->im->t->fields[fi];
	char *text = malloc(n + 1);
	if (!text) {
		p->pos.rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		return;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	struct fs_val v = { 0 };
	char num[64];
	const char *in = f->type == FS_T_MONEY || f->type == FS_T_LAT || f->type == FS_T_LON
			 ? fs_csv_number(text, p->pos.delim, num) : text;
	int rc = fs_field_parse(f, in, FS_PARSE_USER, &v);
	if (rc) {
		set_error(p, p->pos.start, "%s%s", fs_errmsg_get(), NULL);
	} else if ((rc = fs_chg_set(&p->row.c, fi, &v))) {
		p->pos.rc = rc;
	} else if (c == p->code_col) {
		p->row.code = text;
		text = NULL;
	}
	fs_val_release(&v);
	free(text);
}

static void on_row(int term, void *ctx)
{
	struct parse *p = ctx;
	struct fs_import *im = p->im;
	(void)term;
	if (p->pos.rc)
		return;
	int line = p->pos.start;
	p->pos.in_row = 0;
	p->pos.start = 0;
	if (!p->header_done) {
		p->header_done = 1;
		if (p->code_col < 0 && p->id_col < 0)
			set_error(p, line, "the header has no column 'code' (rows are matched by customer code)%s%s",
				  NULL, NULL);
		return;
	}
	p->cur = 0;
	if (fs_chg_count(&p->row.c) == 0 && !p->row.code && !p->row.id) {
		fs_chg_release(&p->row.c);
		fs_chg_init(&p->row.c, im->t);
		return;	/* a row of empty cells */
	}
	if (!p->row.code && !p->row.id) {
		set_error(p, line, "code is empty%s%s", NULL, NULL);
		return;
	}
	int dup = p->row.code ? code_find(p, p->row.code) : -1;
	if (dup >= 0) {
		char other[16];
		snprintf(other, sizeof other, "%d", im->rows[dup].line);
		set_error(p, line, "code '%.64s' is already on line %s", p->row.code, other);
		return;
	}
	if (im->n == FS_IMPORT_MAX_ROWS) {
		p->pos.rc = fs_err(FIELDSYNC_ELIMIT, "line %d: more than %d rows", line, FS_IMPORT_MAX_ROWS);
		return;
	}
	if (im->n == im->cap) {
		int cap = im->cap ? im->cap * 2 : 64;
		struct fs_import_row *r = realloc(im->rows, (size_t)cap * sizeof *r);
		if (!r) {
			p->pos.rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
			return;
		}
		im->rows = r;
		im->cap = cap;
	}
	p->row.line = line;
	im->rows[im->n++] = p->row;
	memset(&p->row, 0, sizeof p->row);
	fs_chg_init(&p->row.c, im->t);
	if (im->rows[im->n - 1].code)
		p->pos.rc = code_add(p, im->n - 1);
}

void fs_import_release(struct fs_import *im)
{
	for (int i = 0; i < im->n; i++) {
		fs_chg_release(&im->rows[i].c);
		free(im->rows[i].code);
		free(im->rows[i].id);
	}
	free(im->rows);
	im->rows = NULL;
	im->n = im->cap = 0;
}

int fs_import_read(FILE *fp, const struct fs_table *t, int delim, struct fs_import *im)
{
	struct parse p;
	memset(im, 0, sizeof *im);
	im->t = t;
	memset(&p, 0, sizeof p);
	p.im = im;
	p.code_col = p.id_col = -1;
	p.pos.line = 1;
	p.pos.delim = delim;
	fs_chg_init(&p.row.c, t);
	fs_csv_feed(fp, FS_IMPORT_MAX_BYTES, &p.pos, on_cell, on_row, &p);
	free(p.codes);
	fs_chg_release(&p.row.c);
	free(p.row.code);
	free(p.row.id);
	if (p.pos.rc == 0 && !p.header_done)
		p.pos.rc = fs_err(FIELDSYNC_EINVAL, "line 1: the file is empty (a header row is needed)");
	if (p.pos.rc)
		fs_import_release(im);
	return p.pos.rc;
}

int fs_import_apply(const struct fs_import *im, const struct fs_exec *x, fs_import_write_fn write, void *ctx,
		    struct fieldsync_rows **out)
{
	static const char *const names[] = { "line", "action", "code", "name", "id" };
	static const int types[] = { FS_T_INT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_REF };
	struct fieldsync_rows *r = fs_rows_new(5);
	int rc = r ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	int name_f = fs_field_find(im->t, "name");
	*out = NULL;
	for (int c = 0; rc == 0 && c < 5; c++)
		rc = fs_rows_set_col(r, c, names[c], types[c]);
	for (int i = 0; rc == 0 && i < im->n; i++) {
		const struct fs_import_row *row = &im->rows[i];
		struct fs_found f = { 0, "" };
		char id[33] = "", line[16];
		int changed = 0;
		if (row->id) {
			struct fs_val p = fs_vref(row->id);
			rc = x->fn(x->ctx, "SELECT id FROM customer WHERE id = $1 AND coalesce(deleted, 0) = 0", 1, &p,
				   fs_found_row, &f);
		}
		if (rc == 0 && f.n == 0 && row->code) {
			struct fs_val p = fs_vref(row->code);
			rc = x->fn(x->ctx, "SELECT id FROM customer WHERE code = $1 AND coalesce(deleted, 0) = 0"
				   " ORDER BY id", 1, &p, fs_found_row, &f);
		}
		if (rc == 0 && f.n > 1)
			rc = fs_err(FIELDSYNC_EINVAL, "line %d: code '%.64s' names %d customers already", row->line,
				    row->code, f.n);
		if (rc == 0)
			rc = write(ctx, &row->c, f.n ? f.id : NULL, id, &changed);
		if (rc) {
			rc = fs_err_wrap(rc, "line %d", row->line);
			break;
		}
		int k = fs_rows_add(r);
		if (k < 0) {
			rc = k;
			break;
		}
		snprintf(line, sizeof line, "%d", row->line);
		const struct fs_val *nm = name_f >= 0 && row->c.set[name_f] ? &row->c.v[name_f] : NULL;
		const char *vals[5] = { line, !f.n ? "created" : changed ? "updated" : "unchanged", row->code,
			nm && nm->t == FS_V_TEXT ? nm->s : NULL, f.n ? f.id : id };
		for (int c = 0; rc == 0 && c < 5; c++)
			rc = fs_rows_set(r, k, c, vals[c]);
	}
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- on a device's store ---- */

/* Fields of c that differ from the stored record (0: the write changes nothing). */
static int differs(const struct fs_rec *r, const struct fs_chg *c)
{
	int n = 0;
	for (int i = 0; i < c->t->nfields; i++)
		n += c->set[i] && !fs_val_eq(&r->f[i].v, &c->v[i]);
	return n;
}

static int store_write(void *ctx, const struct fs_chg *c, const char *id, char id_out[33], int *changed)
{
	struct fs_store *s = ctx;
	*changed = 1;
	if (id) {
		struct fs_rec r;
		int rc = fs_store_get(s, c->t, id, &r);
		if (rc)
			return rc;
		*changed = differs(&r, c);
		fs_rec_release(&r);
		if (!*changed)
			return 0;
	}
	return fs_store_write(s, c, id, id_out);
}

FIELDSYNC_API int fieldsync_import(fieldsync_store *s, const char *table, const char *path, int flags,
				   fieldsync_rows **out)
{
	int dry_run = flags & FIELDSYNC_IMPORT_DRY_RUN, delim = (flags >> 8) & 0xff;
	const struct fs_table *t = table ? fs_table_find(table) : NULL;
	struct fs_import im;
	*out = NULL;
	if (t != &fs_tbl_customer)
		return fs_err(FIELDSYNC_EINVAL, "import: only customers can be imported");
	FILE *fp = !strcmp(path, "-") ? stdin : fopen(path, "rb");
	if (!fp)
		return fs_err(FIELDSYNC_ENOTFOUND, "cannot open %.200s", path);
	if (delim && delim != ',' && delim != ';' && delim != '\t') {
		if (fp != stdin)
			fclose(fp);
		return fs_err(FIELDSYNC_EINVAL, "import: the delimiter is a comma, a semicolon or a tab");
	}
	int rc = fs_import_read(fp, t, delim, &im);
	if (fp != stdin)
		fclose(fp);
	if (rc)
		return rc;
	if ((rc = fs_store_begin(s->st)) == 0) {
		struct fs_exec x = fs_store_execer(s->st);
		rc = fs_import_apply(&im, &x, store_write, s->st, out);
		if (rc || dry_run)
			fs_store_rollback(s->st);
		else if ((rc = fs_store_commit(s->st))) {
			fs_rows_free(*out);
			*out = NULL;
		}
	}
	fs_import_release(&im);
	return rc;
}
