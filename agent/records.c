/*
 * records.c - the generic add / edit / delete / list subcommands, used by
 * every record type the CLI manages (customer, contact). Record fields are
 * given as --FIELD VALUE and validated by the engine's registry.
 */
#include <string.h>
#include "cli.h"

/* Does the current option name a field of `table` a caller may set
 * ("payment_terms" as well as "payment-terms")? If not, the usage error
 * suggests the closest field. */
static int field_option(struct kit_args *a, const char *table)
{
	fieldsync_rows *f;
	char want[64];
	int found = 0;
	if (fieldsync_fields(table, &f))
		return 1;	/* the engine will say what is wrong */
	snprintf(want, sizeof want, "%s", a->opt);
	for (char *p = want; *p; p++)
		if (*p == '_')
			*p = '-';
	for (int i = 0; i < fieldsync_rows_count(f) && !found; i++) {
		const char *name = fieldsync_rows_value(f, i, 0);
		found = name && !strcmp(name, want);
		if (name && !found)
			kit_is(a, name);	/* a candidate for the suggestion */
	}
	if (!found)
		kit_unknown(a);
	fieldsync_rows_free(f);
	return found;
}

int rec_fields(struct kit_args *a, const char *table, fieldsync_rec *r, const char **id)
{
	int k;
	while ((k = kit_next(a)) > 0) {
		if (k == 2) {
			if (!id || *id)
				return cli_usage(a->cmd, "unexpected argument '%s'", a->word);
			*id = a->word;
			continue;
		}
		if (!field_option(a, table))
			return 2;
		const char *v = kit_value(a);
		if (!v)
			return 2;
		int rc = cli_set(r, a->opt, v);
		if (rc)
			return rc;
	}
	return a->bad ? 2 : 0;
}

int rec_one_id(struct kit_args *a, const char **key)
{
	int k;
	*key = NULL;
	while ((k = kit_next(a)) > 0) {
		if (k == 1)
			return kit_unknown(a);
		if (*key)
			return cli_usage(a->cmd, "unexpected argument '%s'", a->word);
		*key = a->word;
	}
	if (a->bad)
		return 2;
	if (!*key)
		return cli_usage(a->cmd, "an ID is needed");
	return 0;
}

static void print_id(struct cli *c, const char *id, const char *extra)
{
	if (c->json)
		printf("{\"id\": \"%s\"%s}\n", id, extra ? extra : "");
	else
		printf("%s\n", id);
}

int rec_add(struct cli *c, struct kit_args *a, const char *table, const char *parent_field)
{
	fieldsync_rec *r;
	const char *parent = NULL;
	char id[33], pid[33];
	int rc = fieldsync_rec_new(table, &r);
	if (rc)
		return cli_fail(rc);
	rc = rec_fields(a, table, r, parent_field ? &parent : NULL);
	if (rc == 0 && parent_field && !parent)
		rc = cli_usage(a->cmd, "add needs the CUSTOMER it belongs to");
	if (rc == 0)
		rc = cli_open(c, 1);
	if (rc == 0 && parent && (rc = cli_lookup(c, "customer", parent, pid)) == 0)
		rc = cli_set(r, parent_field, pid);
	if (rc == 0) {
		int e = fieldsync_insert(c->s, r, id);
		if (e)
			rc = cli_fail(e);
		else
			print_id(c, id, NULL);
	}
	fieldsync_rec_free(r);
	return rc;
}

int rec_edit(struct cli *c, struct kit_args *a, const char *table)
{
	fieldsync_rec *r;
	const char *key = NULL;
	char id[33];
	int rc = fieldsync_rec_new(table, &r);
	if (rc)
		return cli_fail(rc);
	if ((rc = rec_fields(a, table, r, &key)) == 0) {
		if (!key)
			rc = cli_usage(a->cmd, "edit needs an ID");
		else if (fieldsync_rec_count(r) == 0)
			rc = cli_usage(a->cmd, "edit needs at least one --FIELD VALUE");
		else if ((rc = cli_open(c, 0)) == 0 && (rc = cli_lookup(c, table, key, id)) == 0) {
			int e = fieldsync_update(c->s, id, r);
			if (e)
				rc = cli_fail(e);
			else
				print_id(c, id, NULL);
		}
	}
	fieldsync_rec_free(r);
	return rc;
}

int rec_delete(struct cli *c, struct kit_args *a, const char *table)
{
	const char *key;
	char id[33];
	int rc = rec_one_id(a, &key);
	if (rc || (rc = cli_open(c, 0)) || (rc = cli_lookup(c, table, key, id)))
		return rc;
	int e = fieldsync_delete(c->s, table, id);
	if (e)
		return cli_fail(e);
	if (c->json)
		print_id(c, id, ", \"deleted\": true");
	else
		printf("deleted %s %s\n", table, id);
	return 0;
}

int rec_list(struct cli *c, struct kit_args *a, const char *table, const char *cols,
	     const char *parent_field)
{
	const char *filters[66], *search = NULL, *parent = NULL;
	char buf[65][320];
	int n = 0, k;
	while ((k = kit_next(a)) > 0) {
		if (k == 2) {
			if (!parent_field || parent)
				return cli_usage(a->cmd, "unexpected argument '%s'", a->word);
			parent = a->word;
			continue;
		}
		if (!kit_is(a, "search") && !field_option(a, table))
			return 2;
		const char *v = kit_value(a);
		if (!v)
			return 2;
		if (kit_is(a, "search")) {
			search = v;
			continue;
		}
		if (n == 63)
			return cli_usage(a->cmd, "too many filters");
		snprintf(buf[n], sizeof buf[n], "%s=%s", a->opt, v);
		filters[n] = buf[n];
		n++;
	}
	if (a->bad)
		return 2;
	if (parent_field && !parent)
		return cli_usage(a->cmd, "list needs the CUSTOMER");
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	if (parent) {
		char pid[33];
		if ((rc = cli_lookup(c, "customer", parent, pid)))
			return rc;
		snprintf(buf[n], sizeof buf[n], "%s=%s", parent_field, pid);
		filters[n] = buf[n];
		n++;
	}
	filters[n] = NULL;
	fieldsync_rows *r;
	int e = fieldsync_list(c->s, table, filters, search, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, cols);
	fieldsync_rows_free(r);
	return rc;
}

int rec_wants_help(int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}
