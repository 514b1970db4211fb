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
 *  - Threads: a fieldsync_store handle may be used by one thread at a time;
 *    separate handles (in threads or processes) may open the same file.
 *    Other objects are not shared between threads.
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

#define FIELDSYNC_VERSION "0.1.0"
#define FIELDSYNC_VERSION_NUMBER 1000	/* major * 1000000 + minor * 1000 + patch */

/* The library's version string, which may differ from the header's. */
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

/* Static English text for an error code; never NULL. */
FIELDSYNC_API const char *fieldsync_strerror(int rc);
/* Detail of the last failure on this thread; "" if none. Valid until the
 * next fieldsync call on the same thread. */
FIELDSYNC_API const char *fieldsync_errmsg(void);

/* ---- the store ---- */
typedef struct fieldsync_store fieldsync_store;

#define FIELDSYNC_OPEN_CREATE   0x01	/* create the store if missing (file 0600, dir 0700) */
#define FIELDSYNC_OPEN_READONLY 0x02	/* never write (listing commands) */

/*
 * Open (and if needed create or upgrade) the store at `path`.
 * A store from a newer version of fieldsync is refused with FIELDSYNC_ESCHEMA;
 * a missing file without FIELDSYNC_OPEN_CREATE gives FIELDSYNC_ENOTFOUND.
 */
FIELDSYNC_API int fieldsync_open(const char *path, unsigned flags, fieldsync_store **out);
/* Close a store; NULL is a no-op. Uncommitted work is rolled back. */
FIELDSYNC_API void fieldsync_close(fieldsync_store *s);
/* The default store path into buf: $FIELDSYNC_DB, else
 * $XDG_DATA_HOME/fieldsync/fieldsync.db, else ~/.local/share/fieldsync/fieldsync.db. */
FIELDSYNC_API int fieldsync_default_path(char *buf, size_t n);
/* This replica's id (32 hex characters); owned by the store. */
FIELDSYNC_API const char *fieldsync_replica_id(fieldsync_store *s);

/* Group several writes into one transaction (nestable). Any failure inside
 * must be followed by fieldsync_rollback(). */
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

FIELDSYNC_API int fieldsync_rec_new(const char *table, fieldsync_rec **out);
/* Set a field; NULL or "" clears it. FIELDSYNC_EINVAL names field and value. */
FIELDSYNC_API int fieldsync_rec_set(fieldsync_rec *r, const char *field, const char *value);
/* Number of fields set. */
FIELDSYNC_API int fieldsync_rec_count(const fieldsync_rec *r);
FIELDSYNC_API void fieldsync_rec_free(fieldsync_rec *r);

/* Create a record; its new id (32 hex) is written to id_out. */
FIELDSYNC_API int fieldsync_insert(fieldsync_store *s, const fieldsync_rec *r, char id_out[33]);
/* Change fields of an existing record (only those set in r). */
FIELDSYNC_API int fieldsync_update(fieldsync_store *s, const char *id, const fieldsync_rec *r);
/* Delete (a tombstone that syncs like any write). */
FIELDSYNC_API int fieldsync_delete(fieldsync_store *s, const char *table, const char *id);
/*
 * Find a record id from what a person types: the full id, a unique prefix of
 * at least 4 characters, or (customers) the customer code. FIELDSYNC_ENOTFOUND
 * if nothing matches, FIELDSYNC_EINVAL if a prefix is ambiguous.
 */
FIELDSYNC_API int fieldsync_lookup(fieldsync_store *s, const char *table, const char *key, char id_out[33]);

/* Money as people type it ("1250", "1250.5", "1250.50") into minor units;
 * FIELDSYNC_EINVAL for junk or negatives, FIELDSYNC_ELIMIT beyond 2^53 - 1. */
FIELDSYNC_API int fieldsync_money_parse(const char *text, int64_t *minor);
/* Minor units as "1250.50" into buf (at least 32 bytes). */
FIELDSYNC_API void fieldsync_money_format(int64_t minor, char *buf, size_t n);

/* Today's local date as YYYY-MM-DD (the clock can be pinned for tests with
 * the environment variable FIELDSYNC_NOW_MS, milliseconds since 1970 UTC). */
FIELDSYNC_API void fieldsync_local_date(char buf[11]);

/* ---- result tables ----
 * Every listing returns a fieldsync_rows: named, typed columns and rows of
 * values in canonical text (money in minor units, UTC date-times), NULL for
 * an empty cell. It prints itself as a table, JSON or CSV.
 */
typedef struct fieldsync_rows fieldsync_rows;

FIELDSYNC_API int fieldsync_rows_count(const fieldsync_rows *r);
FIELDSYNC_API int fieldsync_rows_columns(const fieldsync_rows *r);
FIELDSYNC_API const char *fieldsync_rows_name(const fieldsync_rows *r, int col);
/* Column index by name, or -1. */
FIELDSYNC_API int fieldsync_rows_find(const fieldsync_rows *r, const char *name);
FIELDSYNC_API const char *fieldsync_rows_value(const fieldsync_rows *r, int row, int col);
FIELDSYNC_API void fieldsync_rows_free(fieldsync_rows *r);

#define FIELDSYNC_FMT_TABLE  0	/* aligned columns, local times, money 12.50 */
#define FIELDSYNC_FMT_JSON   1	/* a JSON array of objects */
#define FIELDSYNC_FMT_CSV    2	/* RFC 4180, header row */
#define FIELDSYNC_FMT_RECORD 3	/* one "name: value" line per column (first row) */
#define FIELDSYNC_FMT_OBJECT 4	/* the first row as one JSON object */
#define FIELDSYNC_FMT_BOM    0x100	/* CSV: start with a UTF-8 byte order mark */
/* Print `r`; `columns` ("name,grade,...") limits and orders the columns of
 * FMT_TABLE / FMT_CSV (NULL: all). */
