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

/* The price list (catalogue.c). A product's fields as text, NULL where a
 * write leaves them (price in major units "3.20", active "yes"/"no"). */
struct hq_product {
	const char *sku, *name, *unit, *price, *active;
};
#define HQ_PRODUCT_ADD 0	/* a new SKU: refused if it exists */
#define HQ_PRODUCT_EDIT 1	/* an existing SKU: refused if missing */
#define HQ_PRODUCT_UPSERT 2	/* either (the import) */
/* created (may be NULL): 1 created, 0 changed, -1 nothing to change. */
int hq_product_put(struct hq *h, const struct hq_product *p, int mode, int *created);
int hq_product_list(struct hq *h, int all, struct fieldsync_rows **out);
/* Products from CSV (sku, name, unit, price, active), all or nothing. */
int hq_product_import(struct hq *h, FILE *fp, int dry_run, struct fieldsync_rows **out);
/* FIELDSYNC_EINVAL unless 1-40 of [A-Za-z0-9._/-]. */
int hq_sku_check(const char *sku);
/* A pull's price list: "products" changed after number `from` (at most a
 * page; *more if others remain) and "catalogue", the last number sent. */
int hq_catalogue_feed(struct hq *h, struct hq_db *db, int64_t from, cJSON *out, int *more);
/* Sales of a month (NULL: all time) by "product", "rep" or "customer". */
int hq_report_sales(struct hq *h, const char *by, const char *month, struct fieldsync_rows **out);

/* Customers from a CSV file at HQ, as HQ's own writes, all or nothing
 * (formats/import.h); dry_run: report without writing. */
int hq_import(struct hq *h, const char *path, int dry_run, struct fieldsync_rows **out);
/* fs_export() over the HQ store. */
int hq_export(struct hq *h, const char *what, const char *from, const char *to, struct fieldsync_rows **out);

#endif
