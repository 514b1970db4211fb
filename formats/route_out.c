/*
 * route_out.c - a planned route as GeoJSON (RFC 7946, built with cJSON) or
 * as a self-contained SVG picture. Input: the stops table of
 * fieldsync_route_plan() / fieldsync_route_show(); nothing else is read.
 *
 * SVG projection: equirectangular, x = lon * cos(mean lat), y = lat, one
 * scale for both axes (so 1 km is as long across as up), fitted into a fixed
 * canvas. Longitudes are unwrapped around the first point, so a route over
 * the antimeridian stays in one piece. The scale bar is a round 1, 2 or 5
 * times a power of ten km, about a fifth of the canvas wide.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "out.h"
#include "util.h"

#define KM_PER_DEG 111.19508372	/* 2 pi R / 360, R = 6371.0088 km */

struct pt {
	const char *kind, *name, *stop, *address, *time, *visit, *cust;
	double lat, lon;
	int64_t leg_m, total_m;
};

struct cols {
	int kind, stop, name, address, time, lat, lon, leg_m, total_m, visit, cust;
};

static int find_cols(const fieldsync_rows *r, struct cols *c)
{
	c->kind = fieldsync_rows_find(r, "kind");
	c->stop = fieldsync_rows_find(r, "stop");
	c->name = fieldsync_rows_find(r, "name");
	c->address = fieldsync_rows_find(r, "address");
	c->time = fieldsync_rows_find(r, "planned_time");
	c->lat = fieldsync_rows_find(r, "lat");
	c->lon = fieldsync_rows_find(r, "lon");
	c->leg_m = fieldsync_rows_find(r, "leg_m");
	c->total_m = fieldsync_rows_find(r, "total_m");
	c->visit = fieldsync_rows_find(r, "visit_id");
	c->cust = fieldsync_rows_find(r, "customer_id");
	if (c->kind < 0 || c->stop < 0 || c->name < 0 || c->lat < 0 || c->lon < 0 || c->leg_m < 0 ||
	    c->total_m < 0)
		return fs_err(FIELDSYNC_EINVAL, "route export: not a route table (kind, stop, name, lat, lon, ...)");
	return 0;
}

/* The positioned points of the route (start, stops, end) in driving order. */
static int collect(const fieldsync_rows *r, struct pt **out, int *n)
{
	struct cols c;
	int rc = find_cols(r, &c), rows = fieldsync_rows_count(r);
	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	struct pt *p = calloc((size_t)rows + 1, sizeof *p);
	if (!p)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int i = 0; i < rows; i++) {
		const char *kind = fieldsync_rows_value(r, i, c.kind), *la = fieldsync_rows_value(r, i, c.lat),
			   *lo = fieldsync_rows_value(r, i, c.lon);
		if (!kind || !strcmp(kind, "unrouted") || !la || !lo)
			continue;
		struct pt *q = &p[(*n)++];
		q->kind = kind;
		q->name = fieldsync_rows_value(r, i, c.name);
		q->stop = fieldsync_rows_value(r, i, c.stop);
		q->address = c.address >= 0 ? fieldsync_rows_value(r, i, c.address) : NULL;
		q->time = c.time >= 0 ? fieldsync_rows_value(r, i, c.time) : NULL;
		q->visit = c.visit >= 0 ? fieldsync_rows_value(r, i, c.visit) : NULL;
		q->cust = c.cust >= 0 ? fieldsync_rows_value(r, i, c.cust) : NULL;
		const char *lm = fieldsync_rows_value(r, i, c.leg_m), *tm = fieldsync_rows_value(r, i, c.total_m);
		q->leg_m = lm ? strtoll(lm, NULL, 10) : 0;
		q->total_m = tm ? strtoll(tm, NULL, 10) : 0;
		if (fs_parse_double(la, &q->lat) || fs_parse_double(lo, &q->lon) || q->lat < -90 || q->lat > 90 ||
		    q->lon < -180 || q->lon > 180) {
			free(p);
			return fs_err(FIELDSYNC_EINVAL, "route export: row %d has no valid position", i + 1);
		}
	}
	*out = p;
	return 0;
}

static const char *summary_value(const fieldsync_rows *s, const char *name)
{
	return s ? fieldsync_rows_value(s, 0, fieldsync_rows_find(s, name)) : NULL;
}

/* ---- GeoJSON ---- */

static int add_str(cJSON *o, const char *k, const char *v)
{
	return !v || cJSON_AddStringToObject(o, k, v) != NULL;
}

/* Add item to o under key; on failure item is freed. */
static int attach(cJSON *o, const char *key, cJSON *item)
{
	if (o && item && cJSON_AddItemToObject(o, key, item))
		return 1;
	cJSON_Delete(item);
	return 0;
}

static cJSON *position(const struct pt *q)
{
	double c[2] = { q->lon, q->lat };
	return cJSON_CreateDoubleArray(c, 2);
}

