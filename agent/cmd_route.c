/* cmd_route.c - `fieldsync route plan|show|set-home|set-office|places`. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int usage(int rc)
{
	printf("usage: fieldsync route plan [--date YYYY-MM-DD] [--territory T] [--from PLACE]\n"
	       "                            [--to PLACE | --return] [--due | --all] [--save]\n"
	       "                            [--budget-ms N] [--format text|geojson|svg]\n"
	       "       fieldsync route show [--date YYYY-MM-DD] [--territory T] [--from PLACE]\n"
	       "                            [--to PLACE | --return] [--due | --all]\n"
	       "                            [--format text|geojson|svg]\n"
	       "       fieldsync route set-home LAT,LON | --clear\n"
	       "       fieldsync route set-office LAT,LON | --clear\n"
	       "       fieldsync route places\n\n"
	       "`plan` orders the day's planned visits (default today) into the shortest drive\n"
	       "and stores the order on them (visit route_seq, synced like any edit; `today`\n"
	       "lists in that order). It prints each stop with the leg and running total in km,\n"
	       "and the saving against the order stored before. Visits whose customer has no\n"
	       "lat/lon are listed after the route, not ordered.\n"
	       "With --due it orders the customers due for a visit by their grade's interval\n"
	       "(A 7 days, B 14, C 30, VIP 7, no grade 30, since the last done visit; never\n"
	       "visited: due); --all takes every customer. These create nothing; --save stores\n"
	       "the order as the customers' standing route order (customer route_seq).\n\n"
	       "PLACE is LAT,LON in decimal degrees (55.7558,37.6173), home or office.\n"
	       "  --from PLACE   start there (default: home if set, else the best first stop)\n"
	       "  --to PLACE     end there (default: at the last stop)\n"
	       "  --return       come back to the start\n"
	       "  --budget-ms N  search time limit (default 2000; 0: the iteration cap alone).\n"
	       "                 The search is deterministic while the limit does not bind.\n"
	       "  --format F     text (default; --json for JSON), geojson (a FeatureCollection\n"
	       "                 for any GIS tool) or svg (a picture of the route)\n\n"
	       "`show` prints the stored order (the day's visits as `today` lists them, or the\n"
	       "customers' standing order with --due/--all) without planning.\n"
	       "`set-home` and `set-office` keep two positions on this device (not synced).\n");
	return rc;
}

enum { OUT_TEXT, OUT_GEOJSON, OUT_SVG };

/* What the command line asked for; handed to the library's opaque option
 * set (fieldsync_route_opts) by make_opts(). */
struct ropts {
	struct {
		const char *date, *territory, *from, *to;
		int ret, select, save, budget_ms;
	} o;
	int out;
};

/* Options of plan and show; returns 0, or the exit code of a usage error. */
static int parse_opts(struct kit_args *a, struct ropts *r, int planning)
{
	int k, due = 0, all = 0;
	memset(&r->o, 0, sizeof r->o);
	r->o.budget_ms = FIELDSYNC_ROUTE_BUDGET_MS;
	r->out = OUT_TEXT;
	while ((k = kit_next(a)) > 0) {
		const char *v;
		if (k == 2)
			return cli_usage(a->cmd, "unexpected argument '%s'", a->word);
		if (kit_is(a, "return")) {
			r->o.ret = 1;
		} else if (kit_is(a, "due")) {
			due = 1;
		} else if (kit_is(a, "all")) {
			all = 1;
		} else if (planning && kit_is(a, "save")) {
			r->o.save = 1;
		} else if (kit_is(a, "date") || kit_is(a, "territory") || kit_is(a, "from") || kit_is(a, "to") ||
			   kit_is(a, "format") || (planning && kit_is(a, "budget-ms"))) {
			if (!(v = kit_value(a)))
				return 2;
			if (kit_is(a, "date"))
				r->o.date = v;
			else if (kit_is(a, "territory"))
				r->o.territory = v;
			else if (kit_is(a, "from"))
				r->o.from = v;
			else if (kit_is(a, "to"))
				r->o.to = v;
			else if (kit_is(a, "format")) {
				if (!strcmp(v, "text"))
					r->out = OUT_TEXT;
				else if (!strcmp(v, "geojson"))
					r->out = OUT_GEOJSON;
				else if (!strcmp(v, "svg"))
					r->out = OUT_SVG;
				else
					return cli_usage(a->cmd, "--format: '%s' is not text, geojson or svg", v);
			} else {
				char *end;
				long n = strtol(v, &end, 10);
				if (!*v || *end || n < 0 || n > 600000)
					return cli_usage(a->cmd, "--budget-ms: '%s' is not a whole number 0..600000",
							 v);
				r->o.budget_ms = (int)n;
			}
		} else {
			return kit_unknown(a);
		}
	}
	if (a->bad)
		return 2;
	if (due && all)
		return cli_usage(a->cmd, "--due and --all exclude each other");
	if (r->o.ret && r->o.to)
		return cli_usage(a->cmd, "--to and --return exclude each other");
	if (r->o.save && !due && !all)
		return cli_usage(a->cmd, "--save goes with --due or --all (plans are always stored)");
	if (r->out == OUT_SVG && CLI_OF(a)->json)
		return cli_usage(a->cmd, "--json and --format svg exclude each other");
	r->o.select = due ? FIELDSYNC_ROUTE_DUE : all ? FIELDSYNC_ROUTE_ALL : FIELDSYNC_ROUTE_PLANS;
	return 0;
}

