/*
 * due.h - when a customer is due for a visit.
 *
 * A customer is due on a date when it was never visited (no visit with
 * status done), or when its last done visit (the planned_date of that visit)
 * lies at least its grade's interval before the date. The intervals are an
 * HQ setting ("due_days", sent to every device with each pull and kept in
 * the device's meta as "hq.due_days"); until HQ sets them, the defaults:
 *
 *   grade    A   B   C   VIP   none
 *   days     7  14  30     7     30
 *
 * The setting's text form is "A=7,B=14,C=30,VIP=7,none=30"; a key left out
 * keeps its default. Each interval is 1..3650 days.
 */
#ifndef FS_DUE_H
#define FS_DUE_H

#include <stddef.h>

#define FS_DUE_NGRADES 5	/* A, B, C, VIP, none */

struct fs_due {
	int days[FS_DUE_NGRADES];
};

/* The built-in intervals. */
void fs_due_defaults(struct fs_due *d);
/* Parse the setting's text over the defaults; FIELDSYNC_EINVAL naming the
 * bad part (d is then the defaults). NULL or "": the defaults. */
int fs_due_parse(const char *text, struct fs_due *d);
/* The canonical text form into buf (64 bytes always suffice). */
void fs_due_format(const struct fs_due *d, char *buf, size_t n);
/* The grade names in the order of days[] ("none" last). */
const char *fs_due_grade(int i);

/* Visit interval in days for a grade ("A", "B", "C", "VIP"; NULL, "" or an
 * unknown word: the no-grade interval); d NULL: the defaults. */
int fs_due_interval(const struct fs_due *d, const char *grade);
/* As above, with the defaults. */
int fs_due_interval_days(const char *grade);

/* Is a customer of `grade` whose last done visit was on `last` (YYYY-MM-DD,
 * NULL: never) due on `date` under intervals d (NULL: defaults)? 1 or 0 in
 * *due; FIELDSYNC_EINVAL for a date that is not YYYY-MM-DD. */
int fs_due_check_in(const struct fs_due *d, const char *grade, const char *last, const char *date, int *due);
int fs_due_check(const char *grade, const char *last, const char *date, int *due);

#endif
