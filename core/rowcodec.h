/*
 * rowcodec.h - a record as an SQL row, shared by the device's store
 * (store.c) and HQ's backends (sync/hq/): the row form, the DDL of a record
 * table, and the SQLite statement runner with typed values.
 */
#ifndef FS_ROWCODEC_H
#define FS_ROWCODEC_H

#include <sqlite3.h>
#include "record.h"
#include "util.h"

/* Bind typed parameters, step through the rows handing each to fn as typed
 * values, then reset: the statement runner of the store and of HQ's SQLite
 * backend. */
struct fs_val;
int fs_sqlite_run(sqlite3 *db, sqlite3_stmt *st, int n, const struct fs_val *p,
		  int (*fn)(void *ctx, int ncol, const struct fs_val *vals), void *ctx);
/* Bind one typed value to parameter `col` (1-based) of st (text borrowed). */
int fs_sqlite_bind(sqlite3_stmt *st, int col, const struct fs_val *v);
/* Map an SQLite failure to FIELDSYNC_EIO/EBUSY with its message. */
int fs_sqlite_err(sqlite3 *db, int rc, const char *what);
/*
 * The row form of a record, shared by the local store and the HQ backends:
 * id, fields..., scope, vv, dots, sib, hlc (FS_ROW_COLS values).
 * fs_rec_to_row() borrows from `r` and from enc[0..2], which the caller
 * frees after use; fs_rec_from_row() copies what it needs.
 */
#define FS_ROW_COLS(t) ((t)->nfields + 6)
int fs_rec_to_row(const struct fs_rec *r, struct fs_val *row, char *enc[3]);
int fs_rec_from_row(const struct fs_table *t, const struct fs_val *row, struct fs_rec *out);
/* The same, read from the current row of an SQLite statement from column col0. */
int fs_row_read(sqlite3_stmt *st, int col0, const struct fs_table *t, struct fs_rec *out);
/* The SQL column list of a table ("id, name, ..., hlc") into b. */
int fs_sql_columns(const struct fs_table *t, struct fs_buf *b);
/* CREATE TABLE / CREATE INDEX statements for a record table as of `version`,
 * with `extra` column definitions appended (HQ adds its own) and column
 * types {integer, real, text} of the target SQL dialect (NULL: SQLite's). */
int fs_sql_table_ddl(const struct fs_table *t, int version, const char *extra, const char *const *types,
		     struct fs_buf *b);
const char *fs_sql_type(enum fs_type t);
const char *fs_sql_type_in(enum fs_type t, const char *const *types);

#endif
