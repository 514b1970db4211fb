/* cmd_visit.c - `fieldsync visit start|log|list|show|miss|cancel`. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int usage(int rc)
{
	printf("usage: fieldsync visit start CUSTOMER [--plan VISIT] [--at LAT,LON | --lat L --lon L | --here]\n"
	       "       fieldsync visit log CUSTOMER --outcome TEXT [--plan VISIT] [--date YYYY-MM-DD]\n"
	       "                 [--at LAT,LON | --lat LAT --lon LON | --here]\n"
	       "                 [--met CONTACT|NAME] [--discussed TEXT] [--problem TEXT]\n"
	       "                 [--countermeasure TEXT] [--action TEXT] [--next YYYY-MM-DD]\n"
	       "                 [--order SKU:QTY|PRODUCT:QTY:PRICE]... [--receivable AMOUNT] [--collected AMOUNT]\n"
	       "                 [--method cash|transfer|card|cheque|other]\n"
	       "                 [--check-in HH:MM|DATETIME] [--check-out HH:MM|DATETIME]\n"
	       "       fieldsync visit list [--date D] [--customer CUSTOMER] [--status S]\n"
	       "       fieldsync visit show VISIT\n"
	       "       fieldsync visit miss VISIT --reason TEXT\n"
	       "       fieldsync visit cancel VISIT [--reason TEXT]\n\n"
	       "`log` reports a visit on the spot: it completes the customer's plan for that day\n"
	       "(or --plan), or records an unplanned visit; the order lines and the collection\n"
	       "are written in the same transaction. Amounts are in currency units (1250.50).\n\n"
	       "--order SKU:QTY takes the product and its price from HQ's price list\n"
	       "(`fieldsync products`); SKU:QTY:PRICE sells it at another price, recorded as an\n"
	       "override of the list's; PRODUCT:QTY:PRICE is a line not from the list.\n\n"
	       "--date is the day of the visit (default today); a visit is never dated after\n"
	       "today (plan a future one with 'fieldsync plan'). --check-in and --check-out take\n"
	       "HH:MM, a local time on that day, or a full date-time YYYY-MM-DDTHH:MM[:SS] (local)\n"
	       "or with Z or +HH:MM. Logged live (today, no --check-out) the visit checks out\n"
	       "now and checks in when `start` ran, else now; a back-filled visit (an earlier\n"
	       "--date) keeps only the times given. Check-out before check-in is refused.\n\n"
	       "The check-in position: --at LAT,LON or --lat/--lon in degrees, or --here, read\n"
	       "from gpsd ($FIELDSYNC_GPSD, default 127.0.0.1:2947, waiting at most\n"
	       "$FIELDSYNC_GPS_TIMEOUT_MS, default 5000). No position is fine: without a fix the\n"
	       "visit is logged without one. HQ keeps its distance from the customer.\n");
	return rc;
}

struct logopts {
	const char *cust, *plan, *date, *at, *lat, *lon, *met, *outcome, *discussed, *problem, *counter;
	int here;
	const char *action, *next, *receivable, *collected, *method, *check_in, *check_out;
	const char *orders[64];
	int norders;
};

static const char **logopt(struct logopts *o, struct kit_args *a)
{
	static const struct { const char *name; size_t off; } map[] = {
#define M(n, f) { n, offsetof(struct logopts, f) }
		M("plan", plan), M("date", date), M("at", at), M("lat", lat), M("lon", lon), M("met", met),
		M("outcome", outcome),
		M("discussed", discussed), M("problem", problem), M("countermeasure", counter),
		M("action", action), M("next", next), M("receivable", receivable),
		M("collected", collected), M("method", method), M("check-in", check_in), M("check-out", check_out),
#undef M
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (kit_is(a, map[i].name))
			return (const char **)((char *)o + map[i].off);
	return NULL;
}

/* --check-in / --check-out: HH:MM is a local time on the visit's day,
 * anything else goes to the field's own parser (a full date-time). */
static int set_time(fieldsync_rec *r, const char *field, const char *v, const char *date)
{
	char buf[64];
	if (strlen(v) == 5 && v[2] == ':' && date) {
		snprintf(buf, sizeof buf, "%sT%s", date, v);
		v = buf;
	}
	return cli_set(r, field, v);
}

/* "55.75,37.61" into the record's lat/lon. */
static int set_at(fieldsync_rec *r, const char *at)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", at);
	char *comma = strchr(buf, ',');
	if (!comma) {
		fprintf(stderr, "fieldsync: --at: '%s' is not LAT,LON\n", at);
		return 2;
	}
	*comma = '\0';
	int rc = cli_set(r, "lat", buf);
	return rc ? rc : cli_set(r, "lon", comma + 1);
}

