/* main.c - `fieldsync`: the rep's offline CLI. Global options and dispatch. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const struct {
	const char *name;
	cmd_fn fn;
	const char *help;
} cmds[] = {
	{ "customer", cmd_customer, "add, edit, show, list and delete customers" },
	{ "contact", cmd_contact, "add, edit, list and delete a customer's contacts" },
	{ "plan", cmd_plan, "plan a visit" },
	{ "visit", cmd_visit, "log, list, show, miss and cancel visits" },
	{ "today", cmd_today, "the day's visits in route order" },
	{ "due", cmd_due, "customers past their grade's visit interval, most overdue first" },
	{ "report", cmd_report, "the day's visits, planned vs done, collections" },
	{ "export", cmd_export, "customers, visits or payments as CSV for a spreadsheet" },
	{ "route", cmd_route, "plan the day's route; show it as text, GeoJSON or SVG" },
	{ "init", cmd_init, "enrol this store with HQ" },
	{ "sync", cmd_sync, "push local changes to HQ and pull theirs" },
	{ "schedule", cmd_schedule, "nightly sync: a systemd user timer or a crontab line" },
	{ "status", cmd_status, "server, last sync, pending changes, conflicts" },
	{ "conflicts", cmd_conflicts, "list and resolve conflicting edits" },
	{ "quarantine", cmd_quarantine, "records HQ refused, with the reason" },
	{ "dispute", cmd_dispute, "flag a visit, payment or customer as disputed: kept forever" },
	{ "purge", cmd_purge, "remove visits older than HQ's retention period from this device" },
	{ "repair", cmd_repair, "repair clock: after the clock was pushed far ahead" },
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: fieldsync [--db PATH] [--json] COMMAND [ARGS]\n\n"
		"The offline sales ledger: customers, contacts, visit plans and reports.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(fp, "  %-10s %s\n", cmds[i].name, cmds[i].help);
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
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--db") == 0) {
			if (++i >= argc)
				return cli_usage(NULL, "--db needs a path");
			c.db = argv[i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			c.db = a + 5;
		} else if (strcmp(a, "--cacert") == 0) {
			if (++i >= argc)
				return cli_usage(NULL, "--cacert needs a file");
			c.cacert = argv[i];
		} else if (strncmp(a, "--cacert=", 9) == 0) {
			c.cacert = a + 9;
		} else if (strcmp(a, "--json") == 0) {
			c.json = 1;
		} else if (strcmp(a, "--csv") == 0) {
			c.csv = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("fieldsync %s\n", fieldsync_version());
			return 0;
		} else if (a[0] == '-') {
			return cli_usage(NULL, "unknown option %s", a);
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
		if (strcmp(argv[i], cmds[k].name) == 0) {
			int rc = cmds[k].fn(&c, argc - i, argv + i);
			fieldsync_close(c.s);
			if (fflush(stdout) != 0 && rc == 0) {
				fprintf(stderr, "fieldsync: writing output failed\n");
				rc = 5;
			}
			return rc;
		}
	}
	return cli_usage(NULL, "unknown command '%s'", argv[i]);
}
