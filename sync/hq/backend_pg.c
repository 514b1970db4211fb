/*
 * backend_pg.c - the HQ store on PostgreSQL (libpq), for several fieldsyncd
 * processes over one database.
 *
 * Statements are prepared once per connection, cached by their text, and
 * run with text parameters whose types PostgreSQL infers from the SQL.
 * Result columns come back as text and are typed by their column type:
 * integers (and booleans) as FS_V_INT, floating point as FS_V_REAL, numeric
 * as an integer when it has no fraction.
 *
 * Transactions: a write transaction takes a transaction-level advisory
 * lock first, so write transactions exclude one another until commit just
 * as SQLite's BEGIN IMMEDIATE does. replica.c relies on that: numbers of the
 * change sequence are then handed out in commit order, and a record read
 * in a write transaction cannot change before it is written back (no lost
 * update when two processes push the same record). Row reads that will be
 * written still say FOR UPDATE. A read transaction is REPEATABLE READ READ
 * ONLY: every statement of a pull sees the same snapshot, which holds a
 * prefix of the commit order, so a cursor never passes a row committed late.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "util.h"

#define CACHE 256
#define MAX_PARAMS 128
#define MAX_COLS 128

/* PostgreSQL type oids (pg_type.h is server-side) */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26, OID_FLOAT4 = 700,
       OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

/* The key of the advisory lock that write transactions hold: any constant
 * that nothing else in the database uses ("fieldsyn"). */
#define WRITE_LOCK "SELECT pg_advisory_xact_lock(7379541865523213422)"

struct hq_db {
	struct hq_db_head head;	/* first (backend.h) */
	PGconn *conn;
	struct {
		const char *key;	/* the SQL text pointer the caller passed */
		char *sql;
		char name[16];
	} cache[CACHE];
	int ncache, nprep;
	int in_txn;
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* NOTICEs ("relation already exists, skipping") are not errors */
}

/* Serialization failures, deadlocks and lock timeouts are EBUSY: the
 * caller may retry; everything else is EIO. */
static int pg_err(struct hq_db *d, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : NULL;
	if (!msg || !*msg)
		msg = PQerrorMessage(d->conn);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	int busy = state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"));
	return fs_err(busy ? FIELDSYNC_EBUSY : FIELDSYNC_EIO, "%s: %.*s", what, (int)n, msg);
}

