/* cmd_product.c - `fieldsync products`: HQ's price list as the last sync
 * brought it (orders take their prices from it: `visit log --order SKU:QTY`). */
#include <string.h>
#include "cli.h"

int cmd_products(struct cli *c, int argc, char **argv)
{
	static const char help[] =
		"usage: fieldsync products [--all] [SKU]\n\n"
		"HQ's price list as the last sync brought it: SKU, name, unit, price, sorted\n"
		"by SKU. --all: withdrawn products too. `fieldsync visit log --order SKU:QTY`\n"
		"takes the price from it; SKU:QTY:PRICE records another price as an override.\n"
		"HQ keeps it (`fieldsyncd product add|edit|import`); it arrives with every sync.\n";
	struct kit_args a;
	const char *sku = NULL;
	int k, all = 0;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 2 && !sku) {
			sku = a.word;
			continue;
		}
		if (k == 2)
			return cli_usage("products", "unexpected argument '%s'", a.word);
		if (kit_is(&a, "help") || kit_is(&a, "h")) {
			fputs(help, stdout);
			return 0;
		}
		if (kit_flag(&a, "all")) {
			all = 1;
			continue;
		}
		return kit_unknown(&a);
	}
	if (a.bad)
		return 2;
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_products(c->s, sku, all, &r);
	if (e)
		return cli_fail(e);
	if (sku && fieldsync_rows_count(r) == 0) {
		fieldsync_rows_free(r);
		fprintf(stderr, "fieldsync: no product %s in the price list (fieldsync products)\n", sku);
		return 3;
	}
	rc = cli_print(c, r, all || sku ? "sku,name,unit,price,active" : "sku,name,unit,price");
	fieldsync_rows_free(r);
	return rc;
}