static const char *sval(fieldsync_rows *s, const char *name)
{
	const char *v = fieldsync_rows_value(s, 0, fieldsync_rows_find(s, name));
	return v ? v : "";
}

static long sint(fieldsync_rows *s, const char *name)
{
	return strtol(sval(s, name), NULL, 10);
}

/* The lines under the table: length, saving, unrouted stops, what was stored. */
static void print_summary(const struct ropts *r, fieldsync_rows *s, int planning)
{
	long stops = sint(s, "stops"), unrouted = sint(s, "unrouted");
	int plans = r->o.select == FIELDSYNC_ROUTE_PLANS;
	const char *what = plans ? "visit" : "customer";
	printf("\nroute: %ld stop%s, %s km", stops, stops == 1 ? "" : "s", sval(s, "total_km"));
	if (*sval(s, "from"))
		printf(", from %s", sval(s, "from"));
	if (*sval(s, "to"))
		printf(", to %s", sval(s, "to"));
	else if (sint(s, "ret"))
		printf(", back to the start");
	printf("\n");
	if (planning)
		printf("previous order: %s km; saving %s km (%s %%)\n", sval(s, "previous_km"), sval(s, "saving_km"),
		       sval(s, "saving_pct"));
	if (unrouted)
		printf("%ld %s%s without a position (no lat/lon) %s listed after the route, not ordered.\n", unrouted,
		       what, unrouted == 1 ? "" : "s", unrouted == 1 ? "is" : "are");
	if (planning && sint(s, "budget_hit"))
		printf("the time budget ran out: a larger --budget-ms may find a shorter route.\n");
	if (!planning)
		return;
	long written = sint(s, "written");
	if (plans || r->o.save)
		printf("stored the order: %ld %s%s changed.\n", written, what, written == 1 ? "" : "s");
	else
		printf("nothing stored: --save stores this as the standing route order.\n");
}

/* The library's option set for r; NULL after printing why not. */
static fieldsync_route_opts *make_opts(const struct ropts *r)
{
	fieldsync_route_opts *o;
	int e = fieldsync_route_opts_new(&o);
	if (e == 0)
		e = fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_DATE, r->o.date);
	if (e == 0)
		e = fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_TERRITORY, r->o.territory);
	if (e == 0)
		e = fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_FROM, r->o.from);
	if (e == 0)
		e = fieldsync_route_opts_set_text(o, FIELDSYNC_ROUTE_OPT_TO, r->o.to);
	if (e == 0)
		e = fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_RETURN, r->o.ret);
	if (e == 0)
		e = fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_SELECT, r->o.select);
	if (e == 0)
		e = fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_SAVE, r->o.save);
	if (e == 0)
		e = fieldsync_route_opts_set_int(o, FIELDSYNC_ROUTE_OPT_BUDGET_MS, r->o.budget_ms);
	if (e) {
		fieldsync_route_opts_free(o);
		cli_fail(e);
		return NULL;
	}
	return o;
}