static int pg_open(const char *conninfo, int create, struct hq_db **out)
{
	(void)create;	/* the database itself is made by its administrator */
	struct hq_db *d = calloc(1, sizeof *d);
	*out = NULL;
	if (!d)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	d->conn = PQconnectdb(conninfo);
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
		int rc = fs_err(FIELDSYNC_EIO, "cannot connect to PostgreSQL: %s",
				d->conn ? PQerrorMessage(d->conn) : "out of memory");
		PQfinish(d->conn);
		free(d);
		return rc;
	}
	PQsetNoticeProcessor(d->conn, quiet, NULL);
	PGresult *r = PQexec(d->conn, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_err(d, r, "configuring the connection");
	PQclear(r);
	if (rc) {
		PQfinish(d->conn);
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static void pg_close(struct hq_db *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->ncache; i++)
		free(d->cache[i].sql);
	PQfinish(d->conn);
	free(d);
}

/* The name of the prepared statement for `sql`, preparing it on first use;
 * NULL name (run unprepared) when the cache is full. */
static int prepare(struct hq_db *d, const char *sql, const char **name)
{
	*name = NULL;
	for (int i = 0; i < d->ncache; i++)
		if (d->cache[i].key == sql && strcmp(d->cache[i].sql, sql) == 0) {
			*name = d->cache[i].name;
			return 0;
		}
	if (d->ncache == CACHE)
		return 0;
	int k = d->ncache;
	snprintf(d->cache[k].name, sizeof d->cache[k].name, "fs%d", d->nprep++);
	PGresult *r = PQprepare(d->conn, d->cache[k].name, sql, 0, NULL);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_err(d, r, "preparing HQ statement");
	PQclear(r);
	if (rc)
		return rc;
	if (!(d->cache[k].sql = strdup(sql)))
		return 0;	/* stays prepared under its name, unused */
	d->cache[k].key = sql;
	d->ncache++;
	*name = d->cache[k].name;
	return 0;
}

static int typed(Oid type, const char *s, struct fs_val *v)
{
	switch (type) {
	case OID_BOOL:
		*v = fs_vint(s[0] == 't');
		return 0;
	case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
		*v = fs_vint(strtoll(s, NULL, 10));
		return 0;
	case OID_NUMERIC:
		if (!strpbrk(s, ".eEN")) {
			*v = fs_vint(strtoll(s, NULL, 10));
			return 0;
		}
		/* fall through */
	case OID_FLOAT4: case OID_FLOAT8:
		v->t = FS_V_REAL;
		v->r = strtod(s, NULL);
		return 0;
	default:
		*v = fs_vref(s);
		return 0;
	}
}

static int pg_exec(struct hq_db *d, const char *sql, int n, const struct fs_val *p, hq_row_fn fn, void *ctx)
{
	const char *vals[MAX_PARAMS];
	char num[MAX_PARAMS][32];
	const char *name;
	if (n > MAX_PARAMS)
		return fs_err(FIELDSYNC_EINVAL, "HQ statement has more than %d parameters", MAX_PARAMS);
	for (int i = 0; i < n; i++) {
		switch (p[i].t) {
		case FS_V_INT:
			snprintf(num[i], sizeof num[i], "%lld", (long long)p[i].i);
			vals[i] = num[i];
			break;
		case FS_V_REAL:
			snprintf(num[i], sizeof num[i], "%.17g", p[i].r);
			vals[i] = num[i];
			break;
		case FS_V_TEXT:
			vals[i] = p[i].s;
			break;
		default:
			vals[i] = NULL;
		}
	}
	int rc = prepare(d, sql, &name);
	if (rc)
		return rc;
	PGresult *r = name ? PQexecPrepared(d->conn, name, n, vals, NULL, NULL, 0)
			   : PQexecParams(d->conn, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = pg_err(d, r, "HQ store");
		PQclear(r);
		return rc;
	}
	int ncol = PQnfields(r), nrow = PQntuples(r);
	if (ncol > MAX_COLS)
		rc = fs_err(FIELDSYNC_EINVAL, "HQ statement returns more than %d columns", MAX_COLS);
	struct fs_val row[MAX_COLS];
	for (int i = 0; rc == 0 && fn && i < nrow; i++) {
		for (int c = 0; c < ncol; c++) {
			if (PQgetisnull(r, i, c))
				row[c] = fs_vref(NULL);
			else
				typed(PQftype(r, c), PQgetvalue(r, i, c), &row[c]);
		}
		rc = fn(ctx, ncol, row);
	}
	PQclear(r);
	return rc;
}

static int pg_script(struct hq_db *d, const char *sql)
{
	PGresult *r = PQexec(d->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_err(d, r, "HQ store");
	PQclear(r);
	return rc;
}

static int pg_begin(struct hq_db *d, int write)
{
	if (PQstatus(d->conn) != CONNECTION_OK) {
		/* a pooled connection whose server went away: one reconnect */
		PQreset(d->conn);
		if (PQstatus(d->conn) != CONNECTION_OK)
			return fs_err(FIELDSYNC_EIO, "PostgreSQL connection lost: %s", PQerrorMessage(d->conn));
		for (int i = 0; i < d->ncache; i++)
			free(d->cache[i].sql);
		d->ncache = 0;
		PQsetNoticeProcessor(d->conn, quiet, NULL);
		pg_script(d, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	}
	int rc = pg_script(d, write ? "BEGIN; " WRITE_LOCK : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (rc)
		pg_script(d, "ROLLBACK");
	d->in_txn = rc == 0;
	return rc;
}

static int pg_commit(struct hq_db *d)
{
	PGresult *r = PQexec(d->conn, "COMMIT");
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_err(d, r, "commit");
	/* COMMIT of a failed transaction reports ROLLBACK, not an error */
	if (rc == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = fs_err(FIELDSYNC_EIO, "HQ store: the transaction was rolled back");
	PQclear(r);
	if (rc)
		pg_script(d, "ROLLBACK");
	d->in_txn = 0;
	return rc;
}

static void pg_rollback(struct hq_db *d)
{
	if (d->in_txn || PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		pg_script(d, "ROLLBACK");
	d->in_txn = 0;
}

/* No backup/restore through fieldsyncd: a PostgreSQL store is saved with
 * pg_dump or the server's own continuous archiving (docs/scale.md). */
const struct hq_backend hq_backend_pg = {
	.name = "postgres",
	.t_int = "BIGINT",
	.t_real = "DOUBLE PRECISION",
	.t_text = "TEXT",
	.for_update = " FOR UPDATE",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.script = pg_script,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.backup = NULL,
	.restore = NULL,
};
