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

static const char *const subs[] = { "add", "edit", "list", "delete", NULL };

int cmd_contact(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	if (rec_wants_help(argc, argv))
		return usage(argc < 2 ? 2 : 0);
	cli_args(&a, c, argc - 1, argv + 1);
	a.cmd = "contact";
	switch (cli_pick("contact", argv[1], subs)) {
	case 0: return rec_add(c, &a, "contact", "customer_id");
	case 1: return rec_edit(c, &a, "contact");
	case 2: return rec_list(c, &a, "contact", "id,name,role,title,phone,email,birthday", "customer_id");
	case 3: return rec_delete(c, &a, "contact");
	default: return 2;
	}
}
