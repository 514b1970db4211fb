/* due.c - visit intervals by grade (see due.h). */
#include "due.h"

#include <string.h>
#include "fieldsync.h"
#include "util.h"

static const struct {
	const char *grade;	/* NULL: customers without a grade */
	int days;
} intervals[] = {
	{ "A", 7 },
	{ "B", 14 },
	{ "C", 30 },
	{ "VIP", 7 },
	{ NULL, 30 },
};

int fs_due_interval_days(const char *grade)
{
	size_t n = sizeof intervals / sizeof intervals[0];
	for (size_t i = 0; grade && *grade && i < n - 1; i++)
		if (strcmp(intervals[i].grade, grade) == 0)
			return intervals[i].days;
	return intervals[n - 1].days;
}

int fs_due_check(const char *grade, const char *last, const char *date, int *due)
{
	int y, m, d;
	*due = 0;
	if (fs_parse_date(date, &y, &m, &d))
		return fs_err(FIELDSYNC_EINVAL, "date: '%.40s' is not a date YYYY-MM-DD", date ? date : "");
	int64_t today = fs_days_from_civil(y, m, d);
	if (!last || fs_parse_date(last, &y, &m, &d)) {
		*due = 1;	/* never visited (or an unreadable date: better visited than forgotten) */
		return 0;
	}
	*due = today - fs_days_from_civil(y, m, d) >= fs_due_interval_days(grade);
	return 0;
}
