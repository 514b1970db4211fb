/*
 * out.c - printing result tables: aligned text for people (local times,
 * money as 12.50, ids shortened to 8 characters, which fieldsync_lookup
 * accepts back), JSON for scripts (cJSON; exact integers, UTC times) and
 * RFC 4180 CSV for spreadsheets (libcsv).
 */
#include <csv.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "out.h"
#include "rows.h"
#include "util.h"

/* Display columns of one code point: 2 for East Asian wide/fullwidth. */
static int cp_width(unsigned cp)
{
	if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
	    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD))
		return 2;
	return 1;
}

/* Width of s; with max > 0, also the byte length that fits in max columns. */
static int text_width(const char *s, int max, size_t *fit)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;
	if (fit)
		*fit = strlen(s);
	while (*p) {
		unsigned cp = *p;
		int len = cp < 0x80 ? 1 : (cp & 0xE0) == 0xC0 ? 2 : (cp & 0xF0) == 0xE0 ? 3 : 4;
		if (len > 1) {
			cp &= 0xFF >> (len + 1);
			for (int k = 1; k < len && p[k]; k++)
				cp = cp << 6 | (p[k] & 0x3F);
		}
		int cw = cp < 0x20 ? 1 : cp_width(cp);
		if (max > 0 && w + cw > max && fit) {
			*fit = (size_t)((const char *)p - s);
			return w;
		}
		w += cw;
		for (int k = 0; k < len && *p; k++)
			p++;
	}
	return w;
}

#define CELL_MAX 40

