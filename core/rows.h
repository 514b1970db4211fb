/*
 * rows.h - result tables (the public fieldsync_rows).
 *
 * A rows object owns every cell (malloc'd text, NULL for empty). Column types
 * are registry types (enum fs_type) so that renderers know money from text
 * and UTC date-times from plain strings.
 */
#ifndef FS_ROWS_H
#define FS_ROWS_H

#include <sqlite3.h>
#include "reg.h"

struct fieldsync_rows {
	int ncol, nrow, cap;
	char **names;
	int *types;
	char **cells;	/* nrow * ncol */
};

struct fieldsync_rows *fs_rows_new(int ncol);
int fs_rows_set_col(struct fieldsync_rows *r, int col, const char *name, int type);
/* Append a row; returns its index or a negative code. Cells start NULL. */
int fs_rows_add(struct fieldsync_rows *r);
int fs_rows_set(struct fieldsync_rows *r, int row, int col, const char *text);
/* An integer cell, written in decimal. */
int fs_rows_set_int(struct fieldsync_rows *r, int row, int col, int64_t v);
/* The text of a cell (NULL: empty), borrowed. */
const char *fs_rows_cell(const struct fieldsync_rows *r, int row, int col);
/* Run a prepared statement and collect every row; column names from SQL,
 * types from `types` (may be NULL: all text). */
int fs_rows_from_stmt(sqlite3_stmt *st, const int *types, struct fieldsync_rows **out);
/* Column type for a registry field name (FS_T_TEXT when unknown). */
int fs_rows_guess_type(const struct fs_table *t, const char *col);
void fs_rows_free(struct fieldsync_rows *r);

#endif
