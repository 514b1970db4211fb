/*
 * fieldsync.h - the one public interface of the fieldsync engine.
 *
 * fieldsync keeps a local replica of a sales team's customer archive (customers,
 * contacts, visit plans and reports, order lines, collections) in an SQLite
 * file, works fully offline, and synchronises with headquarters over HTTP.
 * The `fieldsync` command is a thin front end over this header; an app that
 * embeds the engine uses exactly the same calls.
 *
 * Conventions (the same for every call):
 *  - Return value: 0 (FIELDSYNC_OK) or a negative FIELDSYNC_E* code. A failed
 *    call has no effect on the store: every write is one transaction.
 *    fieldsync_errmsg() gives the detail of the last failure on the calling
 *    thread ("grade: 'D' is not one of A, B, C, VIP").
 *  - Ownership: objects returned through an `**out` argument belong to the
 *    caller, who releases them with the matching _free() or _close() call. Strings
 *    returned as `const char *` belong to the object they came from and live
 *    as long as it does.
 *  - Errors: every call that can fail returns a code; none prints anything
 *    or exits. A call given a NULL where an object is required is a caller
 *    bug (undefined behaviour), except the _free() / _close() calls, which
 *    accept NULL.
 *  - Threads: a fieldsync_store handle may be used by one thread at a time;
 *    separate handles (in threads or processes) may open the same file, and
 *    SQLite serialises their writes (a write that waits too long for
 *    another fails with FIELDSYNC_EBUSY). Other objects (records, result
 *    tables, route options) are not shared between threads without the
 *    caller's own locking; calls that take no object are thread-safe. The
 *    first network call of the process initialises libcurl
 *    (curl_global_init), which is not thread-safe: make it before other
 *    threads run, or initialise libcurl yourself first.
 *  - ABI: every type is opaque (no struct layout is part of the interface)
 *    and every symbol starts with fieldsync_; the shared library's soname is
 *    libfieldsync.so.0. Build flags: `pkg-config --cflags --libs fieldsync`.
 *  - Text is UTF-8. Date-times on the wire and in JSON are UTC ISO-8601
 *    ("2026-11-23T09:30:00Z"); dates and times of day (a plan's date and
 *    hour) are calendar values without a zone. Money is an integer count of
 *    minor units (cents), never floating point.
 */
#ifndef FIELDSYNC_H
#define FIELDSYNC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FIELDSYNC_API __attribute__((visibility("default")))
#else
#define FIELDSYNC_API
#endif

/* The version of this header: compare with fieldsync_version() to detect a
 * program running against another library than it was built with. */
#define FIELDSYNC_VERSION "0.1.0"
#define FIELDSYNC_VERSION_NUMBER 1000	/* major * 1000000 + minor * 1000 + patch */

/* The version of the library actually running ("0.1.0"), which may differ
 * from the header's FIELDSYNC_VERSION. A static string; never fails;
 * thread-safe. */
FIELDSYNC_API const char *fieldsync_version(void);

/* ---- errors ---- */
#define FIELDSYNC_OK         0
#define FIELDSYNC_EINVAL    -1  /* invalid input (bad field, value, usage) */
#define FIELDSYNC_ENOTFOUND -2  /* unknown id / record / name */
#define FIELDSYNC_ENOMEM    -3  /* out of memory */
#define FIELDSYNC_EIO       -4  /* store or file I/O failure */
#define FIELDSYNC_ESCHEMA   -5  /* store written by a newer version */
#define FIELDSYNC_ENET      -6  /* server unreachable / network failure */
#define FIELDSYNC_EAUTH     -7  /* token refused or device revoked */
#define FIELDSYNC_EPROTO    -8  /* protocol mismatch or malformed reply */
#define FIELDSYNC_EBUSY     -9  /* store locked, another sync running */
#define FIELDSYNC_ESTATE   -10  /* wrong state (not enrolled, already enrolled) */
#define FIELDSYNC_ELIMIT   -11  /* a size or count limit was exceeded */
#define FIELDSYNC_ESERVER  -12  /* server-side failure (5xx) */
#define FIELDSYNC_ETIMEOUT -13  /* a time budget ran out */
#define FIELDSYNC_ECANCELED -14 /* stopped by the caller (progress callback) */
#define FIELDSYNC_EADDRINUSE -15 /* the address to listen on is taken */

/* Static English text for a FIELDSYNC_E* code ("unknown error" for any
 * other number); never NULL, never freed; thread-safe. */
FIELDSYNC_API const char *fieldsync_strerror(int rc);
/* The exit status of fieldsync, fieldsyncd and the tools for a FIELDSYNC_E*
 * code: 1 - rc for a known error (EINVAL 2 ... EADDRINUSE 16), 1 for an
 * unknown negative code; a non-negative rc is returned as it is (0: ok).
 * Never fails; thread-safe. */
FIELDSYNC_API int fieldsync_exit_code(int rc);
/* The detail of the last failure on the calling thread ("grade: 'D' is not
 * one of A, B, C, VIP"), or "" if none. The string belongs to the library
 * and is valid until the next fieldsync call on the same thread. Thread-
 * safe: each thread has its own. */
FIELDSYNC_API const char *fieldsync_errmsg(void);

/* ---- the store ---- */
typedef struct fieldsync_store fieldsync_store;

#define FIELDSYNC_OPEN_CREATE   0x01	/* create the store if missing (file 0600, dir 0700) */
#define FIELDSYNC_OPEN_READONLY 0x02	/* never write (listing commands) */