/* --here: the position gpsd has now. No position is never an error: the
 * visit is logged without one, and the rep is told why. */
static int set_here(fieldsync_rec *r)
{
	double lat, lon;
	const char *t = getenv("FIELDSYNC_GPS_TIMEOUT_MS");
	int e = fieldsync_position(NULL, t && atoi(t) > 0 ? atoi(t) : 5000, &lat, &lon);
	if (e) {
		fprintf(stderr, "fieldsync: --here: no position (%s); the visit is logged without one\n",
			fieldsync_errmsg());
		return 0;
	}
	char buf[2][32];
	snprintf(buf[0], sizeof buf[0], "%.7f", lat);
	snprintf(buf[1], sizeof buf[1], "%.7f", lon);
	int rc = cli_set(r, "lat", buf[0]);
	return rc ? rc : cli_set(r, "lon", buf[1]);
}

/* The visit to complete: --plan, else the customer's first plan of the day. */
static int pick_plan(struct cli *c, const struct logopts *o, const char *cid, const char *date,
		     char vid[33], int *has_checkin)
{
	fieldsync_rows *r = NULL;
	int rc;
	*has_checkin = 0;
	vid[0] = '\0';
	if (o->plan) {
		if ((rc = cli_lookup(c, "visit", o->plan, vid)))
			return rc;
		if ((rc = fieldsync_get(c->s, "visit", vid, &r)))
			return cli_fail(rc);
		const char *vc = fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "customer_id"));
		const char *st = fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "status"));
		if (!vc || strcmp(vc, cid)) {
			fprintf(stderr, "fieldsync: --plan: visit %.8s is for another customer\n", vid);
			fieldsync_rows_free(r);
			return 2;
		}
		if (st && strcmp(st, "planned")) {
			fprintf(stderr, "fieldsync: --plan: visit %.8s is already %s\n", vid, st);
			fieldsync_rows_free(r);
			return 2;
		}
	} else {
		char f1[64], f2[64];
		const char *filters[] = { f1, f2, "status=planned", NULL };
		snprintf(f1, sizeof f1, "customer_id=%s", cid);
		snprintf(f2, sizeof f2, "planned_date=%s", date);
		if ((rc = fieldsync_list(c->s, "visit", filters, NULL, &r)))
			return cli_fail(rc);
		if (fieldsync_rows_count(r) > 0)
			snprintf(vid, 33, "%s", fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "id")));
	}
	if (vid[0] && fieldsync_rows_count(r) > 0)
		*has_checkin = fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "check_in")) != NULL;
	fieldsync_rows_free(r);
	return 0;
}

/* The product `sku` of the price list into name and price (its text);
 * 0 found and active, 3 unknown (a message when `must`), 2 withdrawn. */
static int price_list(struct cli *c, const char *sku, int must, char name[256], char price[32])
{
	fieldsync_rows *r;
	int e = fieldsync_products(c->s, sku, 1, &r), rc = 0;
	if (e)
		return cli_fail(e);
	if (fieldsync_rows_count(r) == 0) {
		if (must)
			fprintf(stderr, "fieldsync: --order: no product '%s' in the price list (fieldsync products);"
				" a line not from the list is PRODUCT:QTY:PRICE\n", sku);
		rc = 3;
	} else if (strcmp(fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "active")), "1") != 0) {
		fprintf(stderr, "fieldsync: --order: product %s is withdrawn from the price list\n", sku);
		rc = 2;
	} else {
		snprintf(name, 256, "%s", fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "name")));
		int64_t minor = 0;
		minor = strtoll(fieldsync_rows_value(r, 0, fieldsync_rows_find(r, "price")), NULL, 10);
		fieldsync_money_format(minor, price, 32);
	}
	fieldsync_rows_free(r);
	return rc;
}

/* SKU:QTY (the price list's price), SKU:QTY:PRICE (another price, kept as
 * an override of the list's) or PRODUCT:QTY:PRICE (a line not from the
 * list; the product may itself contain ':'). */