static int route_run(struct cli *c, struct kit_args *a, int planning)
{
	struct ropts r;
	int rc = parse_opts(a, &r, planning);
	if (rc || (rc = cli_open(c, 0)))
		return rc;
	fieldsync_route_opts *o = make_opts(&r);
	if (!o)
		return fieldsync_exit_code(FIELDSYNC_ENOMEM);
	fieldsync_rows *stops = NULL, *sum = NULL;
	int e = planning ? fieldsync_route_plan(c->s, o, &stops, &sum) : fieldsync_route_show(c->s, o, &stops, &sum);
	fieldsync_route_opts_free(o);
	if (e)
		return cli_fail(e);
	if (r.out != OUT_TEXT) {
		e = fieldsync_route_export(stops, sum, stdout, r.out == OUT_GEOJSON ? FIELDSYNC_ROUTE_GEOJSON :
					   FIELDSYNC_ROUTE_SVG);
		rc = e ? cli_fail(e) : 0;
	} else if (c->json) {
		fputs("{\"stops\": ", stdout);
		e = fieldsync_rows_print(stops, stdout, FIELDSYNC_FMT_JSON, NULL);
		fputs(", \"summary\": ", stdout);
		if (!e)
			e = fieldsync_rows_print(sum, stdout, FIELDSYNC_FMT_OBJECT, NULL);
		fputs("}\n", stdout);
		rc = e ? cli_fail(e) : 0;
	} else if (fieldsync_rows_count(stops) == 0) {
		if (r.o.select == FIELDSYNC_ROUTE_PLANS)
			printf("no %svisits on %s%s%s: nothing to %s.\n", planning ? "planned " : "", sval(sum, "date"),
			       r.o.territory ? " in " : "", r.o.territory ? r.o.territory : "",
			       planning ? "plan" : "show");
		else
			printf("no %scustomers%s%s on %s.\n", r.o.select == FIELDSYNC_ROUTE_DUE ? "due " : "",
			       r.o.territory ? " in " : "", r.o.territory ? r.o.territory : "", sval(sum, "date"));
	} else {
		const char *cols = r.o.select == FIELDSYNC_ROUTE_PLANS ?
			"stop,kind,name,address,planned_time,leg_km,total_km,visit_id" :
			"stop,kind,name,address,grade,last_done,leg_km,total_km,customer_id";
		rc = cli_print(c, stops, cols);
		if (rc == 0)
			print_summary(&r, sum, planning);
	}
	fieldsync_rows_free(stops);
	fieldsync_rows_free(sum);
	return rc;
}

static int set_place(struct cli *c, struct kit_args *a, const char *place)
{
	const char *pos = NULL;
	int k, clear = 0;
	while ((k = kit_next(a)) > 0) {
		if (k == 1 && kit_is(a, "clear")) {
			clear = 1;
		} else if (k == 2 && !pos) {
			pos = a->word;
		} else {
			return kit_unknown(a);
		}
	}
	if (a->bad)
		return 2;
	if (!!pos == clear)
		return cli_usage(a->cmd, "set-%s needs LAT,LON or --clear", place);
	int rc = cli_open(c, 1);
	if (rc)
		return rc;
	int e = fieldsync_route_place_set(c->s, place, pos);
	if (e)
		return cli_fail(e);
	fieldsync_rows *r;
	if ((e = fieldsync_route_places(c->s, &r)))
		return cli_fail(e);
	int row = !strcmp(place, "home") ? 0 : 1;
	const char *lat = fieldsync_rows_value(r, row, 1), *lon = fieldsync_rows_value(r, row, 2);
	if (c->json)
		printf("{\"place\": \"%s\", \"lat\": %s, \"lon\": %s}\n", place, lat ? lat : "null",
		       lon ? lon : "null");
	else if (lat && lon)
		printf("%s: %s,%s\n", place, lat, lon);
	else
		printf("%s: cleared\n", place);
	fieldsync_rows_free(r);
	return 0;
}

static int places(struct cli *c, struct kit_args *a)
{
	int k;
	while ((k = kit_next(a)) > 0)
		return kit_unknown(a);
	if (a->bad)
		return 2;
	int rc = cli_open(c, 0);
	if (rc)
		return rc;
	fieldsync_rows *r;
	int e = fieldsync_route_places(c->s, &r);
	if (e)
		return cli_fail(e);
	rc = cli_print(c, r, NULL);
	fieldsync_rows_free(r);
	return rc;
}

static const char *const subs[] = { "plan", "show", "set-home", "set-office", "places", NULL };

int cmd_route(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	if (rec_wants_help(argc, argv))
		return usage(argc < 2 ? 2 : 0);
	cli_args(&a, c, argc - 1, argv + 1);
	a.cmd = "route";
	switch (cli_pick("route", argv[1], subs)) {
	case 0: return route_run(c, &a, 1);
	case 1: return route_run(c, &a, 0);
	case 2: return set_place(c, &a, "home");
	case 3: return set_place(c, &a, "office");
	case 4: return places(c, &a);
	default: return 2;
	}
}