/*
 * Open (and if needed create or upgrade) the store at `path` (an SQLite file
 * in WAL mode) and give the new handle in *out (NULL on failure). The caller
 * closes it with fieldsync_close().
 * Errors: FIELDSYNC_ENOTFOUND (missing file without FIELDSYNC_OPEN_CREATE),
 * FIELDSYNC_ESCHEMA (a store from a newer version of fieldsync),
 * FIELDSYNC_EIO (not a store, unreadable, cannot create), FIELDSYNC_EBUSY
 * (locked by another writer past the busy timeout), FIELDSYNC_ENOMEM.
 * Thread-safety: any thread; the handle is then used by one at a time.
 */
FIELDSYNC_API int fieldsync_open(const char *path, unsigned flags, fieldsync_store **out);
/* Close a store and free the handle; NULL is a no-op. An open transaction
 * (fieldsync_begin without commit) is rolled back. Never fails. */
FIELDSYNC_API void fieldsync_close(fieldsync_store *s);
/* The default store path into buf (n bytes): $FIELDSYNC_DB, else
 * $XDG_DATA_HOME/fieldsync/fieldsync.db, else
 * ~/.local/share/fieldsync/fieldsync.db. Creates nothing.
 * Errors: FIELDSYNC_EINVAL (no variable to build it from, or longer than n).
 * Thread-safe (reads the environment). */
FIELDSYNC_API int fieldsync_default_path(char *buf, size_t n);
/* This replica's id (32 lower-case hex characters): the store's own until
 * enrolment, then the one HQ gave. Owned by the store; valid until the next
 * fieldsync_enroll() or fieldsync_close() on it. Never fails. */
FIELDSYNC_API const char *fieldsync_replica_id(fieldsync_store *s);

/*
 * Group several writes into one transaction: fieldsync_begin() starts it
 * (nestable: inner begin/commit pairs only count), fieldsync_commit() makes
 * everything since the outermost begin durable at once, and
 * fieldsync_rollback() abandons it (an inner rollback dooms the whole
 * transaction: the outer commit then fails with FIELDSYNC_ESTATE and rolls
 * back). Any failure inside must be followed by fieldsync_rollback().
 * Writes take the store's write lock at begin: another writer waits (busy
 * timeout), then FIELDSYNC_EBUSY.
 * Errors: begin FIELDSYNC_EBUSY / EIO; commit FIELDSYNC_ESTATE (no
 * transaction, or doomed), FIELDSYNC_EIO. rollback never fails.
 * Thread-safety: as the store handle.
 */
FIELDSYNC_API int fieldsync_begin(fieldsync_store *s);
FIELDSYNC_API int fieldsync_commit(fieldsync_store *s);
FIELDSYNC_API void fieldsync_rollback(fieldsync_store *s);

/* ---- records ----
 * Record types: "customer", "contact", "visit", "order_line", "payment",
 * "conflict". A fieldsync_rec is a set of field assignments for one write;
 * values are given as text in the forms a person types: money "1250.50",
 * dates "2026-11-23", times "09:30", date-times "2026-11-23T09:30" (local) or
 * with "Z"/offset, enums in any case with '-' or '_'. Field names accept '-'
 * for '_' ("payment-terms"). Every value is validated by fieldsync_rec_set();
 * record-level rules (required fields, references, immutable fields) are
 * checked by the write.
 */
typedef struct fieldsync_rec fieldsync_rec;

/* A new, empty set of assignments for a record of `table` into *out (NULL
 * on failure); the caller frees it with fieldsync_rec_free(). It belongs to
 * no store and may be written with several times.
 * Errors: FIELDSYNC_EINVAL (unknown table), FIELDSYNC_ENOMEM. Thread-safe. */
FIELDSYNC_API int fieldsync_rec_new(const char *table, fieldsync_rec **out);
/* Assign `value` (copied) to `field`; NULL or "" clears the field. The value
 * is parsed and checked against the field's type and rules at once.
 * Errors: FIELDSYNC_EINVAL (unknown field, a field set by its own call such
 * as `deleted`, or a bad value; the message names field and value), with
 * r unchanged; FIELDSYNC_ENOMEM. Thread-safety: one thread per r. */
FIELDSYNC_API int fieldsync_rec_set(fieldsync_rec *r, const char *field, const char *value);
/* The number of fields assigned in r (cleared ones included). Never fails. */
FIELDSYNC_API int fieldsync_rec_count(const fieldsync_rec *r);
/* Free a record set; NULL is a no-op. */
FIELDSYNC_API void fieldsync_rec_free(fieldsync_rec *r);

/*
 * Create a record from r (which stays the caller's) as one versioned write
 * that syncs; its new id (32 hex and a NUL) is written to id_out.
 * Errors: FIELDSYNC_EINVAL (a required field missing, a reference to no
 * record, a record-level rule), FIELDSYNC_EBUSY / EIO (store),
 * FIELDSYNC_ENOMEM; nothing is written then. Thread-safety: as the store.
 */
FIELDSYNC_API int fieldsync_insert(fieldsync_store *s, const fieldsync_rec *r, char id_out[33]);
/* Change the fields set in r of the record `id` (a full id, see
 * fieldsync_lookup()); a field whose value does not change is not written.
 * Errors: FIELDSYNC_ENOTFOUND (no such or a deleted record),
 * FIELDSYNC_EINVAL (an immutable field changed, a rule, `deleted` set),
 * FIELDSYNC_EBUSY / EIO. Thread-safety: as the store. */