static int add_order(struct cli *c, const char *spec, const char *vid, const char *cid)
{
	char buf[512], qty[32], amount[32], name[256], list[32] = "", *price;
	snprintf(buf, sizeof buf, "%s", spec);
	char *p2 = strrchr(buf, ':');
	char *p1 = p2 ? (*p2 = '\0', strrchr(buf, ':')) : NULL;
	int rc = 0, from_list = 0;
	if (p2 && (!p1 || p1 == buf)) {
		/* SKU:QTY */
		p1 = p2;
		p2 = NULL;
	} else if (!p1) {
		fprintf(stderr, "fieldsync: --order: '%s' is not SKU:QTY or PRODUCT:QTY:PRICE\n", spec);
		return 2;
	}
	*p1 = '\0';
	if (p1 == buf) {
		fprintf(stderr, "fieldsync: --order: '%s' names no product\n", spec);
		return 2;
	}
	if ((rc = price_list(c, buf, !p2, name, list)) == 0)
		from_list = 1;
	else if (rc != 3 || !p2)
		return rc;
	price = p2 ? p2 + 1 : list;
	int64_t pr, q;
	char *end;
	q = strtoll(p1 + 1, &end, 10);
	if (*end || end == p1 + 1 || q < 0 || q > 1000000000) {
		fprintf(stderr, "fieldsync: --order: quantity '%s' is not a whole number 0..1000000000\n", p1 + 1);
		return 2;
	}
	int e = fieldsync_money_parse(price, &pr);
	if (e)
		return cli_fail(e);
	if (q && pr > 9007199254740991LL / q) {
		fprintf(stderr, "fieldsync: --order: amount %lld x %s is beyond 2^53 minor units\n",
			(long long)q, price);
		return 2;
	}
	snprintf(qty, sizeof qty, "%lld", (long long)q);
	fieldsync_money_format(q * pr, amount, sizeof amount);
	fieldsync_rec *r;
	char id[33];
	if ((e = fieldsync_rec_new("order_line", &r)))
		return cli_fail(e);
	if ((rc = cli_set(r, "visit_id", vid)) || (rc = cli_set(r, "customer_id", cid)) ||
	    (rc = cli_set(r, "product", from_list ? name : buf)) || (rc = cli_set(r, "quantity", qty)) ||
	    (rc = cli_set(r, "unit_price", price)) || (rc = cli_set(r, "amount", amount)) ||
	    (from_list && ((rc = cli_set(r, "sku", buf)) || (rc = cli_set(r, "list_price", list)))))
		goto out;
	if ((e = fieldsync_insert(c->s, r, id)))
		rc = cli_fail(e);
out:
	fieldsync_rec_free(r);
	return rc;
}

static int add_payment(struct cli *c, const struct logopts *o, const char *vid, const char *cid,
		       const char *date)
{
	fieldsync_rec *r;
	char id[33];
	int rc = 0, e = fieldsync_rec_new("payment", &r);
	if (e)
		return cli_fail(e);
	if ((rc = cli_set(r, "visit_id", vid)) || (rc = cli_set(r, "customer_id", cid)) ||
	    (rc = cli_set(r, "date", date)) ||
	    (o->receivable && (rc = cli_set(r, "receivable", o->receivable))) ||
	    (o->collected && (rc = cli_set(r, "received", o->collected))) ||
	    (o->method && (rc = cli_set(r, "method", o->method))))
		goto out;
	if ((e = fieldsync_insert(c->s, r, id)))
		rc = cli_fail(e);
out:
	fieldsync_rec_free(r);
	return rc;
}