FIELDSYNC_API int fieldsync_rows_print(const fieldsync_rows *r, FILE *fp, int fmt, const char *columns);

/* The fields of a record type (flag name, type, rules, meaning): for help. */
FIELDSYNC_API int fieldsync_fields(const char *table, fieldsync_rows **out);

/* ---- queries ---- */
/* One record with every field and its sync state (vv, hlc, open conflicts). */
FIELDSYNC_API int fieldsync_get(fieldsync_store *s, const char *table, const char *id, fieldsync_rows **out);
/*
 * Live records of `table`. `filters` is a NULL-terminated list of
 * "field=value" (value in the fieldsync_rec_set form), `search` (may be NULL)
 * matches the non-sensitive text fields as a substring, ignoring the case of
 * ASCII letters (SQLite's lower(); other scripts match case-sensitively).
 */
FIELDSYNC_API int fieldsync_list(fieldsync_store *s, const char *table, const char *const *filters,
				 const char *search, fieldsync_rows **out);
/* The day's visits (date NULL: today, local) in route order, with customer,
 * address, purpose, last visit outcome and outstanding amount. */
FIELDSYNC_API int fieldsync_today(fieldsync_store *s, const char *date, fieldsync_rows **out);

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

typedef struct fieldsync_route_opts {
	const char *date;	/* YYYY-MM-DD; NULL: today (local) */
	const char *territory;	/* only customers of this territory; NULL: all */
	const char *from;	/* start; NULL: "home" if set, else the best first stop */
	const char *to;		/* fixed end; NULL: end at the last stop */
	int ret;		/* 1: come back to the start (excludes `to`) */
	int select;		/* FIELDSYNC_ROUTE_PLANS, _DUE or _ALL */
	int save;		/* _DUE/_ALL: store the order as customer.route_seq */
	int budget_ms;		/* search time limit; 0: the iteration cap alone */
} fieldsync_route_opts;

/* Defaults: today, every territory, start at home if set, open end, the
 * day's plans, FIELDSYNC_ROUTE_BUDGET_MS. Call it before setting fields. */
FIELDSYNC_API void fieldsync_route_opts_init(fieldsync_route_opts *o);

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
 * forget it). Kept in the store's local settings; never synced. */
FIELDSYNC_API int fieldsync_route_place_set(fieldsync_store *s, const char *place, const char *latlon);
/* Two rows, home and office: place, lat, lon (NULL when not set). */
FIELDSYNC_API int fieldsync_route_places(fieldsync_store *s, fieldsync_rows **out);

/* ---- synchronisation with HQ ----
 * Network calls block; they retry transient failures (server unreachable,
 * 5xx, 429) with exponential backoff. Tunables come from the environment:
 * FIELDSYNC_TIMEOUT_MS (per request, default 60000), FIELDSYNC_RETRIES
 * (default 5), FIELDSYNC_RETRY_MS (first backoff, default 500),
 * FIELDSYNC_BATCH (records per push, default 500), FIELDSYNC_PAGE (records
 * per pull page, default 1000), FIELDSYNC_CACERT (a CA bundle for a private
 * HQ certificate).
 */

/* Enrol this store with HQ at `server_url` ("http://host:port") using a
 * one-time token from `fieldsyncd rep add`. The store gets a replica id and
 * a device token from HQ (kept in the store, never printed). An enrolled
 * store is refused with FIELDSYNC_ESTATE unless `force`. */
FIELDSYNC_API int fieldsync_enroll(fieldsync_store *s, const char *server_url, const char *token,
				   const char *device_name, int force);

/* Progress of a sync: records sent and received so far. Called after each
 * batch or page is committed; a non-zero return stops the sync there
 * (fieldsync_sync returns FIELDSYNC_ECANCELED; a later sync resumes). */
typedef int (*fieldsync_progress_fn)(void *ctx, long pushed, long pulled);

/*
 * Push every pending change (in local change order, in batches), then pull
 * pages until drained, and repeat until nothing is left (at most 20 rounds:
 * if other writers keep adding changes meanwhile, FIELDSYNC_EBUSY). Safe to interrupt
 * at any point: a rerun resumes and converges. A second sync on the same
 * store at the same time gets FIELDSYNC_EBUSY. `summary` (may be NULL)
 * receives one row: pushed, accepted, rejected, pulled, evicted, requests,
 * rounds, ms. Records HQ rejects are kept in the local quarantine list and
 * make the call return 1 (finished, with problems).
 */
FIELDSYNC_API int fieldsync_sync(fieldsync_store *s, fieldsync_progress_fn progress, void *ctx,
				 fieldsync_rows **summary);

/* One row: server, replica_id, rep, territories, last_sync, pending,
 * quarantined, open_conflicts. */
FIELDSYNC_API int fieldsync_status(fieldsync_store *s, fieldsync_rows **out);
/* Conflict records (all: resolved ones too): id, table, record, field,
 * current, other, status, resolution. */
FIELDSYNC_API int fieldsync_conflicts(fieldsync_store *s, int all, fieldsync_rows **out);
/* Resolve a conflict by writing the kept value as a new versioned write
 * (it syncs like any edit). keep: "mine" or "theirs" (relative to this
 * device's writes), or "winner" / "loser". */
FIELDSYNC_API int fieldsync_resolve(fieldsync_store *s, const char *conflict_id, const char *keep);
/* Writes HQ refused: table, id, reason, at, record (JSON). */
FIELDSYNC_API int fieldsync_quarantine(fieldsync_store *s, fieldsync_rows **out);

#ifdef __cplusplus
}
#endif
#endif