static cJSON *point_feature(const struct pt *q)
{
	cJSON *f = cJSON_CreateObject(), *g = cJSON_CreateObject(), *pr = cJSON_CreateObject();
	int ok = cJSON_AddStringToObject(f, "type", "Feature") && cJSON_AddStringToObject(g, "type", "Point") &&
		 attach(g, "coordinates", position(q));
	ok = attach(f, "geometry", g) && ok;
	if (ok) {
		ok = add_str(pr, "kind", q->kind) && add_str(pr, "name", q->name) &&
		     add_str(pr, "address", q->address) &&
		     add_str(pr, "planned_time", q->time) && add_str(pr, "visit_id", q->visit) &&
		     add_str(pr, "customer_id", q->cust) &&
		     cJSON_AddNumberToObject(pr, "leg_km", (double)q->leg_m / 1000.0) &&
		     cJSON_AddNumberToObject(pr, "total_km", (double)q->total_m / 1000.0);
		if (ok && q->stop)
			ok = cJSON_AddNumberToObject(pr, "stop", strtod(q->stop, NULL)) != NULL;
	}
	ok = attach(f, "properties", pr) && ok;
	if (!ok) {
		cJSON_Delete(f);
		return NULL;
	}
	return f;
}

static cJSON *line_feature(const struct pt *p, int n, const fieldsync_rows *summary)
{
	cJSON *f = cJSON_CreateObject(), *g = cJSON_CreateObject(), *co = cJSON_CreateArray(),
	      *pr = cJSON_CreateObject();
	int ok = co != NULL, stops = 0;
	for (int i = 0; ok && i < n; i++) {
		cJSON *pos = position(&p[i]);
		ok = pos && cJSON_AddItemToArray(co, pos);
		if (!ok)
			cJSON_Delete(pos);
		stops += !strcmp(p[i].kind, "stop");
	}
	ok = cJSON_AddStringToObject(g, "type", "LineString") && attach(g, "coordinates", co) && ok;
	ok = cJSON_AddStringToObject(f, "type", "Feature") && attach(f, "geometry", g) && ok;
	if (ok) {
		ok = cJSON_AddStringToObject(pr, "kind", "route") && cJSON_AddNumberToObject(pr, "stops", stops) &&
		     cJSON_AddNumberToObject(pr, "total_km", (double)p[n - 1].total_m / 1000.0) &&
		     add_str(pr, "date", summary_value(summary, "date")) &&
		     add_str(pr, "from", summary_value(summary, "from")) &&
		     add_str(pr, "to", summary_value(summary, "to"));
	}
	ok = attach(f, "properties", pr) && ok;
	if (!ok) {
		cJSON_Delete(f);
		return NULL;
	}
	return f;
}

static int write_geojson(const struct pt *p, int n, const fieldsync_rows *summary, FILE *fp)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	int ok = cJSON_AddStringToObject(doc, "type", "FeatureCollection") != NULL;
	ok = attach(doc, "features", arr) && ok;
	if (ok && n >= 2) {
		cJSON *l = line_feature(p, n, summary);
		ok = l && cJSON_AddItemToArray(arr, l);
		if (!ok)
			cJSON_Delete(l);
	}
	for (int i = 0; ok && i < n; i++) {
		cJSON *f = point_feature(&p[i]);
		ok = f && cJSON_AddItemToArray(arr, f);
		if (!ok)
			cJSON_Delete(f);
	}
	if (!ok) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return fs_json_write(doc, fp);
}

/* ---- SVG ---- */

#define SVG_W 800
#define SVG_H 600
#define SVG_SIDE 50	/* margins */
#define SVG_TOP 70
#define SVG_BOTTOM 70

/* Text for XML content and attributes; C0 controls XML 1.0 forbids become spaces. */
static void xml_text(FILE *fp, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&apos;", fp); break;
		default: fputc(ch < 0x20 && ch != '\t' && ch != '\n' ? ' ' : ch, fp);
		}
	}
}

/* A round scale-bar length (1, 2 or 5 times a power of ten) at most `target` km. */
static double nice_km(double target)
{
	double p = pow(10.0, floor(log10(target)));
	return target >= 5 * p ? 5 * p : target >= 2 * p ? 2 * p : p;
}