FIELDSYNC_API int fieldsync_update(fieldsync_store *s, const char *id, const fieldsync_rec *r);
/* Delete the record `id` of `table`: a tombstone that syncs like any write.
 * Errors: FIELDSYNC_EINVAL (unknown table), FIELDSYNC_ENOTFOUND (no such
 * record, or already deleted), FIELDSYNC_EBUSY / EIO. Thread-safety: as
 * the store. */
FIELDSYNC_API int fieldsync_delete(fieldsync_store *s, const char *table, const char *id);
/*
 * Find a record id from what a person types: the full id, a unique prefix of
 * at least 4 characters, or (customers) the customer code; the id (32 hex and
 * a NUL) goes to id_out. Errors: FIELDSYNC_ENOTFOUND if nothing matches,
 * FIELDSYNC_EINVAL if a prefix or code is ambiguous or the table unknown,
 * FIELDSYNC_EIO. Reads only. Thread-safety: as the store.
 */
FIELDSYNC_API int fieldsync_lookup(fieldsync_store *s, const char *table, const char *key, char id_out[33]);

/* Money as people type it ("1250", "1250.5", "1250.50") into minor units
 * in *minor. Errors: FIELDSYNC_EINVAL for junk or negatives, FIELDSYNC_ELIMIT
 * beyond 2^53 - 1. Thread-safe. */
FIELDSYNC_API int fieldsync_money_parse(const char *text, int64_t *minor);
/* Minor units as "1250.50" into buf of n bytes (32 always suffice;
 * truncated, still NUL-terminated, if n is smaller). Thread-safe. */
FIELDSYNC_API void fieldsync_money_format(int64_t minor, char *buf, size_t n);

/* Today's local date as YYYY-MM-DD and a NUL into buf (the clock can be
 * pinned for tests with the environment variable FIELDSYNC_NOW_MS,
 * milliseconds since 1970 UTC). Never fails; thread-safe. */
FIELDSYNC_API void fieldsync_local_date(char buf[11]);

/* ---- result tables ----
 * Every listing returns a fieldsync_rows: named, typed columns and rows of
 * values in canonical text (money in minor units, UTC date-times), NULL for
 * an empty cell. It prints itself as a table, JSON or CSV.
 */
typedef struct fieldsync_rows fieldsync_rows;

/* Accessors. A result table is immutable: these never fail and may be
 * called from several threads at once on the same table. Strings belong to
 * the table and live until fieldsync_rows_free(). A NULL table has 0 rows
 * and 0 columns. */
/* The number of rows. */
FIELDSYNC_API int fieldsync_rows_count(const fieldsync_rows *r);
/* The number of columns. */
FIELDSYNC_API int fieldsync_rows_columns(const fieldsync_rows *r);
/* The name of column `col` (0-based), or NULL if out of range. */
FIELDSYNC_API const char *fieldsync_rows_name(const fieldsync_rows *r, int col);
/* The index of the column named `name`, or -1. */
FIELDSYNC_API int fieldsync_rows_find(const fieldsync_rows *r, const char *name);
/* The cell at (row, col), 0-based, as canonical text; NULL for an empty
 * cell or a row or column out of range (so fieldsync_rows_find()'s -1 is
 * safe to pass). */
FIELDSYNC_API const char *fieldsync_rows_value(const fieldsync_rows *r, int row, int col);
/* Free a result table; NULL is a no-op. */
FIELDSYNC_API void fieldsync_rows_free(fieldsync_rows *r);

#define FIELDSYNC_FMT_TABLE  0	/* aligned columns, local times, money 12.50 */
#define FIELDSYNC_FMT_JSON   1	/* a JSON array of objects */
#define FIELDSYNC_FMT_CSV    2	/* RFC 4180, header row */
#define FIELDSYNC_FMT_RECORD 3	/* one "name: value" line per column (first row) */
#define FIELDSYNC_FMT_OBJECT 4	/* the first row as one JSON object */
#define FIELDSYNC_FMT_BOM    0x100	/* CSV: start with a UTF-8 byte order mark */
/* Print `r` to fp in format `fmt` and flush fp; `columns` ("name,grade,...")
 * limits and orders the columns of FMT_TABLE / FMT_CSV (NULL: all).
 * Errors: FIELDSYNC_EINVAL (unknown format), FIELDSYNC_EIO (a write or the
 * flush failed: output may be partial). Thread-safety: as fp. */
FIELDSYNC_API int fieldsync_rows_print(const fieldsync_rows *r, FILE *fp, int fmt, const char *columns);

/* The fields of a record type, for help texts: one row per field the caller
 * may set, with field (as an option name, '-' for '_'), type, rules,
 * meaning; into *out (the caller's). Errors: FIELDSYNC_EINVAL (unknown
 * table), FIELDSYNC_ENOMEM. Thread-safe. */
FIELDSYNC_API int fieldsync_fields(const char *table, fieldsync_rows **out);

/* ---- queries ----
 * Every query reads one consistent snapshot of the store, returns a new
 * result table in *out (the caller's; NULL on failure), and is used from
 * one thread at a time with its store handle. Common errors: FIELDSYNC_EIO
 * (store), FIELDSYNC_ENOMEM.
 */
/* One record, deleted or not, with every field and its sync state (vv,
 * hlc, open conflicts) in one row. Errors: FIELDSYNC_EINVAL (unknown
 * table), FIELDSYNC_ENOTFOUND (no such id: give a full id, see
 * fieldsync_lookup()). */
