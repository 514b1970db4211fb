/*
 * due.h - when a customer is due for a visit.
 *
 * A customer is due on a date when it was never visited (no visit with
 * status done), or when its last done visit (the planned_date of that visit)
 * lies at least its grade's interval before the date:
 *
 *   grade    A   B   C   VIP   none
 *   days     7  14  30     7     30
 *
 * This table is the only place the intervals are written down: a later
 * settings feature replaces fs_due_interval_days() and every user (the route
 * planner's --due, the due-list report) follows.
 */
#ifndef FS_DUE_H
#define FS_DUE_H

/* Visit interval in days for a grade ("A", "B", "C", "VIP"; NULL, "" or an
 * unknown word: the no-grade interval). */
int fs_due_interval_days(const char *grade);

/* Is a customer of `grade` whose last done visit was on `last` (YYYY-MM-DD,
 * NULL: never) due on `date`? 1 or 0 in *due; FIELDSYNC_EINVAL for a date
 * that is not YYYY-MM-DD. */
int fs_due_check(const char *grade, const char *last, const char *date, int *due);

#endif
