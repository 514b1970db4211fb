/* main.c - `fieldsync`: the rep's offline CLI. Global options and dispatch. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* kit_cmd runs a command with the program's context as void * */
#define RUN(f) static int run_##f(void *c, int argc, char **argv) { return cmd_##f(c, argc, argv); }
RUN(conflicts)
RUN(contact)
RUN(customer)
RUN(dispute)
RUN(due)
RUN(export)
RUN(init)
RUN(plan)
RUN(products)
RUN(purge)
RUN(quarantine)
RUN(repair)
RUN(report)
RUN(route)
RUN(schedule)
RUN(status)
RUN(sync)
RUN(today)
RUN(visit)
#undef RUN

/* Each command prints its own --help (per subcommand where it has them). */
static const struct kit_cmd cmds[] = {
	{ "customer", NULL, "add, edit, show, list and delete customers", NULL, run_customer },
	{ "contact", NULL, "add, edit, list and delete a customer's contacts", NULL, run_contact },
	{ "plan", NULL, "plan a visit", NULL, run_plan },
	{ "visit", NULL, "log, list, show, miss and cancel visits", NULL, run_visit },
	{ "products", "product", "HQ's price list, as the last sync brought it", NULL, run_products },
	{ "today", NULL, "the day's visits in route order", NULL, run_today },
	{ "due", NULL, "customers past their grade's visit interval, most overdue first", NULL, run_due },
	{ "report", NULL, "the day's visits, planned vs done, collections", NULL, run_report },
	{ "export", NULL, "customers, visits or payments as CSV for a spreadsheet", NULL, run_export },
	{ "route", NULL, "plan the day's route; show it as text, GeoJSON or SVG", NULL, run_route },
	{ "init", NULL, "enrol this store with HQ", NULL, run_init },
	{ "sync", NULL, "push local changes to HQ and pull theirs", NULL, run_sync },
	{ "schedule", NULL, "nightly sync: a systemd user timer or a crontab line", NULL, run_schedule },
	{ "status", NULL, "server, last sync, pending changes, conflicts", NULL, run_status },
	{ "conflicts", NULL, "list and resolve conflicting edits", NULL, run_conflicts },
	{ "quarantine", NULL, "records HQ refused, with the reason", NULL, run_quarantine },
	{ "dispute", NULL, "flag a visit, payment or customer as disputed: kept forever", NULL, run_dispute },
	{ "purge", NULL, "remove visits older than HQ's retention period from this device", NULL, run_purge },
	{ "repair", NULL, "repair clock: after the clock was pushed far ahead", NULL, run_repair },
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: fieldsync [--db PATH] [--json] COMMAND [ARGS]\n\n"
		"The offline sales ledger: customers, contacts, visit plans and reports.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(fp, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(fp, "\nGlobal options:\n"
		"  --db PATH   store file (default: $FIELDSYNC_DB or $XDG_DATA_HOME/fieldsync/fieldsync.db)\n"
		"  --json      print one JSON document instead of a table\n"
		"  --csv       print tables as CSV (RFC 4180, header row)\n"
		"  --cacert FILE  trust the CA certificate(s) in this PEM file for HQ's HTTPS\n"
		"              certificate (private CA, self-signed); kept in the store for later\n"
		"              syncs, \"\" forgets it; $FIELDSYNC_CACERT overrides it\n"
		"  --help      this text; `fieldsync COMMAND --help` for a command\n"
		"  --version   print the version\n\n"
		"Exit codes: 0 ok, 1 done with problems, 2 invalid input, 3 not found,\n"
		"4 out of memory, 5 store I/O, 6 store from a newer version, 7 server unreachable,\n"
		"8 not authorised, 9 protocol error, 10 busy, 11 wrong state, 12 limit, 13 server error,\n"
		"14 timeout.\n");
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	struct kit_args a;
	int k;
	kit_args_init(&a, "fieldsync", NULL, argc, argv, 1, &cli_globals, &c);
	while ((k = kit_next(&a)) == 1) {
		if (kit_flag(&a, "help")) {
			usage(stdout);
			return 0;
		}
		if (kit_flag(&a, "version")) {
			printf("fieldsync %s\n", fieldsync_version());
			return 0;
		}
		return kit_unknown(&a);
	}
	if (a.bad)
		return 2;
	if (k == 0) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(a.word, "-h")) {
		usage(stdout);
		return 0;
	}
	if (a.word[0] == '-')
		return kit_usage("fieldsync", NULL, "unknown option %s", a.word);
	int rc = kit_run("fieldsync", cmds, sizeof cmds / sizeof cmds[0], &c, argc - (a.i - 1), argv + (a.i - 1));
	fieldsync_close(c.s);
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "fieldsync: writing output failed\n");
		rc = 5;
	}
	return rc;
}
