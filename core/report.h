/*
 * report.h - the ledger's reports, over any fs_exec (a device's store or an
 * HQ backend), in the SQL both SQLite and PostgreSQL accept; grouping, week
 * columns, FIFO allocation of receipts and day arithmetic are done in C.
 * See docs/ledger.md for what each column means.
 */
#ifndef FS_REPORT_H
#define FS_REPORT_H

#include "due.h"
#include "query.h"

/* A period of planned dates / payment dates: [from, to). */
struct fs_period {
	char from[16], to[16];
};
/* "YYYY-MM" into [first day, first day of the next month); NULL or "": all
 * time. FIELDSYNC_EINVAL for anything else. */
int fs_period_month(const char *month, struct fs_period *p);

/* Every visit of one day (YYYY-MM-DD) with its report, order and collection. */
int fs_report_day(const struct fs_exec *x, const char *date, struct fieldsync_rows **out);
/* Planned vs done per customer in a month, with per-week columns w1..w5
 * (days 1-7, 8-14, 15-21, 22-28, 29-31) as "done/planned"; a last row
 * "(total)". */
int fs_report_plan(const struct fs_exec *x, const char *month, struct fieldsync_rows **out);
/* Collections: by "customer" (default), "grade" (with a total row) or
 * "open" (each amount still outstanding, oldest first, after receipts in
 * excess of a visit's receivable are set against the customer's oldest
 * open amounts). month NULL: all time. territory NULL: all. */
int fs_report_money(const struct fs_exec *x, const char *month, const char *by, const char *territory,
		    struct fieldsync_rows **out);
/* What is owed on `date` (NULL: today), from every payment dated then or
 * before: per customer (group NULL or "customer"), "rep" (the card's
 * owner_rep) or "territory": balance (receivables not yet collected, once
 * collections have paid the oldest first), credit (collections beyond all
 * receivables), the balance by age 0-30, 31-60, 61-90, over 90 days, and
 * the date of the oldest amount still open; oldest debt first, then a
 * "(total)" row. customer, territory NULL: all. */
int fs_report_owed(const struct fs_exec *x, const char *customer, const char *territory, const char *date,
		   const char *group, struct fieldsync_rows **out);
/* Customers due for a visit on `date` under intervals d, most overdue first
 * (never visited before everything else). territory NULL: all. */
int fs_report_due(const struct fs_exec *x, const struct fs_due *d, const char *territory, const char *date,
		  struct fieldsync_rows **out);

/* CSV exports: "customers" (every field), "visits" (planned date in
 * [from, to], inclusive, NULL: open) or "money" (payments dated in it). */
int fs_export(const struct fs_exec *x, const char *what, const char *from, const char *to,
	      struct fieldsync_rows **out);

#endif