FIELDSYNC_API int fieldsync_get(fieldsync_store *s, const char *table, const char *id, fieldsync_rows **out);
/*
 * Live records of `table`. `filters` is a NULL-terminated list of
 * "field=value" (value in the fieldsync_rec_set form), `search` (may be NULL)
 * matches the non-sensitive text fields as a substring, ignoring the case of
 * ASCII letters (SQLite's lower(); other scripts match case-sensitively).
 * `filters` may be NULL. Errors: FIELDSYNC_EINVAL (unknown table, field or
 * a bad filter value).
 */
FIELDSYNC_API int fieldsync_list(fieldsync_store *s, const char *table, const char *const *filters,
				 const char *search, fieldsync_rows **out);
/* The day's visits (date "YYYY-MM-DD", NULL: today, local) in route order,
 * with customer, address, purpose, last visit outcome and outstanding
 * amount. Errors: FIELDSYNC_EINVAL (not a date). */
FIELDSYNC_API int fieldsync_today(fieldsync_store *s, const char *date, fieldsync_rows **out);

/* ---- the ledger's reports (docs/ledger.md) ----
 * Read-only, offline, over one snapshot; each returns a new table in *out
 * (the caller's). Money columns are minor units. Errors: FIELDSYNC_EINVAL
 * (a date, month or option that is not one), FIELDSYNC_EIO, ENOMEM.
 */
/* Every visit of a day (NULL: today) with check-in/out, contact met,
 * outcome, problem, countermeasure, follow-up, next date, miss reason, and
 * the amounts ordered, receivable, received and outstanding on it. */
FIELDSYNC_API int fieldsync_report_day(fieldsync_store *s, const char *date, fieldsync_rows **out);
/* Planned vs done per customer for a month "YYYY-MM" (NULL: this month):
 * planned (visits not cancelled), done, missed, open, done_pct, and w1..w5
 * as "done/planned" for days 1-7, 8-14, 15-21, 22-28, 29-31; the last row
 * is the "(total)". */
FIELDSYNC_API int fieldsync_report_plan(fieldsync_store *s, const char *month, fieldsync_rows **out);
/* Where the device is: one position fix (degrees) from gpsd at `gpsd`
 * ("HOST:PORT"; NULL: $FIELDSYNC_GPSD, else 127.0.0.1:2947), waiting at
 * most timeout_ms. Errors: FIELDSYNC_ENET (no gpsd there),
 * FIELDSYNC_ETIMEOUT (no fix in time), FIELDSYNC_EINVAL. */
FIELDSYNC_API int fieldsync_position(const char *gpsd, int timeout_ms, double *lat, double *lon);
/* What a customer owes on `date` (NULL: today): one row with balance
 * (receivables not yet collected, collections paying the oldest first),
 * credit (collections beyond every receivable), the balance by age
 * days_0_30, days_31_60, days_61_90, days_over_90, and oldest_open (the
 * date of the oldest amount still open), zeros when it owes nothing.
 * customer_id NULL: every customer with a payment (with customer, code,
 * territory, rep and customer_id columns), oldest debt first, then a
 * "(total)" row. Money in minor units. */
FIELDSYNC_API int fieldsync_owed(fieldsync_store *s, const char *customer_id, const char *date, fieldsync_rows **out);
/* HQ's price list as the last sync brought it: sku, name, unit, price
 * (minor units), active; sorted by SKU. sku non-NULL: that product only
 * (inactive too: an old order line may name it); else the active ones,
 * or every one with all = 1. An HQ of release 0.1.0 keeps no price list:
 * no rows. */
FIELDSYNC_API int fieldsync_products(fieldsync_store *s, const char *sku, int all, fieldsync_rows **out);
/* Collections in a month (NULL: all time): by "customer" (NULL; ordered,
 * receivable, received, outstanding), "grade" (the same summed, with a
 * "(total)" row) or "open" (each amount still outstanding, oldest first;
 * a receipt beyond its own visit's receivable pays the customer's oldest
 * open amounts), or "ageing" (what is owed today, per customer, oldest
 * debt first: see fieldsync_owed; "ageing-rep", "ageing-territory": the
 * same per owner_rep or territory; month is not used). */
FIELDSYNC_API int fieldsync_report_money(fieldsync_store *s, const char *month, const char *by,
					 fieldsync_rows **out);
/* Customers due for a visit on `date` (NULL: today) by their grade's
 * interval (an HQ setting that syncs), most overdue first, never-visited
 * ones before all: customer, code, territory, grade, interval_days,
 * last_done, days_since, overdue_days, next_planned, customer_id.
 * territory NULL or "": all. */
FIELDSYNC_API int fieldsync_due(fieldsync_store *s, const char *territory, const char *date, fieldsync_rows **out);
/* The visit intervals in force: grade (A, B, C, VIP, none), days, source
 * ("HQ" once a sync brought HQ's setting, else "default"). */
FIELDSYNC_API int fieldsync_due_intervals(fieldsync_store *s, fieldsync_rows **out);

/* Who changed which field of a customer (and of its contacts) when, oldest
 * first: at, by (rep name, "HQ", or "device XXXXXXXX"), record ("customer"
 * or "contact NAME"), field, old_value, new_value, source ("change": the
 * change log that devices write with each edit and that syncs; "last
 * write": a field's current dot where the log has no entry, e.g. creation
 * or an edit at HQ), replica. id: a full customer id (fieldsync_lookup).
 * Errors: FIELDSYNC_ENOTFOUND, FIELDSYNC_EIO, ENOMEM. */
