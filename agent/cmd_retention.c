/* cmd_retention.c - `fieldsync purge` and `fieldsync dispute`: how long records stay on the device. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char purge_help[] =
	"usage: fieldsync purge [--dry-run]\n\n"
	"Removes from this device the visits older than HQ's retention period (the\n"
	"date of the check-in, else the planned date, before today minus N years;\n"
	"`fieldsync status` shows N, 3 until HQ sets it), with their order lines and\n"
	"the payments collected on them, and old payments without a visit. HQ keeps\n"
	"everything: nothing of this is synced. Never removed: records flagged\n"
	"disputed (`fieldsync dispute`), everything of a disputed customer, a visit\n"
	"with a disputed payment, and anything not yet pushed to HQ.\n"
	"--dry-run counts what would go and removes nothing.\n";

/* The column's value in the row of `table`, as a number. */
static long long cell(fieldsync_rows *r, const char *table, const char *col)
{
	int c = fieldsync_rows_find(r, col);
	for (int i = 0; i < fieldsync_rows_count(r); i++)
		if (!strcmp(fieldsync_rows_value(r, i, 0), table)) {
			const char *v = fieldsync_rows_value(r, i, c);
			return v ? strtoll(v, NULL, 10) : 0;
		}
	return 0;
}

int cmd_purge(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	int dry = 0, k;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 1 && (kit_is(&a, "help") || kit_is(&a, "h"))) {
			fputs(purge_help, stdout);
			return 0;
		}
		if (k == 1 && kit_is(&a, "dry-run") && !a.inl)
			dry = 1;
		else
			return kit_unknown(&a);
	}
	if (a.bad)
		return 2;
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_purge(c->s, dry, &r);
	if (e)
		return cli_fail(e);
	if (!c->json && !c->csv)
		printf("retention %lld years: records dated before %s%s\n", cell(r, "visit", "years"),
		       fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "before")),
		       dry ? " (dry run, nothing removed)" : "");
	rc = cli_print(c, r, "table,purged,kept_disputed,kept_unsynced");
	long long kept[2] = { 0, 0 };
	for (int i = 0; i < 3; i++) {
		static const char *const t[] = { "visit", "order_line", "payment" };
		kept[0] += cell(r, t[i], "kept_disputed");
		kept[1] += cell(r, t[i], "kept_unsynced");
	}
	if (rc == 0 && !c->json && !c->csv)
		printf("%s: visits %lld, order lines %lld, payments %lld; kept: %lld disputed, %lld unsynced\n",
		       dry ? "would purge" : "purged", cell(r, "visit", "purged"),
		       cell(r, "order_line", "purged"), cell(r, "payment", "purged"), kept[0], kept[1]);
	fieldsync_rows_free(r);
	return rc;
}

static const char dispute_help[] =
	"usage: fieldsync dispute visit|payment|customer ID [--clear]\n\n"
	"Flags a record as under dispute, or with --clear lifts the flag: an ordinary\n"
	"edit of its `disputed` field that syncs to HQ. A disputed record is kept\n"
	"forever on every device and at HQ; a disputed customer keeps all its visits\n"
	"and payments, a disputed payment its visit. ID is the full id or a unique\n"
	"prefix (for a customer also its code).\n";

int cmd_dispute(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	const char *table = NULL, *key = NULL;
	int clear = 0, k;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 1 && (kit_is(&a, "help") || kit_is(&a, "h"))) {
			fputs(dispute_help, stdout);
			return 0;
		}
		if (k == 1 && kit_is(&a, "clear") && !a.inl)
			clear = 1;
		else if (k == 1)
			return kit_unknown(&a);
		else if (!table)
			table = a.word;
		else if (!key)
			key = a.word;
		else
			return cli_usage("dispute", "unexpected argument '%s'", a.word);
	}
	if (a.bad)
		return 2;
	if (!table || (strcmp(table, "visit") && strcmp(table, "payment") && strcmp(table, "customer")))
		return cli_usage("dispute", "'%s' is not visit, payment or customer", table ? table : "");
	if (!key)
		return cli_usage("dispute", "which %s? (an ID)", table);
	char id[33];
	int rc = cli_open(c, 0);
	if (rc || (rc = cli_lookup(c, table, key, id)))
		return rc;
	fieldsync_rows *cur;
	int e = fieldsync_get(c->s, table, id, &cur);
	if (e)
		return cli_fail(e);
	const char *v = fieldsync_rows_value(cur, 0, fieldsync_rows_find(cur, "disputed"));
	int was = v && !strcmp(v, "1");
	fieldsync_rows_free(cur);
	if (was != !clear) {
		fieldsync_rec *r;
		if ((e = fieldsync_rec_new(table, &r)))
			return cli_fail(e);
		e = fieldsync_rec_set(r, "disputed", clear ? "0" : "1");
		if (e == 0)
			e = fieldsync_update(c->s, id, r);
		fieldsync_rec_free(r);
		if (e)
			return cli_fail(e);
	}
	fieldsync_dispute_print(stdout, c->json, table, id, was, clear);
	return 0;
}

static const char repair_help[] =
	"usage: fieldsync repair clock [--dry-run]\n\n"
	"Sets this store's clock back to the system time after it was pushed far\n"
	"ahead of it (the date was wrong and has been corrected, or a write from a\n"
	"wrong clock was seen), and rewrites the fields stamped in the future as this\n"
	"device's own edits with the same values, so that HQ accepts them at the next\n"
	"sync. Needed when HQ refuses a write for its clock (\"run 'fieldsync repair clock'\").\n"
	"--dry-run counts the records it would rewrite and changes nothing.\n";

int cmd_repair(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	int dry = 0, k, clock = 0;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 1 && (kit_is(&a, "help") || kit_is(&a, "h"))) {
			fputs(repair_help, stdout);
			return 0;
		}
		if (k == 1 && kit_is(&a, "dry-run") && !a.inl)
			dry = 1;
		else if (k == 2 && !clock && !strcmp(a.word, "clock"))
			clock = 1;
		else
			return kit_unknown(&a);
	}
	if (a.bad)
		return 2;
	if (!clock)
		return cli_usage("repair", "what to repair? (only 'clock' is known)");
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	long n = 0;
	int e = fieldsync_repair_clock(c->s, dry, &n);
	if (e)
		return cli_fail(e);
	if (c->json)
		printf("{\"records\": %ld, \"dry_run\": %s}\n", n, dry ? "true" : "false");
	else
		printf("%s %ld record%s\n", dry ? "would restamp" : "restamped", n, n == 1 ? "" : "s");
	return 0;
}
