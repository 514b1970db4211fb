/*
 * retention.h - how long a device keeps visit records (docs/ledger.md).
 *
 * HQ's setting "retention_years" (FS_RETENTION_MIN..FS_RETENTION_MAX,
 * FS_RETENTION_DEFAULT until HQ sets it) rides on every pull reply and is
 * kept in the device's meta as "hq.retention_years". A visit is old when
 * its day - the date of its check-in, else its planned date - lies before
 * the cut-off: today (UTC, fs_wall_ms(), so FIELDSYNC_NOW_MS pins it) minus
 * that many calendar years, as SQLite's date(today, '-N years') counts
 * them (2028-02-29 minus one year is 2027-03-01).
 *
 * The purge removes from the device only:
 *   - old visits, with their order lines and the payments collected on them;
 *   - old payments (by their date) that have no visit on the device.
 * It keeps, always:
 *   - a visit or payment flagged disputed, and everything of a disputed
 *     customer;
 *   - a visit with a disputed payment: the visit, its lines and every
 *     payment on it;
 *   - a visit whose row, or one of whose lines or payments, has a change
 *     not yet pushed (a row in `changelog`): nothing unsynced is dropped;
 *   - a visit without any date.
 * Rows are deleted directly: no change log entry, no tombstone, nothing
 * synced; HQ keeps every record. Customers, contacts, conflict records and
 * the change history are never purged. A purged record that HQ sends again
 * (changed there, or re-filed with its customer) comes back like any
 * pulled record, and goes at the next purge if it is still old and
 * ordinary.
 */
#ifndef FS_RETENTION_H
#define FS_RETENTION_H

#include <stdint.h>
#include "rows.h"
#include "store.h"

#define FS_RETENTION_DEFAULT 3	/* years */
#define FS_RETENTION_MIN 1
#define FS_RETENTION_MAX 100

/* Parse a number of years ("3"): FIELDSYNC_EINVAL naming the range. */
int fs_retention_parse(const char *text, int *years);

/* The retention in force on s: years (HQ's setting if the store holds a
 * valid one, *from_hq 1; else the default, *from_hq 0) and the cut-off
 * date YYYY-MM-DD (records dated before it are old) for today. from_hq and
 * before may be NULL. Reads only. */
int fs_retention_get(struct fs_store *s, int *years, int *from_hq, char before[11]);

/*
 * Purge old ordinary records (the rules above) in one transaction (nested
 * in the caller's if one is open). dry_run: count, delete nothing.
 * *purged (may be NULL) gets the number of rows removed (or that would
 * be); *out (may be NULL; the caller's) one row per table (visit,
 * order_line, payment): table, purged, kept_disputed, kept_unsynced (old
 * rows kept for each reason), years, before.
 * Errors: FIELDSYNC_EBUSY / EIO (store), FIELDSYNC_ENOMEM; nothing is
 * removed then.
 */
int fs_retention_purge(struct fs_store *s, int dry_run, int64_t *purged, struct fieldsync_rows **out);

#endif