FIELDSYNC_API int fieldsync_customer_history(fieldsync_store *s, const char *id, fieldsync_rows **out);

/* ---- retention (docs/ledger.md) ----
 * A device keeps ordinary visit records for HQ's retention period
 * ("retention_years", 1..100, an HQ setting that syncs; 3 until a sync
 * brings it). A visit is old when its day (the date of its check-in, else
 * its planned date) is before today (UTC) minus that many calendar years.
 * Records flagged `disputed` are kept forever, everywhere.
 */
/* The retention in force, one row: years, source ("HQ" once a sync
 * brought HQ's setting, else "default"), before (the cut-off date: records
 * dated before it are old). Reads only. Errors: FIELDSYNC_EIO, ENOMEM. */
FIELDSYNC_API int fieldsync_retention(fieldsync_store *s, fieldsync_rows **out);
/*
 * Remove old ordinary records from this store only: old visits with their
 * order lines and the payments collected on them, and old payments that
 * have no visit here. Never removed: a record flagged disputed, anything of
 * a disputed customer, a visit with a disputed payment (with all its lines
 * and payments), a visit any part of which has a change not yet pushed
 * (fieldsync_status' pending), a visit without a date. The rows are
 * deleted locally, in one transaction: nothing is synced, HQ keeps every
 * record. dry_run: count only, write nothing. *out (the caller's; may be
 * NULL) gets one row per table (visit, order_line, payment): table, purged
 * (or would be), kept_disputed and kept_unsynced (old rows kept for that
 * reason), years, before.
 * Errors: FIELDSYNC_EBUSY / EIO (store; nothing removed), ENOMEM.
 * Thread-safety: as the store handle.
 */
FIELDSYNC_API int fieldsync_purge(fieldsync_store *s, int dry_run, fieldsync_rows **out);
/*
 * Repair of the store's clock. Every replica refuses writes stamped more
 * than HQ's clock_ahead_minutes (default 1440) ahead of its wall clock and
 * is never moved by them; a store whose clock got there anyway (the system
 * date was far ahead and was then corrected, or the store saw such a write
 * before this check existed) refuses new local writes with
 * FIELDSYNC_ESTATE until repaired. This sets the clock back to the wall
 * clock and rewrites, as this device's own write with the same values,
 * every field of every record stamped beyond the bound, so that HQ accepts
 * them; in one transaction. dry_run: count only. *records (may be NULL):
 * how many records were (or would be) rewritten.
 * Errors: FIELDSYNC_EBUSY / EIO (nothing changed), ENOMEM.
 */
FIELDSYNC_API int fieldsync_repair_clock(fieldsync_store *s, int dry_run, long *records);
/* The outcome of setting (clear 0) or clearing (clear 1) the disputed flag
 * of `table` record `id` that was `was` (0/1) before, as the fieldsync and
 * fieldsyncd `dispute` commands print it: one line of text, or a JSON
 * object {table, id, disputed, changed}. */
FIELDSYNC_API void fieldsync_dispute_print(FILE *out, int json, const char *table, const char *id, int was,
					   int clear);

/* ---- CSV in ---- */
#define FIELDSYNC_IMPORT_DRY_RUN 1	/* check and report, write nothing */
#define FIELDSYNC_IMPORT_DELIM(c) ((int)(unsigned char)(c) << 8)	/* ',', ';' or '\t' */

/*
 * Import customers from the CSV file `path` ("-": standard input), all or
 * nothing, in one transaction: UTF-8 with or without a byte order mark,
 * RFC 4180 quoting (commas, quotes and newlines inside quotes), a header
 * row of field names (as fieldsync_rec_set takes them) with "code" or
 * "id": a row whose id (if the file has that column, as an export does) or
 * else code names a customer updates it, any other creates one (and needs
 * a code); empty cells leave a field as it is. The delimiter (comma,
 * semicolon or tab) is the header's, or FIELDSYNC_IMPORT_DELIM(c); with a
 * semicolon or a tab, money and coordinates may have a decimal comma.
 * flags: FIELDSYNC_IMPORT_DRY_RUN (check and report, write nothing; 1 as
 * before), | FIELDSYNC_IMPORT_DELIM(c). *out (the caller's)
 * gets one row per imported row: line, action (created, updated,
 * unchanged), code, name, id.
 * Errors: FIELDSYNC_EINVAL "line N: reason" for the first bad row (nothing
 * written), FIELDSYNC_ENOTFOUND (no such file), FIELDSYNC_ELIMIT (more
 * than 100000 rows or 64 MiB), FIELDSYNC_EIO / EBUSY. */
FIELDSYNC_API int fieldsync_import(fieldsync_store *s, const char *table, const char *path, int flags,
				   fieldsync_rows **out);

/* A table to export (print it with FIELDSYNC_FMT_CSV, | FIELDSYNC_FMT_BOM
 * for spreadsheets that need the mark): "customers" (every field; imports
 * back with fieldsync_import), "visits" (with customer code and name, the
 * report fields and the amounts, planned date in [from, to]) or "money"
 * (payments dated in [from, to]: receivable, received, balance). from / to
 * are inclusive dates YYYY-MM-DD, NULL: open. Errors: FIELDSYNC_EINVAL. */
FIELDSYNC_API int fieldsync_export(fieldsync_store *s, const char *what, const char *from, const char *to,
				   fieldsync_rows **out);

