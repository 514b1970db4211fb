/* cmd_report.c - `fieldsync report day|plan|money` and `fieldsync due`: the ledger's tables. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char report_help[] =
	"usage: fieldsync report day [--date YYYY-MM-DD]\n"
	"       fieldsync report plan [--month YYYY-MM]\n"
	"       fieldsync report money [--month YYYY-MM] [--by customer|grade|open]\n"
	"       fieldsync report money --by ageing|ageing-rep|ageing-territory\n\n"
	"day    every visit of the day (default today) with check-in/out, contact met,\n"
	"       outcome, problem and countermeasure, follow-up, next visit date, and the\n"
	"       amounts ordered, receivable, received and outstanding on it\n"
	"plan   planned vs done per customer for the month (default this month), with\n"
	"       a done/planned column per week of the month (w1 = days 1-7 ... w5 = 29-31)\n"
	"money  collections by customer (default) or grade; --by open lists every amount\n"
	"       still outstanding, oldest first; --by ageing: what each customer owes today\n"
	"       (collections pay the oldest amounts first; more than all is the customer's\n"
	"       credit), by age 0-30, 31-60, 61-90, over 90 days, oldest debt first;\n"
	"       ageing-rep and ageing-territory: the same summed by the card's owner_rep\n"
	"       or territory\n\n"
	"Each prints a table, or JSON with --json, or CSV with --csv. Works offline.\n";

/* The day's totals under the table (people read the bottom line). */
static void day_totals(fieldsync_rows *r)
{
	static const char *const cols[] = { "ordered", "received", "outstanding" };
	long long sum[3] = { 0 };
	int done = 0, n = fieldsync_rows_count(r), st = fieldsync_rows_find(r, "status");
	for (int i = 0; i < n; i++) {
		const char *s = fieldsync_rows_value(r, i, st);
		done += s && !strcmp(s, "done");
		for (int k = 0; k < 3; k++) {
			const char *v = fieldsync_rows_value(r, i, fieldsync_rows_find(r, cols[k]));
			sum[k] += v ? atoll(v) : 0;
		}
	}
	char m[3][32];
	for (int k = 0; k < 3; k++)
		fieldsync_money_format(sum[k], m[k], sizeof m[k]);
	printf("\n%d visit%s, %d done; ordered %s, received %s, outstanding %s\n", n, n == 1 ? "" : "s", done,
	       m[0], m[1], m[2]);
}

int cmd_report(struct cli *c, int argc, char **argv)
{
	static const char *const names[] = { "date", "month", "by", NULL };
	const char *vals[3] = { NULL, NULL, NULL };
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(report_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	int day = !strcmp(sub, "day"), plan = !strcmp(sub, "plan"), money = !strcmp(sub, "money");
	if (!day && !plan && !money)
		return cli_usage("report", "unknown report '%s' (day, plan or money)", sub);
	int rc = cli_options(c, argc - 1, argv + 1, report_help, names, vals);
	if (rc)
		return rc == CLI_HELPED ? 0 : rc;
	if ((day && (vals[1] || vals[2])) || (plan && (vals[0] || vals[2])) || (money && vals[0]))
		return cli_usage("report", "report %s: option not known for this report", sub);
	if ((rc = cli_open(c, 0)))
		return rc;
	fieldsync_rows *r;
	int e = day ? fieldsync_report_day(c->s, vals[0], &r) : plan ? fieldsync_report_plan(c->s, vals[1], &r)
								    : fieldsync_report_money(c->s, vals[1], vals[2], &r);
	if (e)
		return cli_fail(e);
	const char *cols = NULL;
	if (day)
		cols = "planned_time,status,customer,check_in,check_out,met,outcome,problem,countermeasure,"
		       "follow_up,next_date,ordered,received,outstanding";
	else if (plan)
		cols = "customer,grade,planned,done,missed,open,done_pct,w1,w2,w3,w4,w5";
	else if (vals[2] && !strcmp(vals[2], "ageing"))
		cols = "customer,code,territory,rep,balance,credit,days_0_30,days_31_60,days_61_90,days_over_90,"
		       "oldest_open";
	else if (vals[2] && !strncmp(vals[2], "ageing-", 7))
		cols = NULL;
	else if (vals[2] && !strcmp(vals[2], "open"))
		cols = "date,customer,grade,receivable,received,outstanding,visit_id";
	else if (!vals[2] || strcmp(vals[2], "grade"))
		cols = "customer,code,grade,ordered,receivable,received,outstanding";
	rc = cli_print(c, r, cols);
	if (rc == 0 && day && !c->json && !c->csv)
		day_totals(r);
	fieldsync_rows_free(r);
	return rc;
}

int cmd_due(struct cli *c, int argc, char **argv)
{
	const char *vals[2] = { NULL, NULL };
	struct kit_args a;
	int k, intervals = 0;
	static const char help[] =
		"usage: fieldsync due [--territory T] [--date YYYY-MM-DD]\n"
		"       fieldsync due --intervals\n\n"
		"Customers not visited within their grade's interval, most overdue first\n"
		"(never visited ones at the top). The intervals (default A 7 days, B 14,\n"
		"C 30, VIP 7, no grade 30) are set at HQ (`fieldsyncd setting set due-days`)\n"
		"and arrive with every sync; --intervals shows the ones in force.\n"
		"`fieldsync route plan --due` routes this list.\n";
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 2)
			return cli_usage("due", "unexpected argument '%s'", a.word);
		if (kit_is(&a, "help") || kit_is(&a, "h")) {
			fputs(help, stdout);
			return 0;
		}
		if (kit_is(&a, "intervals")) {
			intervals = 1;
			continue;
		}
		const char **dst = kit_is(&a, "territory") ? &vals[0] : kit_is(&a, "date") ? &vals[1] : NULL;
		if (!dst)
			return kit_unknown(&a);
		if (!(*dst = kit_value(&a)))
			return 2;
	}
	if (a.bad)
		return 2;
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = intervals ? fieldsync_due_intervals(c->s, &r) : fieldsync_due(c->s, vals[0], vals[1], &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, intervals ? NULL : "customer,code,territory,grade,interval_days,last_done,"
			     "days_since,overdue_days,next_planned");
	fieldsync_rows_free(r);
	return rc;
}
