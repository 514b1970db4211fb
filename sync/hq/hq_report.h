/*
 * hq_report.h - HQ's settings that devices receive, and HQ's ledger reports
 * (the device's reports in core/report.c, over the whole archive, plus the
 * consolidations only HQ can make). See docs/ledger.md.
 */
#ifndef FS_HQ_HQ_REPORT_H
#define FS_HQ_HQ_REPORT_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "hq.h"

/*
 * HQ's settings, kept in hq_meta as "setting.KEY" (no row: the default):
 *
 *   key              typed as          devices  value                          default
 *   due_days         due-days          yes      grade intervals "A=7,B=14,..." (core/due.h)
 *   retention_years  retention-years   yes      1..100 years (core/retention.h) 3
 *   lapse_days       lapse-days        no       1..3650 days: a device not heard
 *                                               from for longer is not waited for
 *                                               by tombstone garbage collection  90
 *
 * Devices receive theirs with every pull reply (hq_settings_reply) and keep
 * each as "hq.KEY" in their meta.
 */
/* Set a setting by key or typed name ("retention_years" or
 * "retention-years"); the value is checked and stored in canonical form
 * (FIELDSYNC_EINVAL naming the setting and its range); NULL or "" restores
 * the default. */
int hq_setting_set(struct hq *h, const char *key, const char *value);
/* An integer setting ("retention_years", "lapse_days") into *out: HQ's
 * value, or its default when unset or unreadable. Read on db (in its
 * transaction, if one is open); db NULL: on a pooled connection taken and
 * given back here. Errors: FIELDSYNC_EINVAL (no such integer setting; *out
 * untouched), the backend's (*out is then the default). */
int hq_setting_int(struct hq *h, struct hq_db *db, const char *key, int64_t *out);
/* Every setting: key (as typed), value, source ("HQ" or "default"),
 * to_devices ("yes" or "no"). */
int hq_settings(struct hq *h, struct fieldsync_rows **out);
/* HQ's grade visit intervals (the defaults until set). */
struct fs_due;
int hq_due_intervals(struct hq *h, struct fs_due *d);
/* The "settings" object of a pull reply, read on db (in its transaction). */
int hq_settings_reply(struct hq *h, struct hq_db *db, cJSON *out);

/* fieldsyncd report KIND: "visits" (by rep|territory, month), "customers"
 * (by grade|nature|status|territory|size), "money" (by grade|customer|open,
 * month), "overdue" (territory, date). */
int hq_report(struct hq *h, const char *kind, const char *by, const char *month, const char *territory,
	      const char *date, struct fieldsync_rows **out);

/* Customers from a CSV file at HQ, as HQ's own writes, all or nothing
 * (sync/import.h); dry_run: report without writing. */
int hq_import(struct hq *h, const char *path, int dry_run, struct fieldsync_rows **out);
/* fs_export() over the HQ store. */
int hq_export(struct hq *h, const char *what, const char *from, const char *to, struct fieldsync_rows **out);

#endif
