/*
 * hq_report.h - HQ's ledger reports (the device's reports in core/report.c,
 * over the whole archive, plus the consolidations only HQ can make), and
 * CSV in and out at HQ. See docs/ledger.md.
 */
#ifndef FS_HQ_HQ_REPORT_H
#define FS_HQ_HQ_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "hq.h"
#include "settings.h"

/* fieldsyncd report KIND: "visits" (by rep|territory, month), "customers"
 * (by grade|nature|status|territory|size), "money" (by grade|customer|open,
 * month), "overdue" (territory, date). */
/* Past visits, orders and payments from CSV (history.c): all or nothing,
 * dry_run writes nothing; a report row per line (created, unchanged). */
int hq_import_visits(struct hq *h, FILE *fp, int dry_run, struct fieldsync_rows **out);
/* Visits of the month checked in more than `metres` from their customer's
 * position (HQ's distance_m), farthest first, with rep and customer. */
int hq_report_far(struct hq *h, const char *month, int64_t metres, struct fieldsync_rows **out);
int hq_report(struct hq *h, const char *kind, const char *by, const char *month, const char *territory,
	      const char *date, struct fieldsync_rows **out);

/* Customers from a CSV file at HQ, as HQ's own writes, all or nothing
 * (formats/import.h); dry_run: report without writing. */
int hq_import(struct hq *h, const char *path, int dry_run, struct fieldsync_rows **out);
/* fs_export() over the HQ store. */
int hq_export(struct hq *h, const char *what, const char *from, const char *to, struct fieldsync_rows **out);

#endif