/* `start` and `log` share everything up to the fields they write. */
static int log_or_start(struct cli *c, struct kit_args *a, int start)
{
	struct logopts o = { 0 };
	int k, rc;
	while ((k = kit_next(a)) > 0) {
		if (k == 2) {
			if (o.cust)
				return cli_usage("visit", "unexpected argument '%s'", a->word);
			o.cust = a->word;
			continue;
		}
		if (kit_flag(a, "here")) {
			o.here = 1;
			continue;
		}
		if (kit_is(a, "order") && !start) {
			const char *v = kit_value(a);
			if (!v)
				return 2;
			if (o.norders == 64)
				return cli_usage("visit", "at most 64 --order lines");
			o.orders[o.norders++] = v;
			continue;
		}
		const char **dst = logopt(&o, a);
		if (!dst || (start && dst != &o.plan && dst != &o.at && dst != &o.lat && dst != &o.lon && dst != &o.date))
			return kit_unknown(a);
		if (!(*dst = kit_value(a)))
			return 2;
	}
	if (a->bad)
		return 2;
	if (!o.cust)
		return cli_usage("visit", "which CUSTOMER?");
	if (!start && !o.outcome)
		return cli_usage("visit", "log needs --outcome");
	if ((o.lat != NULL) != (o.lon != NULL))
		return cli_usage("visit", "--lat and --lon go together");
	if ((o.at || o.lat) + o.here > 1 || (o.at && o.lat))
		return cli_usage("visit", "one position: --at LAT,LON, --lat/--lon or --here");

	fieldsync_rec *r;
	char cid[33], vid[33], kid[33], today[11];
	int has_checkin;
	int e = fieldsync_rec_new("visit", &r);
	if (e)
		return cli_fail(e);
	/* validate every value before touching the store */
	if ((o.date && (rc = cli_set(r, "planned_date", o.date))) ||
	    (o.at && (rc = set_at(r, o.at))) ||
	    (o.lat && (rc = cli_set(r, "lat", o.lat))) || (o.lon && (rc = cli_set(r, "lon", o.lon))) ||
	    (o.here && (rc = set_here(r))) ||
	    (o.outcome && (rc = cli_set(r, "outcome", o.outcome))) ||
	    (o.discussed && (rc = cli_set(r, "discussed", o.discussed))) ||
	    (o.problem && (rc = cli_set(r, "problem", o.problem))) ||
	    (o.counter && (rc = cli_set(r, "countermeasure", o.counter))) ||
	    (o.action && (rc = cli_set(r, "follow_up", o.action))) ||
	    (o.next && (rc = cli_set(r, "next_date", o.next))) ||
	    (rc = cli_open(c, 1)) || (rc = cli_lookup(c, "customer", o.cust, cid)))
		goto out;
	/* the visit date is the local date of the visit, never after today
	 * (this device's date; plans go ahead with `fieldsync plan`) */
	fieldsync_local_date(today);
	if (!o.date) {
		o.date = today;
		if ((rc = cli_set(r, "planned_date", o.date)))
			goto out;
	} else if (strcmp(o.date, today) > 0) {
		fprintf(stderr, "fieldsync: visit: %s is after today (%s): a visit is logged on its day or later;"
			" plan a future one with 'fieldsync plan'\n", o.date, today);
		rc = 2;
		goto out;
	}
	int live = !strcmp(o.date, today);
	if ((o.check_in && (rc = set_time(r, "check_in", o.check_in, o.date))) ||
	    (o.check_out && (rc = set_time(r, "check_out", o.check_out, o.date))))
		goto out;
	if ((e = fieldsync_begin(c->s))) {
		rc = cli_fail(e);
		goto out;
	}
	if ((rc = pick_plan(c, &o, cid, o.date, vid, &has_checkin)))
		goto fail;
	/* live: in now (unless `start` said when), out now; back-filled: only what was given */
	if (live && !o.check_in && !has_checkin && (rc = cli_set(r, "check_in", "now")))
		goto fail;
	if (!start && live && !o.check_out && (rc = cli_set(r, "check_out", "now")))
		goto fail;
	if (!start && (rc = cli_set(r, "status", "done")))
		goto fail;
	if (o.met) {
		if (find_contact(c, cid, o.met, kid) == 0)
			rc = cli_set(r, "met_contact_id", kid);
		else
			rc = cli_set(r, "met_name", o.met);
		if (rc)
			goto fail;
	}
	if (vid[0]) {
		e = fieldsync_update(c->s, vid, r);
	} else {
		if ((rc = cli_set(r, "customer_id", cid)) || (start && (rc = cli_set(r, "status", "planned"))))
			goto fail;
		e = fieldsync_insert(c->s, r, vid);
	}
	if (e) {
		rc = cli_fail(e);
		goto fail;
	}
	for (int i = 0; i < o.norders; i++)
		if ((rc = add_order(c, o.orders[i], vid, cid)))
			goto fail;
	if ((o.receivable || o.collected) && (rc = add_payment(c, &o, vid, cid, o.date)))
		goto fail;
	if ((e = fieldsync_commit(c->s))) {
		rc = cli_fail(e);
		goto out;
	}
	if (c->json)
		printf("{\"id\": \"%s\"}\n", vid);
	else
		printf("%s\n", vid);
	goto out;
fail:
	fieldsync_rollback(c->s);
out:
	fieldsync_rec_free(r);
	return rc;
}

static int set_status(struct cli *c, struct kit_args *a, const char *status)
{
	const char *key = NULL, *reason = NULL;
	int k;
	while ((k = kit_next(a)) > 0) {
		if (k == 2) {
			if (key)
				return cli_usage("visit", "unexpected argument '%s'", a->word);
			key = a->word;
		} else if (kit_is(a, "reason")) {
			if (!(reason = kit_value(a)))
				return 2;
		} else {
			return kit_unknown(a);
		}
	}
	if (a->bad)
		return 2;
	if (!key)
		return cli_usage("visit", "which VISIT?");
	if (!reason && !strcmp(status, "missed"))
		return cli_usage("visit", "miss needs --reason");
	fieldsync_rec *r;
	char id[33];
	int rc, e = fieldsync_rec_new("visit", &r);
	if (e)
		return cli_fail(e);
	if ((rc = cli_set(r, "status", status)) || (reason && (rc = cli_set(r, "miss_reason", reason))) ||
	    (rc = cli_open(c, 0)) || (rc = cli_lookup(c, "visit", key, id)))
		goto out;
	if ((e = fieldsync_update(c->s, id, r)))
		rc = cli_fail(e);
	else
		printf(c->json ? "{\"id\": \"%s\"}\n" : "%s\n", id);
out:
	fieldsync_rec_free(r);
	return rc;
}

