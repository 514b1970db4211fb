/* rows.c - building result tables. Rendering lives in formats/out.c. */
#include "rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "util.h"

struct fieldsync_rows *fs_rows_new(int ncol)
{
	struct fieldsync_rows *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->ncol = ncol;
	r->names = calloc((size_t)ncol + 1, sizeof *r->names);
	r->types = calloc((size_t)ncol + 1, sizeof *r->types);
	if (!r->names || !r->types) {
		fs_rows_free(r);
		return NULL;
	}
	return r;
}

int fs_rows_set_col(struct fieldsync_rows *r, int col, const char *name, int type)
{
	char *n = strdup(name);
	if (!n)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	free(r->names[col]);
	r->names[col] = n;
	r->types[col] = type;
	return 0;
}

int fs_rows_add(struct fieldsync_rows *r)
{
	if (r->nrow == r->cap) {
		int cap = r->cap ? r->cap * 2 : 16;
		char **c = realloc(r->cells, (size_t)cap * (size_t)r->ncol * sizeof *c);
		if (!c && r->ncol)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		r->cells = c;
		r->cap = cap;
	}
	memset(r->cells + (size_t)r->nrow * (size_t)r->ncol, 0, (size_t)r->ncol * sizeof *r->cells);
	return r->nrow++;
}

int fs_rows_set(struct fieldsync_rows *r, int row, int col, const char *text)
{
	char **cell = &r->cells[(size_t)row * (size_t)r->ncol + (size_t)col];
	free(*cell);
	*cell = NULL;
	if (text && !(*cell = strdup(text)))
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	return 0;
}

int fs_rows_set_int(struct fieldsync_rows *r, int row, int col, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	return fs_rows_set(r, row, col, buf);
}

const char *fs_rows_cell(const struct fieldsync_rows *r, int row, int col)
{
	return r->cells[(size_t)row * (size_t)r->ncol + (size_t)col];
}

int fs_rows_guess_type(const struct fs_table *t, const char *col)
{
	int i = t ? fs_field_find(t, col) : -1;
	return i >= 0 ? (int)t->fields[i].type : FS_T_TEXT;
}

int fs_rows_from_stmt(sqlite3_stmt *st, const int *types, struct fieldsync_rows **out)
{
	int ncol = sqlite3_column_count(st), rc = 0;
	struct fieldsync_rows *r = fs_rows_new(ncol);
	*out = NULL;
	if (!r)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < ncol; c++)
		rc = fs_rows_set_col(r, c, sqlite3_column_name(st, c), types ? types[c] : FS_T_TEXT);
	int src;
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		for (int c = 0; rc == 0 && c < ncol; c++)
			if (sqlite3_column_type(st, c) != SQLITE_NULL)
				rc = fs_rows_set(r, row, c, (const char *)sqlite3_column_text(st, c));
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = fs_err(src == SQLITE_BUSY ? FIELDSYNC_EBUSY : FIELDSYNC_EIO, "query: %s",
			    sqlite3_errmsg(sqlite3_db_handle(st)));
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void fs_rows_free(struct fieldsync_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->cells && i < (size_t)r->nrow * (size_t)r->ncol; i++)
		free(r->cells[i]);
	for (int c = 0; r->names && c < r->ncol; c++)
		free(r->names[c]);
	free(r->cells);
	free(r->names);
	free(r->types);
	free(r);
}

FIELDSYNC_API int fieldsync_rows_count(const fieldsync_rows *r)
{
	return r ? r->nrow : 0;
}

FIELDSYNC_API int fieldsync_rows_columns(const fieldsync_rows *r)
{
	return r ? r->ncol : 0;
}

FIELDSYNC_API const char *fieldsync_rows_name(const fieldsync_rows *r, int col)
{
	return r && col >= 0 && col < r->ncol ? r->names[col] : NULL;
}

FIELDSYNC_API int fieldsync_rows_find(const fieldsync_rows *r, const char *name)
{
	for (int c = 0; r && c < r->ncol; c++)
		if (strcmp(r->names[c], name) == 0)
			return c;
	return -1;
}

FIELDSYNC_API const char *fieldsync_rows_value(const fieldsync_rows *r, int row, int col)
{
	if (!r || row < 0 || row >= r->nrow || col < 0 || col >= r->ncol)
		return NULL;
	return r->cells[(size_t)row * (size_t)r->ncol + (size_t)col];
}

FIELDSYNC_API void fieldsync_rows_free(fieldsync_rows *r)
{
	fs_rows_free(r);
}
