/* cli.c - helpers shared by the subcommands. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(int rc)
{
	const char *m = fieldsync_errmsg();
	fprintf(stderr, "fieldsync: %s\n", m && *m ? m : fieldsync_strerror(rc));
	return fieldsync_exit_code(rc);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return kit_usage("fieldsync", cmd, "%s", msg);
}

int cli_open(struct cli *c, int create)
{
	char path[4096];
	int rc;
	if (c->s)
		return 0;
	if (c->db) {
		if (strlen(c->db) >= sizeof path)
			return cli_usage(NULL, "--db path too long");
		strcpy(path, c->db);
	} else if ((rc = fieldsync_default_path(path, sizeof path))) {
		return cli_fail(rc);
	}
	rc = fieldsync_open(path, create ? FIELDSYNC_OPEN_CREATE : 0, &c->s);
	if (rc == FIELDSYNC_ENOTFOUND) {
		fprintf(stderr, "fieldsync: no store at %s (add a customer or run 'fieldsync init' first)\n",
			path);
		return fieldsync_exit_code(rc);
	}
	/* --cacert: the CA for HQ's certificate, kept in the store for later syncs */
	if (rc == 0 && c->cacert)
		rc = fieldsync_set_cacert(c->s, c->cacert);
	return rc ? cli_fail(rc) : 0;
}

/* --json, --csv, --db PATH and --cacert FILE, anywhere on the line */
static int take_global(struct kit_args *a)
{
	struct cli *c = CLI_OF(a);
	if (kit_flag(a, "json"))
		c->json = 1;
	else if (kit_flag(a, "csv"))
		c->csv = 1;
	else if (kit_is(a, "db") || kit_is(a, "cacert")) {
		const char *v = kit_value(a);
		if (!v)
			return -1;
		*(a->opt[0] == 'd' ? &c->db : &c->cacert) = v;
	} else
		return a->bad ? -1 : 0;
	return 1;
}

static const char *const global_names[] = { "json", "csv", "db", "cacert", "help", NULL };
const struct kit_globals cli_globals = { take_global, global_names };

void cli_args(struct kit_args *a, struct cli *c, int argc, char **argv)
{
	kit_args_init(a, "fieldsync", argv[0], argc, argv, 1, &cli_globals, c);
}

int cli_print(struct cli *c, fieldsync_rows *r, const char *cols)
{
	int rc = fieldsync_rows_print(r, stdout, c->json ? FIELDSYNC_FMT_JSON :
				      c->csv ? FIELDSYNC_FMT_CSV : FIELDSYNC_FMT_TABLE, c->json ? NULL : cols);
	return rc ? cli_fail(rc) : 0;
}

int cli_lookup(struct cli *c, const char *table, const char *key, char id[33])
{
	int rc = fieldsync_lookup(c->s, table, key, id);
	return rc ? cli_fail(rc) : 0;
}

int cli_set(fieldsync_rec *r, const char *field, const char *value)
{
	int rc = fieldsync_rec_set(r, field, value);
	return rc ? cli_fail(rc) : 0;
}

void cli_print_fields(const char *table)
{
	fieldsync_rows *r;
	if (fieldsync_fields(table, &r) == 0) {
		printf("\nFields of a %s (each as --FIELD VALUE):\n", table);
		fieldsync_rows_print(r, stdout, FIELDSYNC_FMT_TABLE, NULL);
		fieldsync_rows_free(r);
	}
}

int cli_options(struct cli *c, int argc, char **argv, const char *help, const char *const *names,
		const char **vals)
{
	struct kit_args a;
	int k;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 1 && (kit_is(&a, "help") || kit_is(&a, "h"))) {
			fputs(help, stdout);
			return CLI_HELPED;
		}
		int i = -1;
		for (int j = 0; k == 1 && names && names[j] && i < 0; j++)
			if (kit_is(&a, names[j]))
				i = j;
		if (i < 0)
			return kit_unknown(&a);
		if (!(vals[i] = kit_value(&a)))
			return 2;
	}
	return a.bad ? 2 : 0;
}