/* ---- route planning ----
 * Orders a day's planned visits (or a territory's customers) into the
 * shortest drive by great-circle distance (see docs/route.md). Positions are
 * the customers' lat/lon; customers without both are listed after the route,
 * unordered. The rep's start and end are given as "LAT,LON" (decimal degrees,
 * "55.75,37.61") or as "home" / "office", two positions kept in the store's
 * local settings (not synced) by fieldsync_route_place_set().
 *
 * Deterministic: the solver uses a fixed seed and an iteration cap that grows
 * with the number of stops (100 per point, at least 1000, at most 100000), and
 * its input is sorted by record id; with a budget that does not bind (the
 * summary's budget_hit is 0) the same stops and positions give the same order
 * on every machine. Up to 12 points the order is proven shortest.
 */

/* What fieldsync_route_plan() / fieldsync_route_show() work on. */
#define FIELDSYNC_ROUTE_PLANS 0	/* the day's visits (plan: those still planned) */
#define FIELDSYNC_ROUTE_DUE   1	/* customers due by their grade's visit interval */
#define FIELDSYNC_ROUTE_ALL   2	/* every customer (the territory's standing order) */

#define FIELDSYNC_ROUTE_BUDGET_MS 2000	/* default search time limit */

/*
 * Route options: an opaque set of parameters for fieldsync_route_plan() and
 * fieldsync_route_show(), created with defaults - today (local), every
 * territory, start at "home" if set (else the best first stop), open end,
 * FIELDSYNC_ROUTE_PLANS, FIELDSYNC_ROUTE_BUDGET_MS - and changed by the two
 * setters below. The layout is private to the library, so options can be
 * added without breaking the ABI.
 * Ownership: the caller frees the set with fieldsync_route_opts_free();
 * text values are copied. Thread-safety: one thread at a time per set.
 */
typedef struct fieldsync_route_opts fieldsync_route_opts;

/* Text options (fieldsync_route_opts_set_text; NULL restores the default;
 * "" is the default too, except for DATE, where it is not a date) */
#define FIELDSYNC_ROUTE_OPT_DATE      1	/* YYYY-MM-DD; default today (local) */
#define FIELDSYNC_ROUTE_OPT_TERRITORY 2	/* only customers of this territory; default all */
#define FIELDSYNC_ROUTE_OPT_FROM      3	/* start PLACE; default "home" if set, else the best first stop */
#define FIELDSYNC_ROUTE_OPT_TO        4	/* fixed end PLACE; default: end at the last stop */
/* Integer options (fieldsync_route_opts_set_int) */
#define FIELDSYNC_ROUTE_OPT_RETURN    5	/* 1: come back to the start (excludes TO); default 0 */
#define FIELDSYNC_ROUTE_OPT_SELECT    6	/* FIELDSYNC_ROUTE_PLANS (default), _DUE or _ALL */
#define FIELDSYNC_ROUTE_OPT_SAVE      7	/* _DUE/_ALL: 1 stores the order as customer.route_seq */
#define FIELDSYNC_ROUTE_OPT_BUDGET_MS 8	/* search time limit, 0..600000; 0: the iteration cap alone */

/* A new option set with the defaults into *out.
 * Errors: FIELDSYNC_ENOMEM (*out is NULL). */
FIELDSYNC_API int fieldsync_route_opts_new(fieldsync_route_opts **out);
/* Free an option set; NULL is a no-op. */
FIELDSYNC_API void fieldsync_route_opts_free(fieldsync_route_opts *o);
/* Set a text option (value copied; NULL restores its default). The
 * value itself is checked by the plan/show call, which fails with
 * FIELDSYNC_EINVAL naming it. Errors: FIELDSYNC_EINVAL (not a text option,
 * o NULL), FIELDSYNC_ENOMEM; on error the set is unchanged. */
FIELDSYNC_API int fieldsync_route_opts_set_text(fieldsync_route_opts *o, int option, const char *value);
/* Set an integer option. Ranges and combinations (SAVE with _PLANS, RETURN
 * with TO, BUDGET_MS beyond 600000) are checked by the plan/show call.
 * Errors: FIELDSYNC_EINVAL (not an integer option, o NULL); the set is
 * unchanged. */
FIELDSYNC_API int fieldsync_route_opts_set_int(fieldsync_route_opts *o, int option, int value);

/*
 * Plan the route and return it as two tables (both owned by the caller):
 *   stops    one row per point in driving order: kind ("start", "stop",
 *            "end", or "unrouted" for stops without a position), stop
 *            (1..n), name (customer, or the place: "home", "office",
 *            "LAT,LON"), address, city, planned_time, grade, last_done
 *            (date of the last done visit), lat, lon, leg_km, total_km
 *            (text, 2 decimals), leg_m, total_m (whole metres), route_seq
 *            (as stored), visit_id, customer_id;
 *   summary  one row: select, date, territory, from, to, ret, stops,
 *            unrouted, total_m, total_km, previous_m, previous_km
 *            (the same stops in their stored order, same start and end),
 *            saving_m, saving_km, saving_pct, written, exact, iterations,
 *            budget_hit.
 * FIELDSYNC_ROUTE_PLANS orders the day's visits with status planned and
 * stores the order on them as visit.route_seq - ordinary versioned writes
 * that sync - numbering after the day's done and missed visits (1..n on a
 * fresh day); visits without a position get no route_seq. _DUE / _ALL write
 * nothing unless `save`, which stores 1..n as customer.route_seq (unrouted
 * customers: cleared; others untouched). A new order that is not shorter
 * than the stored one keeps the stored one (saving 0, nothing written).
 * Records whose number does not change are not written. All writes are one
 * transaction. summary may be NULL.
 * Errors: FIELDSYNC_EINVAL (date, place, options; nothing written),
 * FIELDSYNC_EIO / EBUSY (store). Thread-safety: as the store handle.
 */
