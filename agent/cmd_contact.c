/* cmd_contact.c - `fieldsync contact add|edit|list|delete`. */
#include <string.h>
#include "cli.h"

static int usage(int rc)
{
	printf("usage: fieldsync contact add CUSTOMER --name NAME [--role decision-maker|influencer|user]\n"
	       "                            [--title T] [--phone P] [--email E] [--birthday D] [--notes N]\n"
	       "       fieldsync contact edit ID --FIELD VALUE...\n"
	       "       fieldsync contact list CUSTOMER\n"
	       "       fieldsync contact delete ID\n");
	cli_print_fields("contact");
	return rc;
}

int cmd_contact(struct cli *c, int argc, char **argv)
{
	struct args a;
	if (rec_wants_help(argc, argv))
		return usage(argc < 2 ? 2 : 0);
	args_init(&a, c, argc - 1, argv + 1);
	a.cmd = "contact";
	const char *sub = argv[1];
	if (!strcmp(sub, "add")) return rec_add(c, &a, "contact", "customer_id");
	if (!strcmp(sub, "edit")) return rec_edit(c, &a, "contact");
	if (!strcmp(sub, "list"))
		return rec_list(c, &a, "contact", "id,name,role,title,phone,email,birthday", "customer_id");
	if (!strcmp(sub, "delete")) return rec_delete(c, &a, "contact");
	return cli_usage("contact", "unknown subcommand '%s'", sub);
}
