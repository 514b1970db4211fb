/*
 * hq_report.h - HQ's settings that devices receive, and HQ's ledger reports
 * (the device's reports in core/report.c, over the whole archive, plus the
 * consolidations only HQ can make). See docs/ledger.md.
 */
#ifndef FS_HQ_HQ_REPORT_H
#define FS_HQ_HQ_REPORT_H

#include <cjson/cJSON.h>
#include "hq.h"

/* Set a setting devices receive ("due_days": "A=7,B=14,..."; value checked
 * and stored in canonical form; NULL or "" restores the default). */
int hq_setting_set(struct hq *h, const char *key, const char *value);
/* Every setting: key, value, source ("HQ" or "default"). */
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
