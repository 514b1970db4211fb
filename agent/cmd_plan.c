/* cmd_plan.c - `fieldsync plan`: visits planned ahead (one, or a series). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

static int usage(int rc)
{
	printf("usage: fieldsync plan CUSTOMER --date YYYY-MM-DD [--time HH:MM] [--purpose TEXT]\n"
	       "                      [--contact ID|NAME] [--every day|week|2weeks|month --until YYYY-MM-DD]\n\n"
	       "Plans a visit (a visit record with status 'planned'). With --every, plans one\n"
	       "visit per period from --date until --until inclusive, in one transaction.\n");
	return rc;
}

/* Advance a YYYY-MM-DD date by one period; month steps clamp to month end. */
static int step(char date[11], const char *every)
{
	struct tm tm = { 0 };
	if (!strptime(date, "%Y-%m-%d", &tm))
		return -1;
	tm.tm_hour = 12;
	if (!strcmp(every, "month")) {
		static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
		int d = tm.tm_mday;
		tm.tm_mday = 1;
		tm.tm_mon++;
		timegm(&tm);	/* normalise into the next month */
		int y = tm.tm_year + 1900, m = tm.tm_mon + 1;
		int last = dm[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
		tm.tm_mday = d > last ? last : d;
	} else {
		int add = !strcmp(every, "day") ? 1 : !strcmp(every, "week") ? 7 :
			  !strcmp(every, "2weeks") ? 14 : 0;
		if (!add)
			return -1;
		tm.tm_mday += add;
		timegm(&tm);
	}
	return strftime(date, 11, "%Y-%m-%d", &tm) == 10 ? 0 : -1;
}

int find_contact(struct cli *c, const char *cust, const char *key, char id[33])
{
	char f[64];
	const char *filters[] = { f, NULL };
	fieldsync_rows *r;
	int found = 0;
	snprintf(f, sizeof f, "customer_id=%s", cust);
	if (fieldsync_list(c->s, "contact", filters, NULL, &r))
		return -1;
	int ci = fieldsync_rows_find(r, "id"), ni = fieldsync_rows_find(r, "name");
	for (int i = 0; i < fieldsync_rows_count(r); i++) {
		const char *cid = fieldsync_rows_value(r, i, ci), *nm = fieldsync_rows_value(r, i, ni);
		if ((strlen(key) >= 4 && strncmp(cid, key, strlen(key)) == 0) || (nm && !strcasecmp(nm, key))) {
			snprintf(id, 33, "%s", cid);
			found++;
		}
	}
	fieldsync_rows_free(r);
	return found == 1 ? 0 : -1;
}

int cmd_plan(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	const char *cust = NULL, *date = NULL, *time_ = NULL, *purpose = NULL, *contact = NULL;
	const char *every = NULL, *until = NULL;
	int k;
	if (rec_wants_help(argc, argv))
		return usage(argc < 2 ? 2 : 0);
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 2) {
			if (cust)
				return cli_usage("plan", "unexpected argument '%s'", a.word);
			cust = a.word;
			continue;
		}
		const char **dst = kit_is(&a, "date") ? &date : kit_is(&a, "time") ? &time_ :
				   kit_is(&a, "purpose") ? &purpose : kit_is(&a, "contact") ? &contact :
				   kit_is(&a, "every") ? &every : kit_is(&a, "until") ? &until : NULL;
		if (!dst)
			return kit_unknown(&a);
		if (!(*dst = kit_value(&a)))
			return 2;
	}
	if (a.bad)
		return 2;
	if (!cust || !date)
		return cli_usage("plan", "plan needs a CUSTOMER and --date");
	if (!!every != !!until)
		return cli_usage("plan", "--every and --until go together");
	if (every && strcmp(every, "day") && strcmp(every, "week") && strcmp(every, "2weeks") &&
	    strcmp(every, "month"))
		return cli_usage("plan", "--every: '%s' is not one of day, week, 2weeks, month", every);

	fieldsync_rec *r;
	char cid[33], kid[33], id[33], day[11];
	int rc = fieldsync_rec_new("visit", &r);
	if (rc)
		return cli_fail(rc);
	if ((rc = cli_set(r, "status", "planned")) || (rc = cli_set(r, "planned_date", date)) ||
	    (time_ && (rc = cli_set(r, "planned_time", time_))) ||
	    (purpose && (rc = cli_set(r, "purpose", purpose))) ||
	    (until && (rc = cli_set(r, "planned_date", until))) ||
	    (rc = cli_open(c, 1)) || (rc = cli_lookup(c, "customer", cust, cid)) ||
	    (rc = cli_set(r, "customer_id", cid)))
		goto out;
	if (until && strcmp(until, date) < 0) {
		rc = cli_usage("plan", "--until %s is before --date %s", until, date);
		goto out;
	}
	if (contact) {
		if (find_contact(c, cid, contact, kid)) {
			fprintf(stderr, "fieldsync: contact: no single contact '%s' for this customer\n", contact);
			rc = 3;
			goto out;
		}
		if ((rc = cli_set(r, "contact_id", kid)))
			goto out;
	}
	snprintf(day, sizeof day, "%s", date);
	int e = fieldsync_begin(c->s), n = 0;
	if (c->json && !e)
		printf("[");
	while (!e) {
		if ((e = fieldsync_rec_set(r, "planned_date", day)) || (e = fieldsync_insert(c->s, r, id)))
			break;
		if (c->json)
			printf("%s{\"id\": \"%s\", \"date\": \"%s\"}", n ? ", " : "", id, day);
		else
			printf("%s  %s\n", id, day);
		n++;
		if (!every || step(day, every) || strcmp(day, until) > 0)
			break;
		if (n >= 1000) {
			e = -11;
			fprintf(stderr, "fieldsync: more than 1000 visits in one series\n");
			break;
		}
	}
	if (c->json)
		printf("]\n");
	if (e) {
		fieldsync_rollback(c->s);
		rc = cli_fail(e);
	} else if ((e = fieldsync_commit(c->s))) {
		rc = cli_fail(e);
	}
out:
	fieldsync_rec_free(r);
	return rc;
}