/* The text a person sees for one cell; returns a malloc'd string. */
static char *display(const struct fieldsync_rows *r, int col, const char *v)
{
	char buf[64];
	if (!v)
		return strdup("");
	switch (r->types[col]) {
	case FS_T_MONEY: {
		int64_t m;
		if (fs_parse_int(v, &m) == 0) {
			fs_fmt_money(m, buf);
			return strdup(buf);
		}
		break;
	}
	case FS_T_DATETIME: {
		int64_t ms;
		if (fs_parse_datetime(v, &ms) == 0) {
			time_t t = (time_t)(ms / 1000);
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
			return strdup(buf);
		}
		break;
	}
	case FS_T_REF:
		return strndup(v, 8);
	case FS_T_LAT:
	case FS_T_LON:
		snprintf(buf, sizeof buf, "%.5f", strtod(v, NULL));
		return strdup(buf);
	}
	if (strcmp(r->names[col], "id") == 0 || strcmp(r->names[col], "visit_id") == 0 ||
	    strcmp(r->names[col], "customer_id") == 0)
		return strndup(v, 8);
	/* one line per cell */
	char *s = strdup(v);
	for (char *p = s; p && *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return s;
}

/* Parse "a,b,c" into column indexes; -1 entries are skipped. */
static int pick_columns(const struct fieldsync_rows *r, const char *columns, int *idx)
{
	int n = 0;
	if (!columns) {
		for (int c = 0; c < r->ncol; c++)
			idx[n++] = c;
		return n;
	}
	const char *p = columns;
	while (*p) {
		size_t len = strcspn(p, ",");
		for (int c = 0; c < r->ncol; c++)
			if (strlen(r->names[c]) == len && strncmp(r->names[c], p, len) == 0)
				idx[n++] = c;
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

static int print_table(const struct fieldsync_rows *r, FILE *fp, const char *columns)
{
	int *idx = calloc((size_t)r->ncol + 1, sizeof *idx);
	int *w = calloc((size_t)r->ncol + 1, sizeof *w);
	char **cells = calloc((size_t)r->nrow * (size_t)r->ncol + 1, sizeof *cells);
	int rc = 0;
	if (!idx || !w || !cells) {
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		goto out;
	}
	int n = pick_columns(r, columns, idx);
	for (int k = 0; k < n; k++)
		w[k] = text_width(r->names[idx[k]], 0, NULL);
	for (int row = 0; row < r->nrow; row++)
		for (int k = 0; k < n; k++) {
			char *d = display(r, idx[k], r->cells[(size_t)row * (size_t)r->ncol + (size_t)idx[k]]);
			if (!d) {
				rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
				goto out;
			}
			cells[(size_t)row * (size_t)r->ncol + (size_t)k] = d;
			int tw = text_width(d, 0, NULL);
			if (tw > CELL_MAX)
				tw = CELL_MAX;
			if (tw > w[k])
				w[k] = tw;
		}
	for (int k = 0; k < n; k++)
		fprintf(fp, "%s%-*s", k ? "  " : "", k == n - 1 ? 0 : w[k], r->names[idx[k]]);
	fputc('\n', fp);
	for (int row = 0; row < r->nrow; row++) {
		for (int k = 0; k < n; k++) {
			const char *d = cells[(size_t)row * (size_t)r->ncol + (size_t)k];
			size_t fit;
			int tw = text_width(d, CELL_MAX, &fit);
			int cut = fit < strlen(d);
			if (cut) {	/* leave room for the ellipsis */
				tw = text_width(d, CELL_MAX - 1, &fit);
			}
			fprintf(fp, "%s%.*s%s", k ? "  " : "", (int)fit, d, cut ? "\u2026" : "");
			if (k < n - 1)
				fprintf(fp, "%*s", w[k] - tw - cut, "");
		}
		fputc('\n', fp);
	}
out:
	for (size_t i = 0; cells && i < (size_t)r->nrow * (size_t)r->ncol; i++)
		free(cells[i]);
	free(cells);
	free(idx);
	free(w);
	return rc;
}

static int print_record(const struct fieldsync_rows *r, FILE *fp)
{
	int w = 0;
	if (r->nrow == 0)
		return 0;
	for (int c = 0; c < r->ncol; c++)
		if ((int)strlen(r->names[c]) > w)
			w = (int)strlen(r->names[c]);
	for (int c = 0; c < r->ncol; c++) {
		const char *v = r->cells[c];
		if (!v)
			continue;
		char *d;
		if (r->types[c] == FS_T_REF || !strcmp(r->names[c], "id") || !strcmp(r->names[c], "vv"))
			d = strdup(v);	/* full ids here: this is where people copy them from */
		else
			d = display(r, c, v);
		if (!d)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		fprintf(fp, "%-*s  %s\n", w, r->names[c], d);
		free(d);
	}
	return 0;
}

static cJSON *json_value(const struct fieldsync_rows *r, int c, const char *v)
{
	if (!v)
		return cJSON_CreateNull();
	switch (r->types[c]) {
	case FS_T_INT:
	case FS_T_MONEY:
	case FS_T_BOOL: {
		int64_t i;
		if (fs_parse_int(v, &i) == 0)
			return cJSON_CreateRaw(v);	/* exact, never through a double */
		break;
	}
	case FS_T_LAT:
	case FS_T_LON: {
		double d;
		if (fs_parse_double(v, &d) == 0)
			return cJSON_CreateNumber(d);
		break;
	}
	}
	return cJSON_CreateString(v);
}

static cJSON *json_row(const struct fieldsync_rows *r, int row)
{
	cJSON *o = cJSON_CreateObject();
	for (int c = 0; o && c < r->ncol; c++) {
		cJSON *v = json_value(r, c, r->cells[(size_t)row * (size_t)r->ncol + (size_t)c]);
		if (!v || !cJSON_AddItemToObject(o, r->names[c], v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

static int print_json(const struct fieldsync_rows *r, FILE *fp, int object)
{
	cJSON *doc;
	if (object) {
		doc = r->nrow ? json_row(r, 0) : cJSON_CreateNull();
	} else {
		doc = cJSON_CreateArray();
		for (int row = 0; doc && row < r->nrow; row++) {
			cJSON *o = json_row(r, row);
			if (!o) {
				cJSON_Delete(doc);
				doc = NULL;
				break;
			}
			cJSON_AddItemToArray(doc, o);
		}
	}
	return fs_json_write(doc, fp);
}

int fs_json_write(cJSON *doc, FILE *fp)
{
	char *txt = doc ? cJSON_Print(doc) : NULL;
	cJSON_Delete(doc);
	if (!txt)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	fputs(txt, fp);
	fputc('\n', fp);
	free(txt);
	return 0;
}

static int print_csv(const struct fieldsync_rows *r, FILE *fp, const char *columns, int bom)
{
	int *idx = calloc((size_t)r->ncol + 1, sizeof *idx);
	if (!idx)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	int n = pick_columns(r, columns, idx);
	if (bom)
		fputs("\xEF\xBB\xBF", fp);
	for (int k = 0; k < n; k++) {
		if (k)
			fputc(',', fp);
		csv_fwrite(fp, r->names[idx[k]], strlen(r->names[idx[k]]));
	}
	fputs("\r\n", fp);
	for (int row = 0; row < r->nrow; row++) {
		for (int k = 0; k < n; k++) {
			const char *v = r->cells[(size_t)row * (size_t)r->ncol + (size_t)idx[k]];
			char buf[32];
			if (k)
				fputc(',', fp);
			if (!v)
				continue;
			if (r->types[idx[k]] == FS_T_MONEY) {	/* spreadsheets want 12.50 */
				int64_t m;
				if (fs_parse_int(v, &m) == 0) {
					fs_fmt_money(m, buf);
					v = buf;
				}
			} else if (r->types[idx[k]] == FS_T_LAT || r->types[idx[k]] == FS_T_LON) {
				/* as typed: 7 decimals (about a centimetre), no trailing zeros */
				double d;
				if (fs_parse_double(v, &d) == 0) {
					snprintf(buf, sizeof buf, "%.7f", d);
					char *e = buf + strlen(buf) - 1;
					while (*e == '0')
						*e-- = '\0';
					if (*e == '.')
						*e = '\0';
					v = buf;
				}
			}
			csv_fwrite(fp, v, strlen(v));
		}
		fputs("\r\n", fp);
	}
	free(idx);
	return ferror(fp) ? fs_err(FIELDSYNC_EIO, "write failed") : 0;
}

FIELDSYNC_API int fieldsync_rows_print(const fieldsync_rows *r, FILE *fp, int fmt, const char *columns)
{
	int rc;
	switch (fmt & 0xff) {
	case FIELDSYNC_FMT_TABLE: rc = print_table(r, fp, columns); break;
	case FIELDSYNC_FMT_JSON: rc = print_json(r, fp, 0); break;
	case FIELDSYNC_FMT_OBJECT: rc = print_json(r, fp, 1); break;
	case FIELDSYNC_FMT_CSV: rc = print_csv(r, fp, columns, (fmt & FIELDSYNC_FMT_BOM) != 0); break;
	case FIELDSYNC_FMT_RECORD: rc = print_record(r, fp); break;
	default: return fs_err(FIELDSYNC_EINVAL, "unknown output format %d", fmt);
	}
	if (rc == 0 && fflush(fp) != 0)
		rc = fs_err(FIELDSYNC_EIO, "write failed");
	return rc;
}
