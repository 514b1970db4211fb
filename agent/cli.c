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
	va_list ap;
	fprintf(stderr, "fieldsync: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'fieldsync %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
	return 2;
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

void args_init(struct args *a, struct cli *c, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	a->argc = argc;
	a->argv = argv;
	a->cmd = argv[0];
	a->cli = c;
	a->i = 1;
}

int args_next(struct args *a)
{
	static _Thread_local char name[128];
	a->opt = a->inl = a->word = NULL;
	if (a->i >= a->argc)
		return 0;
	const char *s = a->argv[a->i++];
	if (s[0] == '-' && s[1] == '-' && s[2]) {
		const char *eq = strchr(s + 2, '=');
		size_t n = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, s + 2, n);
		name[n] = '\0';
		a->opt = name;
		a->inl = eq ? eq + 1 : NULL;
		if (strcmp(name, "json") == 0 && !eq) {
			a->cli->json = 1;
			return args_next(a);
		}
		if (strcmp(name, "csv") == 0 && !eq) {
			a->cli->csv = 1;
			return args_next(a);
		}
		if (strcmp(name, "db") == 0 || strcmp(name, "cacert") == 0) {
			const char *v = args_value(a);
			if (!v) {
				a->bad = 1;
				return 0;
			}
			*(name[0] == 'd' ? &a->cli->db : &a->cli->cacert) = v;
			return args_next(a);
		}
		return 1;
	}
	a->word = s;
	return 2;
}

const char *args_value(struct args *a)
{
	if (a->inl)
		return a->inl;
	if (a->i >= a->argc) {
		cli_usage(a->cmd, "--%s needs a value", a->opt);
		return NULL;
	}
	return a->argv[a->i++];
}

int args_is(const struct args *a, const char *name)
{
	return a->opt && strcmp(a->opt, name) == 0;
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
	struct args a;
	int k;
	args_init(&a, c, argc, argv);
	while ((k = args_next(&a)) > 0) {
		if (k == 1 && (args_is(&a, "help") || args_is(&a, "h"))) {
			fputs(help, stdout);
			return CLI_HELPED;
		}
		int i = -1;
		for (int j = 0; k == 1 && names && names[j] && i < 0; j++)
			if (args_is(&a, names[j]))
				i = j;
		if (i < 0)
			return cli_usage(argv[0], k == 1 ? "unknown option --%s" : "unexpected argument '%s'",
					 k == 1 ? a.opt : a.word);
		if (!(vals[i] = args_value(&a)))
			return 2;
	}
	return a.bad ? 2 : 0;
}
