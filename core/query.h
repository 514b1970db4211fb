/*
 * query.h - the listings shared by the device and HQ.
 *
 * Queries are written once in the SQL both SQLite and PostgreSQL accept,
 * with $1, $2 ... parameters in order of first appearance, and run through
 * an fs_exec: the local store on a device, a backend connection at HQ.
 */
#ifndef FS_QUERY_H
#define FS_QUERY_H

#include "record.h"
#include "rows.h"

/* Called per result row with typed values valid during the call; a
 * non-zero return stops the query and is returned. */
typedef int (*fs_row_fn)(void *ctx, int ncol, const struct fs_val *vals);

/* Record ids gathered by a row callback: the first column of each row, when
 * it is text (fs_ids_row as the fs_row_fn, the list as its ctx). Free
 * `id` when done. */
struct fs_ids {
	char (*id)[33];
	int n, cap;
};
int fs_ids_row(void *ctx, int ncol, const struct fs_val *vals);

struct fs_exec {
	int (*fn)(void *ctx, const char *sql, int n, const struct fs_val *p, fs_row_fn row, void *rctx);
	void *ctx;
};

/* Rows of ids: how many, and the first (an fs_exec row callback for
 * statements whose first column is an id). */
struct fs_found {
	int n;
	char id[33];
};
int fs_found_row(void *ctx, int ncol, const struct fs_val *v);

/* Rows of `sql` into a result table with the given column names/types. */
int fs_exec_rows(const struct fs_exec *x, const char *sql, int n, const struct fs_val *p,
		 const char *const *names, const int *types, struct fieldsync_rows **out);
/* A record id from the full id, a unique prefix (>= 4 hex) or a customer code. */
int fs_query_lookup(const struct fs_exec *x, const struct fs_table *t, const char *key, char id[33]);
/* Live records of t with "field=value" filters and a text search. */
int fs_query_list(const struct fs_exec *x, const struct fs_table *t, const char *const *filters,
		  const char *search, struct fieldsync_rows **out);
/* One record as a one-row table: every field, its territory, vv, time of
 * the last write and the number of open clashes. */
int fs_rows_from_rec(const struct fs_rec *r, struct fieldsync_rows **out);

/* Conflict records with their state: id, table, record, field, current
 * (the value shown now), other (the losing value), status (open: the
 * losing write is still a sibling in the record; resolved), resolution.
 * `get` reads a record by id from the same store. */
typedef int (*fs_get_fn)(void *ctx, const struct fs_table *t, const char *id, struct fs_rec *out);
int fs_query_conflicts(const struct fs_exec *x, fs_get_fn get, void *gctx, int all,
		       struct fieldsync_rows **out);

/* The two writes that resolve conflict `k` on its record `target`: the kept
 * value (keep_loser: the conflict's value, else the current one) for the
 * field - a write that covers every sibling - and the resolution note on
 * the conflict record. ESTATE if the clash is no longer open. Both change
 * sets are initialised by the call (release them). */
int fs_conflict_plan(const struct fs_rec *k, const struct fs_rec *target, int keep_loser, const char *note,
		     struct fs_chg *field, struct fs_chg *resolution);

/* Conflict records: whether the clash is still open in the target record
 * (its losing write is still a sibling there), and the value shown now. */
int fs_conflict_open(const struct fs_rec *conflict, const struct fs_rec *target);

#endif
