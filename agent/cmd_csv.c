/* cmd_csv.c - `fieldsync customer import` and `fieldsync export`: CSV in and out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* Counts of a report's actions: "3 created, 1 updated, 0 unchanged". */
static void import_summary(fieldsync_rows *r, int dry_run, FILE *fp)
{
	int n[3] = { 0 }, col = fieldsync_rows_find(r, "action");
	static const char *const act[] = { "created", "updated", "unchanged" };
	for (int i = 0; i < fieldsync_rows_count(r); i++)
		for (int k = 0; k < 3; k++)
			n[k] += !strcmp(fieldsync_rows_value(r, i, col), act[k]);
	fprintf(fp, "%s%d created, %d updated, %d unchanged\n", dry_run ? "dry run, nothing written: " : "", n[0],
		n[1], n[2]);
}

int cmd_customer_import(struct cli *c, struct kit_args *a)
{
	const char *file = NULL, *d = NULL;
	int dry = 0, k, delim = 0;
	while ((k = kit_next(a)) > 0) {
		if (k == 2) {
			if (file)
				return cli_usage("customer", "import: one FILE only");
			file = a->word;
		} else if (kit_is(a, "dry-run")) {
			dry = 1;
		} else if (kit_is(a, "delimiter")) {
			if (!(d = kit_value(a)))
				return 2;
			if (!strcmp(d, ",") || !strcmp(d, "comma"))
				delim = ',';
			else if (!strcmp(d, ";") || !strcmp(d, "semicolon"))
				delim = ';';
			else if (!strcmp(d, "tab") || !strcmp(d, "\t") || !strcmp(d, "\\t"))
				delim = '\t';
			else if (strcmp(d, "auto"))
				return cli_usage("customer", "--delimiter: '%s' is not one of , ; tab auto", d);
		} else {
			return kit_unknown(a);
		}
	}
	if (a->bad)
		return 2;
	if (!file)
		return cli_usage("customer", "import needs a FILE.csv (\"-\" for standard input)");
	int rc = cli_open(c, 1);	/* importing into a new store creates it, as customer add does */
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_import(c->s, "customer", file,
				 (dry ? FIELDSYNC_IMPORT_DRY_RUN : 0) | FIELDSYNC_IMPORT_DELIM(delim), &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, "line,action,code,name,id");
	if (rc == 0 && !c->json)
		import_summary(r, dry, c->csv ? stderr : stdout);
	fieldsync_rows_free(r);
	return rc;
}

static const char export_help[] =
	"usage: fieldsync export customers|visits|money [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
	"                        [--bom] [FILE]\n\n"
	"Writes CSV (RFC 4180, UTF-8, a header row) to FILE or standard output: every\n"
	"customer (the file imports back with `fieldsync customer import`), the visits\n"
	"planned in the period with their reports and amounts, or the payments dated in\n"
	"it. --bom starts the file with a UTF-8 byte order mark, which some spreadsheets\n"
	"need to read it as UTF-8. Amounts are in currency units (12.50).\n";

int cmd_export(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	const char *what = NULL, *file = NULL, *from = NULL, *to = NULL;
	int bom = 0, k;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 2) {
			if (!what)
				what = a.word;
			else if (!file)
				file = a.word;
			else
				return cli_usage("export", "unexpected argument '%s'", a.word);
			continue;
		}
		if (kit_is(&a, "help") || kit_is(&a, "h")) {
			fputs(export_help, stdout);
			return 0;
		}
		if (kit_is(&a, "bom")) {
			bom = 1;
			continue;
		}
		const char **dst = kit_is(&a, "from") ? &from : kit_is(&a, "to") ? &to : NULL;
		if (!dst)
			return kit_unknown(&a);
		if (!(*dst = kit_value(&a)))
			return 2;
	}
	if (a.bad)
		return 2;
	if (!what)
		return cli_usage("export", "export what? customers, visits or money");
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_export(c->s, what, from, to, &r);
	if (e)
		return cli_fail(e);
	FILE *fp = file && strcmp(file, "-") ? fopen(file, "wb") : stdout;
	if (!fp) {
		fprintf(stderr, "fieldsync: cannot write %s: %s\n", file, strerror(errno));
		fieldsync_rows_free(r);
		return 5;
	}
	e = fieldsync_rows_print(r, fp, FIELDSYNC_FMT_CSV | (bom ? FIELDSYNC_FMT_BOM : 0), NULL);
	if (fp != stdout && fclose(fp) != 0 && !e)
		e = FIELDSYNC_EIO;
	if (!e && fp != stdout)
		fprintf(stderr, "fieldsync: %d rows of %s written to %s\n", fieldsync_rows_count(r), what, file);
	fieldsync_rows_free(r);
	return e ? cli_fail(e) : 0;
}
