/* due.c - visit intervals by grade (see due.h). */
#include "due.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fieldsync.h"
#include "util.h"

static const char *const grades[FS_DUE_NGRADES] = { "A", "B", "C", "VIP", "none" };
static const int defaults[FS_DUE_NGRADES] = { 7, 14, 30, 7, 30 };

void fs_due_defaults(struct fs_due *d)
{
	memcpy(d->days, defaults, sizeof d->days);
}

const char *fs_due_grade(int i)
{
	return i >= 0 && i < FS_DUE_NGRADES ? grades[i] : NULL;
}

int fs_due_parse(const char *text, struct fs_due *d)
{
	struct fs_due out;
	fs_due_defaults(&out);
	fs_due_defaults(d);
	if (!text || !*text)
		return 0;
	char buf[256];
	if (strlen(text) >= sizeof buf)
		return fs_err(FIELDSYNC_EINVAL, "due intervals: too long");
	snprintf(buf, sizeof buf, "%s", text);
	char *save = NULL;
	for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		while (*part == ' ')
			part++;
		char *eq = strchr(part, '=');
		int g = -1;
		int64_t n;
		if (eq) {
			*eq = '\0';
			for (int i = 0; i < FS_DUE_NGRADES; i++)
				if (!strcasecmp(part, grades[i]))
					g = i;
		}
		if (!eq || g < 0)
			return fs_err(FIELDSYNC_EINVAL, "due intervals: '%.40s' is not GRADE=DAYS"
				      " (grades A, B, C, VIP, none)", part);
		if (fs_parse_int(eq + 1, &n) || n < 1 || n > 3650)
			return fs_err(FIELDSYNC_EINVAL, "due intervals: %s=%.20s is not a number of days 1..3650",
				      grades[g], eq + 1);
		out.days[g] = (int)n;
	}
	*d = out;
	return 0;
}

void fs_due_format(const struct fs_due *d, char *buf, size_t n)
{
	snprintf(buf, n, "A=%d,B=%d,C=%d,VIP=%d,none=%d", d->days[0], d->days[1], d->days[2], d->days[3],
		 d->days[4]);
}

int fs_due_interval(const struct fs_due *d, const char *grade)
{
	const int *days = d ? d->days : defaults;
	for (int i = 0; grade && *grade && i < FS_DUE_NGRADES - 1; i++)
		if (strcmp(grades[i], grade) == 0)
			return days[i];
	return days[FS_DUE_NGRADES - 1];
}

int fs_due_interval_days(const char *grade)
{
	return fs_due_interval(NULL, grade);
}

int fs_due_check_in(const struct fs_due *dd, const char *grade, const char *last, const char *date, int *due)
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
	*due = today - fs_days_from_civil(y, m, d) >= fs_due_interval(dd, grade);
	return 0;
}

int fs_due_check(const char *grade, const char *last, const char *date, int *due)
{
	return fs_due_check_in(NULL, grade, last, date, due);
}