FIELDSYNC_API int fieldsync_route_plan(fieldsync_store *s, const fieldsync_route_opts *o,
				       fieldsync_rows **stops, fieldsync_rows **summary);

/* The stored order as the same two tables, without planning or writing:
 * the day's visits as fieldsync_today() lists them (cancelled ones left
 * out), or the customers in their standing order (_DUE, _ALL). The
 * summary's previous and saving columns are empty. */
FIELDSYNC_API int fieldsync_route_show(fieldsync_store *s, const fieldsync_route_opts *o,
				       fieldsync_rows **stops, fieldsync_rows **summary);

#define FIELDSYNC_ROUTE_GEOJSON 1	/* RFC 7946 FeatureCollection, [lon, lat] */
#define FIELDSYNC_ROUTE_SVG     2	/* self-contained SVG 1.1 picture */
/*
 * Write a route (the stops table of fieldsync_route_plan/_show; summary may
 * be NULL) to fp. GeoJSON: a Point per start, stop and end with its
 * properties, and the route as one LineString (when it has 2 or more
 * positions). SVG: equirectangular projection scaled by cos(mean latitude),
 * numbered stops, start "S" and end "E", a scale bar in km. Unrouted stops
 * have no position and are left out. Errors: FIELDSYNC_EINVAL (format,
 * not a route table), FIELDSYNC_EIO (write). Reads nothing else.
 */
FIELDSYNC_API int fieldsync_route_export(const fieldsync_rows *stops, const fieldsync_rows *summary,
					 FILE *fp, int format);

/* Set the rep's "home" or "office" position from "LAT,LON" (NULL or "":
 * forget it). Kept in the store's local settings; never synced.
 * Errors: FIELDSYNC_EINVAL (another place name, not LAT,LON or out of
 * range), FIELDSYNC_EBUSY / EIO. Thread-safety: as the store handle. */
FIELDSYNC_API int fieldsync_route_place_set(fieldsync_store *s, const char *place, const char *latlon);
/* Two rows, home and office: place, lat, lon (NULL when not set), into *out
 * (the caller's). Errors: FIELDSYNC_EIO, FIELDSYNC_ENOMEM. Thread-safety: as
 * the store handle. */
FIELDSYNC_API int fieldsync_route_places(fieldsync_store *s, fieldsync_rows **out);

/* ---- synchronisation with HQ ----
 * Network calls block the calling thread (use the handle from one thread;
 * see the note on libcurl at the top); they retry transient failures
 * (server unreachable, 5xx, 429) with exponential backoff. A failure that is
 * not transient is not retried: FIELDSYNC_ENET (TLS certificate not
 * verified), FIELDSYNC_EAUTH (token refused, device revoked),
 * FIELDSYNC_EPROTO (protocol mismatch, HQ refused the request),
 * FIELDSYNC_ELIMIT (reply too large). After the retries: FIELDSYNC_ENET,
 * FIELDSYNC_ETIMEOUT, FIELDSYNC_ESERVER, FIELDSYNC_EBUSY (429). Tunables come from the environment:
 * FIELDSYNC_TIMEOUT_MS (per request, default 60000), FIELDSYNC_RETRIES
 * (default 5), FIELDSYNC_RETRY_MS (first backoff, default 500),
 * FIELDSYNC_BATCH (records per push, default 500), FIELDSYNC_PAGE (records
 * per pull page, default 500), FIELDSYNC_CACERT (a CA bundle for a private
 * HQ certificate).
 */

/* Enrol this store with HQ at `server_url` ("http://host:port" or
 * "https://...") using a one-time token from `fieldsyncd rep add`. The store
 * gets a replica id and a device token from HQ (kept in the store, never
 * printed), in one local transaction; device_name (may be NULL) is shown at
 * HQ. Repeating a call whose answer was lost works (a nonce kept in the
 * store). Enrolling again with an HQ of another replica id (a restored HQ)
 * queues everything the store holds for the next push.
 * Errors: FIELDSYNC_ESTATE (already enrolled, without `force`),
 * FIELDSYNC_EINVAL (URL or token malformed; an http:// URL for a store
 * enrolled over https://, unless FIELDSYNC_ENROLL_INSECURE: a store that
 * once had TLS never silently drops it), FIELDSYNC_EAUTH (token unknown,
 * used, expired), the network errors above, FIELDSYNC_EIO (store). On
 * failure the store's enrolment is unchanged. */
FIELDSYNC_API int fieldsync_enroll(fieldsync_store *s, const char *server_url, const char *token,
				   const char *device_name, int flags);
/* fieldsync_enroll flags (1 is the former `force` argument). */
#define FIELDSYNC_ENROLL_FORCE    1	/* enrol a store already enrolled */
#define FIELDSYNC_ENROLL_INSECURE 2	/* let a store enrolled over https:// move to http:// */