static int write_svg(struct pt *p, int n, const fieldsync_rows *summary, FILE *fp)
{
	const char *date = summary_value(summary, "date");
	char total[32] = "";
	if (n > 0)
		snprintf(total, sizeof total, "%.2f km", (double)p[n - 1].total_m / 1000.0);
	int stops = 0;
	for (int i = 0; i < n; i++)
		stops += !strcmp(p[i].kind, "stop");
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\""
		" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n<title>Route",
		SVG_W, SVG_H, SVG_W, SVG_H);
	if (date) {
		fputc(' ', fp);
		xml_text(fp, date);
	}
	fprintf(fp, ": %d stops%s%s</title>\n", stops, n ? ", " : "", total);
	fprintf(fp, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, SVG_H);
	fprintf(fp, "<text x=\"%d\" y=\"30\" font-size=\"16\">Route", SVG_SIDE);
	if (date) {
		fputc(' ', fp);
		xml_text(fp, date);
	}
	fprintf(fp, " \xc2\xb7 %d stops%s%s</text>\n", stops, n ? " \xc2\xb7 " : "", total);
	if (n == 0) {
		fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no stops with a position</text>\n</svg>\n",
			SVG_W / 2, SVG_H / 2);
		return ferror(fp) ? fs_err(FIELDSYNC_EIO, "write failed") : 0;
	}

	/* project */
	double mlat = 0, minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
	for (int i = 0; i < n; i++) {
		while (p[i].lon - p[0].lon > 180)
			p[i].lon -= 360;
		while (p[i].lon - p[0].lon < -180)
			p[i].lon += 360;
		mlat += p[i].lat / n;
	}
	double k = cos(mlat * M_PI / 180.0);
	if (k < 0.01)
		k = 0.01;
	for (int i = 0; i < n; i++) {
		double x = p[i].lon * k, y = p[i].lat;
		minx = fmin(minx, x);
		maxx = fmax(maxx, x);
		miny = fmin(miny, y);
		maxy = fmax(maxy, y);
	}
	double aw = SVG_W - 2 * SVG_SIDE, ah = SVG_H - SVG_TOP - SVG_BOTTOM;
	double sx = fmax(maxx - minx, 0.01), sy = fmax(maxy - miny, 0.01);
	double scale = fmin(aw / sx, ah / sy);	/* px per degree of latitude */
	double ox = SVG_SIDE + (aw - (maxx - minx) * scale) / 2, oy = SVG_TOP + (ah - (maxy - miny) * scale) / 2;
#define PX(q) (ox + ((q)->lon * k - minx) * scale)
#define PY(q) (oy + (maxy - (q)->lat) * scale)

	fputs("<polyline fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"",
	      fp);
	for (int i = 0; i < n; i++)
		fprintf(fp, "%s%.1f,%.1f", i ? " " : "", PX(&p[i]), PY(&p[i]));
	fputs("\"/>\n", fp);
	for (int i = 0; i < n; i++) {
		const struct pt *q = &p[i];
		int is_stop = !strcmp(q->kind, "stop"), is_end = !strcmp(q->kind, "end");
		/* an end on the start (the way back) is drawn once */
		if (is_end && q->lat == p[0].lat && q->lon == p[0].lon)
			continue;
		fprintf(fp, "<g class=\"%s\"><title>", q->kind);
		if (is_stop && q->stop) {
			xml_text(fp, q->stop);
			fputs(". ", fp);
		} else {
			fputs(is_end ? "end: " : "start: ", fp);
		}
		xml_text(fp, q->name);
		if (q->address) {
			fputs(", ", fp);
			xml_text(fp, q->address);
		}
		fprintf(fp, " (%.2f km)</title>", (double)q->total_m / 1000.0);
		if (is_stop)
			fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"11\" fill=\"#d73a49\" stroke=\"#ffffff\""
				" stroke-width=\"1.5\"/>", PX(q), PY(q));
		else
			fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"20\" height=\"20\" fill=\"#24292f\"/>",
				PX(q) - 10, PY(q) - 10);
		fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#ffffff\" font-weight=\"bold\">",
			PX(q), PY(q) + 4);
		if (is_stop)
			xml_text(fp, q->stop ? q->stop : "?");
		else
			fputs(is_end ? "E" : "S", fp);
		fputs("</text></g>\n", fp);
	}
#undef PX
#undef PY

	double km_per_px = KM_PER_DEG / scale, bar_km = nice_km(km_per_px * SVG_W / 5);
	double bar_px = bar_km / km_per_px, by = SVG_H - 30;
	char label[48];
	if (bar_km >= 1)
		snprintf(label, sizeof label, "%g km", bar_km);
	else
		snprintf(label, sizeof label, "%g m", bar_km * 1000);
	fprintf(fp, "<g class=\"scale\"><line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\""
		" stroke-width=\"2\"/><line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#000000\"/>"
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>"
		"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text></g>\n</svg>\n",
		SVG_SIDE, by, SVG_SIDE + bar_px, by, SVG_SIDE, by - 5, SVG_SIDE, by + 5, SVG_SIDE + bar_px, by - 5,
		SVG_SIDE + bar_px, by + 5, SVG_SIDE + bar_px / 2, by - 8, label);
	return ferror(fp) ? fs_err(FIELDSYNC_EIO, "write failed") : 0;
}

FIELDSYNC_API int fieldsync_route_export(const fieldsync_rows *stops, const fieldsync_rows *summary, FILE *fp,
					 int format)
{
	struct pt *p;
	int n, rc;
	if (format != FIELDSYNC_ROUTE_GEOJSON && format != FIELDSYNC_ROUTE_SVG)
		return fs_err(FIELDSYNC_EINVAL, "route export: unknown format %d", format);
	if (!stops || !fp)
		return fs_err(FIELDSYNC_EINVAL, "route export: no route or no file");
	if ((rc = collect(stops, &p, &n)))
		return rc;
	rc = format == FIELDSYNC_ROUTE_GEOJSON ? write_geojson(p, n, summary, fp) : write_svg(p, n, summary, fp);
	free(p);
	if (rc == 0 && fflush(fp) != 0)
		rc = fs_err(FIELDSYNC_EIO, "write failed");
	return rc;
}
