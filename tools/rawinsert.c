/*
 * rawinsert - the limit reference for sync throughput: how fast SQLite
 * itself inserts the same rows into the same schema (same tables, same
 * indexes as a device store), with one prepared statement per table and
 * one transaction. Rows are read from SRC into memory first; only the
 * inserts into a fresh DST are timed.
 *   tools/rawinsert SRC DST   -> {"records":N,"ms":T,"per_s":R}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store_int.h"

struct row {
	const struct fs_table *t;
	struct fs_val *v;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rawinsert SRC DST\n");
		return 2;
	}
	sqlite3 *src;
	struct fs_store *dst;
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	if (sqlite3_open_v2(argv[1], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "rawinsert: cannot open %s\n", argv[1]);
		return 1;
	}
	remove(argv[2]);
	if (fs_store_open(argv[2], FS_OPEN_CREATE, &dst)) {
		fprintf(stderr, "rawinsert: %s\n", fs_errmsg_get());
		return 1;
	}
	for (int i = 0; i < fs_ntables; i++) {
		const struct fs_table *t = fs_tables[i];
		struct fs_buf cols, sql;
		sqlite3_stmt *st;
		fs_buf_init(&cols, 0);
		fs_buf_init(&sql, 0);
		fs_sql_columns(t, &cols);
		fs_buf_printf(&sql, "SELECT %s FROM %s", cols.p, t->name);
		if (sqlite3_prepare_v2(src, sql.p, -1, &st, NULL) != SQLITE_OK) {
			fprintf(stderr, "rawinsert: %s\n", sqlite3_errmsg(src));
			return 1;
		}
		int nc = FS_ROW_COLS(t);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				rows = realloc(rows, cap * sizeof *rows);
			}
			rows[n].t = t;
			rows[n].v = calloc((size_t)nc, sizeof *rows[n].v);
			for (int c = 0; c < nc; c++) {
				struct fs_val *v = &rows[n].v[c];
				switch (sqlite3_column_type(st, c)) {
				case SQLITE_INTEGER: fs_val_set_int(v, sqlite3_column_int64(st, c)); break;
				case SQLITE_FLOAT: fs_val_set_real(v, sqlite3_column_double(st, c)); break;
				case SQLITE_TEXT:
					fs_val_set_text(v, (const char *)sqlite3_column_text(st, c),
							(size_t)sqlite3_column_bytes(st, c));
					break;
				}
			}
			n++;
		}
		sqlite3_finalize(st);
		fs_buf_release(&cols);
		fs_buf_release(&sql);
	}
	sqlite3_close(src);

	sqlite3_stmt *ins[16] = { 0 };
	for (int i = 0; i < fs_ntables; i++) {
		const struct fs_table *t = fs_tables[i];
		struct fs_buf cols, sql;
		fs_buf_init(&cols, 0);
		fs_buf_init(&sql, 0);
		fs_sql_columns(t, &cols);
		fs_buf_printf(&sql, "INSERT INTO %s (%s) VALUES (?", t->name, cols.p);
		for (int c = 1; c < FS_ROW_COLS(t); c++)
			fs_buf_adds(&sql, ", ?");
		fs_buf_adds(&sql, ")");
		sqlite3_prepare_v2(dst->db, sql.p, -1, &ins[i], NULL);
		fs_buf_release(&cols);
		fs_buf_release(&sql);
	}
	double t0 = now_ms();
	sqlite3_exec(dst->db, "BEGIN", NULL, NULL, NULL);
	for (size_t k = 0; k < n; k++) {
		sqlite3_stmt *st = ins[rows[k].t->idx];
		fs_sqlite_run(dst->db, st, FS_ROW_COLS(rows[k].t), rows[k].v, NULL, NULL);
	}
	sqlite3_exec(dst->db, "COMMIT", NULL, NULL, NULL);
	double ms = now_ms() - t0;
	printf("{\"records\":%zu,\"ms\":%.1f,\"per_s\":%.0f}\n", n, ms, n / (ms / 1e3));
	for (int i = 0; i < fs_ntables; i++)
		sqlite3_finalize(ins[i]);
	for (size_t k = 0; k < n; k++) {
		for (int c = 0; c < FS_ROW_COLS(rows[k].t); c++)
			fs_val_release(&rows[k].v[c]);
		free(rows[k].v);
	}
	free(rows);
	fs_store_close(dst);
	return 0;
}
