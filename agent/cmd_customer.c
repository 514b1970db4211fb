/* cmd_customer.c - `fieldsync customer add|edit|show|list|delete`. */
#include <string.h>
#include "cli.h"

static int usage(int rc)
{
	printf("usage: fieldsync customer add --name NAME --territory T [--FIELD VALUE]...\n"
	       "       fieldsync customer edit ID --FIELD VALUE...\n"
	       "       fieldsync customer show ID\n"
	       "       fieldsync customer list [--territory T] [--grade G] [--status S] [--FIELD V]...\n"
	       "                               [--search TEXT]\n"
	       "       fieldsync customer delete ID\n"
	       "       fieldsync customer import FILE.csv [--dry-run] [--delimiter ,|;|tab]\n"
	       "       fieldsync customer history ID\n\n"
	       "ID is the full id, a unique prefix of it (8 characters are shown in tables)\n"
	       "or the customer code. A VALUE of \"\" clears a field.\n\n"
	       "import reads a CSV file (UTF-8, with or without a byte order mark; a header\n"
	       "row of field names, which must include code): a row whose code names a\n"
	       "customer updates it, others create customers; empty cells change nothing.\n"
	       "All or nothing: the first bad row stops it with its line number and the\n"
	       "reason. --dry-run checks and reports without writing. The delimiter (comma,\n"
	       "semicolon as Excel writes it in most of Europe and Russia, or tab) is read\n"
	       "from the header, or given with --delimiter; with a semicolon or a tab, amounts\n"
	       "and coordinates may have a decimal comma (3,20). A new store is created.\n");
	cli_print_fields("customer");
	return rc;
}

static int show(struct cli *c, struct kit_args *a)
{
	const char *key;
	char id[33];
	int rc = rec_one_id(a, &key);
	if (rc || (rc = cli_open(c, 0)) || (rc = cli_lookup(c, "customer", key, id)))
		return rc;
	fieldsync_rows *rec = NULL, *contacts = NULL, *owed = NULL;
	char filter[64];
	const char *filters[] = { filter, NULL };
	snprintf(filter, sizeof filter, "customer_id=%s", id);
	int e = fieldsync_get(c->s, "customer", id, &rec);
	if (!e)
		e = fieldsync_list(c->s, "contact", filters, NULL, &contacts);
	if (!e)
		e = fieldsync_owed(c->s, id, NULL, &owed);	/* balance, credit, ageing */
	if (e) {
		rc = cli_fail(e);
	} else if (c->json) {
		fputs("{\"customer\": ", stdout);
		fieldsync_rows_print(rec, stdout, FIELDSYNC_FMT_OBJECT, NULL);
		fputs(", \"contacts\": ", stdout);
		fieldsync_rows_print(contacts, stdout, FIELDSYNC_FMT_JSON, NULL);
		fputs(", \"owed\": ", stdout);
		fieldsync_rows_print(owed, stdout, FIELDSYNC_FMT_OBJECT, NULL);
		fputs("}\n", stdout);
	} else {
		fieldsync_rows_print(rec, stdout, FIELDSYNC_FMT_RECORD, NULL);
		printf("\nowed today (collections pay the oldest amounts first):\n");
		fieldsync_rows_print(owed, stdout, FIELDSYNC_FMT_RECORD, NULL);
		if (fieldsync_rows_count(contacts)) {
			printf("\ncontacts:\n");
			fieldsync_rows_print(contacts, stdout, FIELDSYNC_FMT_TABLE,
					     "id,name,role,title,phone,email");
		}
	}
	fieldsync_rows_free(rec);
	fieldsync_rows_free(contacts);
	fieldsync_rows_free(owed);
	return rc;
}

static int history(struct cli *c, struct kit_args *a)
{
	const char *key;
	char id[33];
	int rc = rec_one_id(a, &key);
	if (rc || (rc = cli_open(c, 0)) || (rc = cli_lookup(c, "customer", key, id)))
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_customer_history(c->s, id, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, "at,by,record,field,old_value,new_value,source");
	fieldsync_rows_free(r);
	return rc;
}

static const char *const subs[] = { "add", "edit", "show", "list", "delete", "import", "history", NULL };

int cmd_customer(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	if (rec_wants_help(argc, argv))
		return usage(argc < 2 ? 2 : 0);
	cli_args(&a, c, argc - 1, argv + 1);
	a.cmd = "customer";
	switch (cli_pick("customer", argv[1], subs)) {
	case 0: return rec_add(c, &a, "customer", NULL);
	case 1: return rec_edit(c, &a, "customer");
	case 2: return show(c, &a);
	case 3: return rec_list(c, &a, "customer", "id,code,name,territory,route_seq,grade,status,city,phone", NULL);
	case 4: return rec_delete(c, &a, "customer");
	case 5: return cmd_customer_import(c, &a);
	case 6: return history(c, &a);
	default: return 2;
	}
}
