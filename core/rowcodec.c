/*
 * rowcodec.c - records as SQL rows, for the device's store and HQ's
 * backends alike (see rowcodec.h): the column list and DDL of a record
 * table, a record to and from its row values, and the SQLite statement
 * runner with typed values (sealed values opened on the way out).
 */
#include "rowcodec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seal.h"

int fs_sqlite_err(sqlite3 *db, int rc, const char *what)
{
	int code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? FIELDSYNC_EBUSY :
		   (rc & 0xff) == SQLITE_NOMEM ? FIELDSYNC_ENOMEM : FIELDSYNC_EIO;
	return fs_err(code, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

const char *fs_sql_type_in(enum fs_type t, const char *const *types)
{
	if (!types)
		return fs_sql_type(t);
	switch (t) {
	case FS_T_INT: case FS_T_MONEY: case FS_T_BOOL: return types[0];
	case FS_T_LAT: case FS_T_LON: return types[1];
	default: return types[2];
	}
}

const char *fs_sql_type(enum fs_type t)
{
	switch (t) {
	case FS_T_INT: case FS_T_MONEY: case FS_T_BOOL: return "INTEGER";
	case FS_T_LAT: case FS_T_LON: return "REAL";
	default: return "TEXT";
	}
}

int fs_sql_columns(const struct fs_table *t, struct fs_buf *b)
{
	int rc = fs_buf_adds(b, "id");
	for (int i = 0; rc == 0 && i < t->nfields; i++)
		rc = fs_buf_printf(b, ", %s", t->fields[i].name);
	return rc ? rc : fs_buf_adds(b, ", scope, vv, dots, sib, hlc");
}

int fs_sql_table_ddl(const struct fs_table *t, int version, const char *extra, const char *const *types,
		     struct fs_buf *b)
{
	int rc = 0;
	if (t->since == version) {
		rc = fs_buf_printf(b, "CREATE TABLE %s (id TEXT PRIMARY KEY NOT NULL", t->name);
		for (int i = 0; rc == 0 && i < t->nfields; i++)
			if (t->fields[i].since <= version)
				rc = fs_buf_printf(b, ", %s %s", t->fields[i].name,
						   fs_sql_type_in(t->fields[i].type, types));
		if (rc == 0)
			rc = fs_buf_printf(b, ", scope TEXT, vv TEXT NOT NULL, dots TEXT NOT NULL,"
					   " sib TEXT, hlc %s NOT NULL%s%s);\n", types ? types[0] : "INTEGER",
					   extra ? ", " : "", extra ? extra : "");
		for (int k = 0; rc == 0 && t->indexes && t->indexes[k]; k++) {
			char nm[128];
			size_t j = 0;
			for (const char *p = t->indexes[k]; *p && j < sizeof nm - 1; p++)
				if (*p != ' ')
					nm[j++] = *p == ',' ? '_' : *p;
			nm[j] = '\0';
			rc = fs_buf_printf(b, "CREATE INDEX %s_%s ON %s(%s);\n", t->name, nm, t->name,
					   t->indexes[k]);
		}
		if (rc == 0)
			rc = fs_buf_printf(b, "CREATE INDEX %s_scope ON %s(scope);\n", t->name, t->name);
	} else if (t->since < version) {
		for (int i = 0; rc == 0 && i < t->nfields; i++)
			if (t->fields[i].since == version)
				rc = fs_buf_printf(b, "ALTER TABLE %s ADD COLUMN %s %s;\n", t->name,
						   t->fields[i].name, fs_sql_type_in(t->fields[i].type, types));
	}
	return rc;
}

/* ---- record rows ---- */

int fs_sqlite_bind(sqlite3_stmt *st, int col, const struct fs_val *v)
{
	switch (v->t) {
	case FS_V_INT: return sqlite3_bind_int64(st, col, v->i);
	case FS_V_REAL: return sqlite3_bind_double(st, col, v->r);
	case FS_V_TEXT: return sqlite3_bind_text(st, col, v->s, -1, SQLITE_STATIC);
	}
	return sqlite3_bind_null(st, col);
}

int fs_rec_from_row(const struct fs_table *t, const struct fs_val *row, struct fs_rec *out)
{
	fs_rec_init(out, t);
	if (row[0].t != FS_V_TEXT || strlen(row[0].s) > FS_ID_LEN)
		return fs_err(FIELDSYNC_EIO, "corrupt row in %s", t->name);
	strcpy(out->id, row[0].s);
	int rc = 0, c = 1 + t->nfields;
	for (int i = 0; rc == 0 && i < t->nfields; i++)
		rc = fs_val_copy(&out->f[i].v, &row[1 + i]);
	if (row[c].t == FS_V_TEXT)
		snprintf(out->scope, sizeof out->scope, "%s", row[c].s);
	out->hlc = row[c + 4].t == FS_V_INT ? row[c + 4].i : 0;
	if (rc == 0)
		rc = fs_vv_decode(row[c + 1].t == FS_V_TEXT ? row[c + 1].s : "", &out->vv);
	if (rc == 0)
		rc = fs_dots_decode(row[c + 2].t == FS_V_TEXT ? row[c + 2].s : "", out);
	if (rc == 0 && row[c + 3].t == FS_V_TEXT)
		rc = fs_sib_decode(row[c + 3].s, out);
	if (rc)
		fs_rec_release(out);
	return rc;
}

int fs_rec_to_row(const struct fs_rec *r, struct fs_val *row, char *enc[3])
{
	const struct fs_table *t = r->t;
	enc[0] = enc[1] = enc[2] = NULL;
	int rc = fs_vv_encode(&r->vv, &enc[0]);
	if (rc == 0)
		rc = fs_dots_encode(r, &enc[1]);
	if (rc == 0)
		rc = fs_sib_encode(r, &enc[2]);
	if (rc) {
		free(enc[0]);
		free(enc[1]);
		enc[0] = enc[1] = enc[2] = NULL;
		return rc;
	}
	int c = 0;
	memset(row, 0, (size_t)FS_ROW_COLS(t) * sizeof *row);
	row[c].t = FS_V_TEXT;
	row[c++].s = (char *)r->id;
	for (int i = 0; i < t->nfields; i++)
		row[c++] = r->f[i].v;	/* borrowed: never released through row */
	if (r->scope[0]) {
		row[c].t = FS_V_TEXT;
		row[c].s = (char *)r->scope;
	}
	c++;
	for (int k = 0; k < 3; k++, c++)
		if (enc[k]) {
			row[c].t = FS_V_TEXT;
			row[c].s = enc[k];
		}
	row[c].t = FS_V_INT;
	row[c].i = r->hlc;
	return 0;
}

/* Typed views of columns [c0, c0 + n) of the current row (text borrowed).
 * Returns the number of sealed values this process could not open. */
static int column_vals(sqlite3_stmt *st, int c0, int n, struct fs_val *v)
{
	int closed = 0;
	for (int c = 0; c < n; c++) {
		memset(&v[c], 0, sizeof v[c]);
		switch (sqlite3_column_type(st, c0 + c)) {
		case SQLITE_INTEGER: v[c].t = FS_V_INT; v[c].i = sqlite3_column_int64(st, c0 + c); break;
		case SQLITE_FLOAT: v[c].t = FS_V_REAL; v[c].r = sqlite3_column_double(st, c0 + c); break;
		case SQLITE_BLOB: {
			int u = fs_unseal_column(st, c0 + c, c, &v[c]);
			closed += u < 0;
			if (u)
				break;
		}
			/* fall through */
		case SQLITE_TEXT:
			v[c].t = FS_V_TEXT;
			v[c].s = (char *)sqlite3_column_text(st, c0 + c);
			break;
		}
	}
	return closed;
}

int fs_row_read(sqlite3_stmt *st, int c0, const struct fs_table *t, struct fs_rec *out)
{
	struct fs_val row[FS_MAX_FIELDS + 6];
	/* a record with a value this process cannot open must not be read:
	 * a write would save the placeholder back */
	if (column_vals(st, c0, FS_ROW_COLS(t), row))
		return fs_err(FIELDSYNC_EAUTH, "%s %.8s holds sealed values this process has no key for"
			      " (the store was sealed after it was opened)", t->name,
			      (const char *)sqlite3_column_text(st, c0));
	return fs_rec_from_row(t, row, out);
}

int fs_sqlite_run(sqlite3 *db, sqlite3_stmt *st, int n, const struct fs_val *p,
		  int (*fn)(void *ctx, int ncol, const struct fs_val *vals), void *ctx)
{
	struct fs_val vals[FS_MAX_FIELDS + 16];
	int rc = 0, src;
	for (int i = 0; i < n; i++)
		fs_sqlite_bind(st, i + 1, &p[i]);
	int ncol = sqlite3_column_count(st);
	if (ncol > (int)(sizeof vals / sizeof vals[0]))
		ncol = (int)(sizeof vals / sizeof vals[0]);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (!fn)
			continue;
		column_vals(st, 0, ncol, vals);
		if ((rc = fn(ctx, ncol, vals)))
			break;
	}
	if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = fs_sqlite_err(db, src, "query");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}