static int list(struct cli *c, struct kit_args *a)
{
	const char *date = NULL, *cust = NULL, *status = NULL;
	int k;
	while ((k = kit_next(a)) > 0) {
		const char **dst = k != 1 ? NULL : kit_is(a, "date") ? &date :
				   kit_is(a, "customer") ? &cust : kit_is(a, "status") ? &status : NULL;
		if (!dst)
			return kit_unknown(a);
		if (!(*dst = kit_value(a)))
			return 2;
	}
	if (a->bad)
		return 2;
	char f[3][80], cid[33];
	const char *filters[4];
	int n = 0, rc = cli_open(c, 0);
	if (rc)
		return rc;
	if (date)
		snprintf(f[n], sizeof f[n], "planned_date=%s", date), filters[n] = f[n], n++;
	if (status)
		snprintf(f[n], sizeof f[n], "status=%s", status), filters[n] = f[n], n++;
	if (cust) {
		if ((rc = cli_lookup(c, "customer", cust, cid)))
			return rc;
		snprintf(f[n], sizeof f[n], "customer_id=%s", cid), filters[n] = f[n], n++;
	}
	filters[n] = NULL;
	fieldsync_rows *r;
	int e = fieldsync_list(c->s, "visit", filters, NULL, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, "id,planned_date,planned_time,status,customer,purpose,outcome,check_in");
	fieldsync_rows_free(r);
	return rc;
}

static int show(struct cli *c, struct kit_args *a)
{
	const char *key;
	char id[33], f[64];
	int rc = rec_one_id(a, &key);
	if (rc || (rc = cli_open(c, 0)) || (rc = cli_lookup(c, "visit", key, id)))
		return rc;
	fieldsync_rows *v = NULL, *lines = NULL, *pay = NULL;
	const char *filters[] = { f, NULL };
	snprintf(f, sizeof f, "visit_id=%s", id);
	int e = fieldsync_get(c->s, "visit", id, &v);
	if (!e)
		e = fieldsync_list(c->s, "order_line", filters, NULL, &lines);
	if (!e)
		e = fieldsync_list(c->s, "payment", filters, NULL, &pay);
	if (e) {
		rc = cli_fail(e);
	} else if (c->json) {
		fputs("{\"visit\": ", stdout);
		fieldsync_rows_print(v, stdout, FIELDSYNC_FMT_OBJECT, NULL);
		fputs(", \"order_lines\": ", stdout);
		fieldsync_rows_print(lines, stdout, FIELDSYNC_FMT_JSON, NULL);
		fputs(", \"payments\": ", stdout);
		fieldsync_rows_print(pay, stdout, FIELDSYNC_FMT_JSON, NULL);
		fputs("}\n", stdout);
	} else {
		fieldsync_rows_print(v, stdout, FIELDSYNC_FMT_RECORD, NULL);
		if (fieldsync_rows_count(lines)) {
			printf("\norder:\n");
			fieldsync_rows_print(lines, stdout, FIELDSYNC_FMT_TABLE,
					     "sku,product,quantity,unit_price,list_price,amount");
		}
		if (fieldsync_rows_count(pay)) {
			printf("\ncollection:\n");
			fieldsync_rows_print(pay, stdout, FIELDSYNC_FMT_TABLE, "date,receivable,received,method");
		}
	}
	fieldsync_rows_free(v);
	fieldsync_rows_free(lines);
	fieldsync_rows_free(pay);
	return rc;
}

static const char *const subs[] = { "log", "start", "list", "show", "miss", "cancel", NULL };

int cmd_visit(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	if (rec_wants_help(argc, argv))
		return usage(argc < 2 ? 2 : 0);
	cli_args(&a, c, argc - 1, argv + 1);
	a.cmd = "visit";
	switch (cli_pick("visit", argv[1], subs)) {
	case 0: return log_or_start(c, &a, 0);
	case 1: return log_or_start(c, &a, 1);
	case 2: return list(c, &a);
	case 3: return show(c, &a);
	case 4: return set_status(c, &a, "missed");
	case 5: return set_status(c, &a, "cancelled");
	default: return 2;
	}
}