/*
 * Trust the CA certificate(s) in the PEM file `path` for HQ's HTTPS
 * certificate instead of the system's CAs: for an HQ with a private CA or a
 * self-signed certificate (the certificate must still name the host of the
 * server URL). The absolute path is kept in the store's local settings
 * (never synced), so every later fieldsync_enroll() and fieldsync_sync() on
 * this store uses it; NULL or "" forgets it. FIELDSYNC_CACERT, when set,
 * overrides the stored path. Without either, a certificate the system does
 * not trust fails the call with FIELDSYNC_ENET ("HQ's TLS certificate could
 * not be verified"), not retried, nothing applied.
 * Errors: FIELDSYNC_ENOTFOUND (no such file), FIELDSYNC_EINVAL (unreadable,
 * or no PEM certificate in it), FIELDSYNC_EIO / EBUSY (store); the setting is
 * then unchanged. Thread-safety: as the store handle.
 */
FIELDSYNC_API int fieldsync_set_cacert(fieldsync_store *s, const char *path);

/* A request to HQ failed in a way worth trying again (unreachable, busy,
 * a 5xx): attempt (1, 2, ...) will be retried after wait_ms; why is the
 * failure's text. Called on the thread of the sync or the enrolment. */
typedef void (*fieldsync_retry_fn)(void *ctx, int attempt, long wait_ms, const char *why);
/* How long a sync or an enrolment keeps retrying a request HQ did not
 * answer, counted from its first try: retry_for_ms (0: the default, 5000
 * ms, or $FIELDSYNC_RETRY_FOR_MS), at most $FIELDSYNC_RETRIES tries again;
 * the connection attempt itself never waits past it. fn (may be NULL) hears
 * of each retry. The error that ends it says how many tries took how long.
 * Never fails. Thread-safety: as the store handle. */
FIELDSYNC_API void fieldsync_set_retry(fieldsync_store *s, long retry_for_ms, fieldsync_retry_fn fn, void *ctx);

/* Progress of a sync: records sent and received so far. Called after each
 * batch or page is committed; a non-zero return stops the sync there
 * (fieldsync_sync returns FIELDSYNC_ECANCELED; a later sync resumes). */
typedef int (*fieldsync_progress_fn)(void *ctx, long pushed, long pulled);

/*
 * Synchronise with HQ. Push every pending change (in local change order,
 * in batches), then pull
 * pages until drained, and repeat until nothing is left (at most 20 rounds:
 * if other writers keep adding changes meanwhile, FIELDSYNC_EBUSY). Safe to interrupt
 * at any point: a rerun resumes and converges. A second sync on the same
 * store at the same time gets FIELDSYNC_EBUSY. `summary` (may be NULL)
 * receives one row: pushed, accepted, rejected, pulled, evicted, requests,
 * rounds, ms, max_rss_kb (the process's peak resident memory so far). Records HQ rejects are kept in the local quarantine list and
 * make the call return 1 (finished, with problems).
 * If HQ's replica id changed since the last sync (it was restored from a
 * backup: docs/operations.md), the sync starts over: everything the store
 * holds is pushed again and every territory is pulled from the start, so
 * that nothing HQ lost stays lost and nothing HQ wrote since is skipped.
 * Errors: FIELDSYNC_ESTATE (not enrolled), FIELDSYNC_EBUSY (another sync of
 * this store), FIELDSYNC_ECANCELED (progress returned non-zero), the
 * network errors above, FIELDSYNC_EPROTO (a malformed reply), FIELDSYNC_EIO.
 * What was committed before a failure stays; the next sync resumes.
 * Thread-safety: as the store handle; progress runs on the calling thread.
 */
FIELDSYNC_API int fieldsync_sync(fieldsync_store *s, fieldsync_progress_fn progress, void *ctx,
				 fieldsync_rows **summary);

/* One row: server, rep, territories, last_sync, enrolled_at, replica_id,
 * pending, quarantined, open_conflicts, currency (HQ's, as the last pull
 * brought it; empty: none set) (server empty: not enrolled), into
 * *out (the caller's). Works offline. Errors: FIELDSYNC_EIO,
 * FIELDSYNC_ENOMEM. Thread-safety: as the store handle. */
FIELDSYNC_API int fieldsync_status(fieldsync_store *s, fieldsync_rows **out);
/* Conflict records (all: resolved ones too): id, table, record, field,
 * current, other, status, resolution, into *out (the caller's). Errors:
 * FIELDSYNC_EIO, FIELDSYNC_ENOMEM. Thread-safety: as the store handle. */
FIELDSYNC_API int fieldsync_conflicts(fieldsync_store *s, int all, fieldsync_rows **out);
/* Resolve a conflict by writing the kept value as a new versioned write
 * (it syncs like any edit). keep: "mine" or "theirs" (relative to this
 * device's writes), or "winner" / "loser"; conflict_id as for
 * fieldsync_lookup(). Errors: FIELDSYNC_ENOTFOUND (no such conflict),
 * FIELDSYNC_EINVAL (another keep, or mine/theirs when both or neither value
 * came from this device), FIELDSYNC_ESTATE (already resolved),
 * FIELDSYNC_EBUSY / EIO. Thread-safety: as the store handle. */
FIELDSYNC_API int fieldsync_resolve(fieldsync_store *s, const char *conflict_id, const char *keep);
/* Writes HQ refused: table, id, reason, at, record (JSON), into *out (the
 * caller's). Errors: FIELDSYNC_EIO, FIELDSYNC_ENOMEM. Thread-safety: as the
 * store handle. */
FIELDSYNC_API int fieldsync_quarantine(fieldsync_store *s, fieldsync_rows **out);

#ifdef __cplusplus
}
#endif
#endif
