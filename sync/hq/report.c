/* report.c - HQ's settings for devices and HQ's reports (see hq_report.h). */
#include "hq_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "due.h"
#include "import.h"
#include "query.h"
#include "report.h"
#include "retention.h"
#include "util.h"

static int one_text(void *ctx, int ncol, const struct fs_val *v)
{
	char **out = ctx;
	if (ncol > 0 && v[0].t == FS_V_TEXT && !*out)
		*out = strdup(v[0].s);
	return 0;
}

/* ---- settings ----
 * Each setting is one row of hq_meta ("setting.KEY", canonical text; no
 * row: the default). The table below is every setting HQ knows: its key
 * (hq_meta, and the pull reply's "settings" for those devices receive),
 * the name people type, whether devices receive it, how a value is
 * checked and written canonically, and its default. */

struct setting {
	const char *key, *cli;
	int to_devices;
	int64_t lo, hi, def;	/* an integer setting: its range and default (lo == hi == 0: not one) */
	/* the canonical form of a value, or FIELDSYNC_EINVAL naming the setting */
	int (*canon)(const struct setting *st, const char *v, char *out, size_t n);
	void (*deflt)(const struct setting *st, char *out, size_t n);
};

static int canon_due(const struct setting *st, const char *v, char *out, size_t n)
{
	struct fs_due d;
	(void)st;
	int rc = fs_due_parse(v, &d);
	if (rc == 0)
		fs_due_format(&d, out, n);
	return rc;
}

static void deflt_due(const struct setting *st, char *out, size_t n)
{
	struct fs_due d;
	(void)st;
	fs_due_defaults(&d);
	fs_due_format(&d, out, n);
}

static int canon_int(const struct setting *st, const char *v, char *out, size_t n)
{
	int64_t x;
	if (fs_parse_int(v, &x) || x < st->lo || x > st->hi)
		return fs_err(FIELDSYNC_EINVAL, "%s: '%.40s' is not a whole number %" PRId64 "..%" PRId64, st->cli, v,
			      st->lo, st->hi);
	snprintf(out, n, "%" PRId64, x);
	return 0;
}

static void deflt_int(const struct setting *st, char *out, size_t n)
{
	snprintf(out, n, "%" PRId64, st->def);
}

static const struct setting settings[] = {
	{ "due_days", "due-days", 1, 0, 0, 0, canon_due, deflt_due },
	{ "retention_years", "retention-years", 1, FS_RETENTION_MIN, FS_RETENTION_MAX, FS_RETENTION_DEFAULT,
	  canon_int, deflt_int },
	{ "lapse_days", "lapse-days", 0, 1, 3650, 90, canon_int, deflt_int },
	{ "clock_ahead_minutes", "clock-ahead-minutes", 1, FS_CLOCK_AHEAD_MIN, FS_CLOCK_AHEAD_MAX,
	  FS_CLOCK_AHEAD_DEFAULT, canon_int, deflt_int },
};
#define NSETTINGS ((int)(sizeof settings / sizeof settings[0]))

/* A setting by key ("retention_years") or by the name people type ("retention-years"). */
static const struct setting *setting_find(const char *key)
{
	for (int i = 0; key && i < NSETTINGS; i++)
		if (!strcmp(settings[i].key, key) || !strcmp(settings[i].cli, key))
			return &settings[i];
	return NULL;
}

static int get_setting(struct hq *h, struct hq_db *db, const char *key, char **out)
{
	char k[64];
	snprintf(k, sizeof k, "setting.%s", key);
	struct fs_val p = fs_vref(k);
	*out = NULL;
	return hq_be(h)->exec(db, "SELECT value FROM hq_meta WHERE key = $1", 1, &p, one_text, out);
}

struct setting_write {
	const char *key, *value;	/* value NULL: back to the default */
};

static int setting_write(struct hq *h, struct hq_db *db, void *ctx)
{
	const struct setting_write *w = ctx;
	struct fs_val p[2] = { fs_vref(w->key), fs_vref(w->value) };
	int rc = hq_be(h)->exec(db, "DELETE FROM hq_meta WHERE key = $1", 1, p, NULL, NULL);
	if (rc == 0 && w->value)
		rc = hq_be(h)->exec(db, "INSERT INTO hq_meta (key, value) VALUES ($1, $2)", 2, p, NULL, NULL);
	return rc;
}

int hq_setting_set(struct hq *h, const char *key, const char *value)
{
	char canon[128] = "", k[64];
	const struct setting *st = setting_find(key);
	if (!st)
		return fs_err(FIELDSYNC_EINVAL, "unknown setting '%.40s' (known: due-days, retention-years,"
			      " lapse-days, clock-ahead-minutes)", key);
	int rc = value && *value ? st->canon(st, value, canon, sizeof canon) : 0;
	if (rc)
		return rc;
	snprintf(k, sizeof k, "setting.%s", st->key);
	struct setting_write w = { k, value && *value ? canon : NULL };
	return hq_write_batch(h, setting_write, &w, 1);
}

int hq_setting_int(struct hq *h, struct hq_db *db, const char *key, int64_t *out)
{
	const struct setting *st = setting_find(key);
	struct hq_db *own = NULL;
	char *v = NULL, canon[128];
	if (!st || st->lo == st->hi)
		return fs_err(FIELDSYNC_EINVAL, "'%.40s' is not an integer setting", key ? key : "");
	*out = st->def;
	int rc = db ? 0 : hq_acquire(h, &own);
	if (rc)
		return rc;
	rc = get_setting(h, db ? db : own, st->key, &v);
	if (own)
		hq_release(h, own);
	/* a value this version cannot read: the default, as on the devices */
	if (rc == 0 && v && st->canon(st, v, canon, sizeof canon) == 0)
		fs_parse_int(canon, out);
	else
		fs_err_clear();
	free(v);
	return rc;
}

int hq_due_intervals(struct hq *h, struct fs_due *d)
{
	struct hq_db *db;
	char *v = NULL;
	fs_due_defaults(d);
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	rc = get_setting(h, db, "due_days", &v);
	hq_release(h, db);
	if (rc == 0 && fs_due_parse(v, d))
		fs_due_defaults(d);	/* an unreadable value: the defaults, as on the devices */
	free(v);
	return rc;
}

int hq_settings(struct hq *h, struct fieldsync_rows **out)
{
	static const char *const names[] = { "key", "value", "source", "to_devices" };
	struct hq_db *db;
	*out = NULL;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	struct fieldsync_rows *r = fs_rows_new(4);
	if (!r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 4; c++)
		rc = fs_rows_set_col(r, c, names[c], FS_T_TEXT);
	for (int i = 0; rc == 0 && i < NSETTINGS; i++) {
		const struct setting *st = &settings[i];
		char *v = NULL, def[128];
		if ((rc = get_setting(h, db, st->key, &v)))
			break;
		st->deflt(st, def, sizeof def);
		int row = fs_rows_add(r);
		if (row < 0)
			rc = row;
		if (rc == 0 && !(rc = fs_rows_set(r, row, 0, st->cli)) && !(rc = fs_rows_set(r, row, 1, v ? v : def)) &&
		    !(rc = fs_rows_set(r, row, 2, v ? "HQ" : "default")))
			rc = fs_rows_set(r, row, 3, st->to_devices ? "yes" : "no");
		free(v);
	}
	hq_release(h, db);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int hq_settings_reply(struct hq *h, struct hq_db *db, cJSON *out)
{
	cJSON *s = cJSON_AddObjectToObject(out, "settings");
	int rc = s ? 0 : fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < NSETTINGS; i++) {
		char *v = NULL;
		if (!settings[i].to_devices)
			continue;	/* HQ's own (lapse_days) */
		/* "" tells the device to go back to its defaults */
		if ((rc = get_setting(h, db, settings[i].key, &v)) == 0 &&
		    !cJSON_AddStringToObject(s, settings[i].key, v ? v : ""))
			rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		free(v);
	}
	return rc;
}

/* ---- reports ---- */

/* Composition: count per value of one customer field, with the share. */
static int report_customers(const struct fs_exec *x, const char *by, struct fieldsync_rows **out)
{
	static const char *const ok[] = { "grade", "nature", "status", "territory", "size", NULL };
	char sql[256];
	int k = -1;
	for (int i = 0; ok[i]; i++)
		if (by && !strcmp(by, ok[i]))
			k = i;
	if (k < 0)
		return fs_err(FIELDSYNC_EINVAL, "--by: '%.40s' is not one of grade, nature, status, territory, size",
			      by ? by : "");
	/* the column name comes from the fixed list above, never from input */
	snprintf(sql, sizeof sql, "SELECT %s, count(*) FROM customer WHERE coalesce(deleted, 0) = 0"
		 " GROUP BY %s ORDER BY %s", ok[k], ok[k], ok[k]);
	const char *rn[] = { ok[k], "customers", NULL };
	struct fieldsync_rows *raw;
	int rc = fs_exec_rows(x, sql, 0, NULL, rn, NULL, &raw);
	if (rc)
		return rc;
	static const char *const cn[] = { "value", "customers", "pct" };
	static const int ct[] = { FS_T_TEXT, FS_T_INT, FS_T_INT };
	struct fieldsync_rows *r = fs_rows_new(3);
	int64_t total = 0;
	for (int i = 0; i < raw->nrow; i++)
		total += strtoll(fs_rows_cell(raw, i, 1), NULL, 10);
	if (!r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 3; c++)
		rc = fs_rows_set_col(r, c, c ? cn[c] : ok[k], ct[c]);
	for (int i = 0; rc == 0 && i <= raw->nrow; i++) {
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		int64_t n = i < raw->nrow ? strtoll(fs_rows_cell(raw, i, 1), NULL, 10) : total;
		rc = fs_rows_set(r, row, 0, i < raw->nrow ? (fs_rows_cell(raw, i, 0) ? fs_rows_cell(raw, i, 0) : "(none)") : "(total)");
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 1, n);
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 2, total ? (n * 100 + total / 2) / total : 0);
	}
	fs_rows_free(raw);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* Planned vs done per rep (the reps of the visit's territory) or territory. */
static int report_visits(const struct fs_exec *x, const char *by, const char *month, struct fieldsync_rows **out)
{
	struct fs_period per;
	int rep = by && !strcmp(by, "rep");
	if (!rep && by && strcmp(by, "territory"))
		return fs_err(FIELDSYNC_EINVAL, "--by: '%.40s' is not one of rep, territory", by);
	if (!month || !*month)
		return fs_err(FIELDSYNC_EINVAL, "--month: give a month YYYY-MM");
	int rc = fs_period_month(month, &per);
	if (rc)
		return rc;
	const char *sql = rep ?
		"SELECT rt.rep, v.status, count(*) FROM visit v JOIN rep_territories rt ON rt.territory = v.scope"
		" WHERE coalesce(v.deleted, 0) = 0 AND v.planned_date >= $1 AND v.planned_date < $2"
		" AND v.status <> 'cancelled' GROUP BY rt.rep, v.status ORDER BY rt.rep, v.status" :
		"SELECT v.scope, v.status, count(*) FROM visit v"
		" WHERE coalesce(v.deleted, 0) = 0 AND v.planned_date >= $1 AND v.planned_date < $2"
		" AND v.status <> 'cancelled' GROUP BY v.scope, v.status ORDER BY v.scope, v.status";
	static const char *const rn[] = { "key", "status", "n", NULL };
	struct fs_val p[2] = { fs_vref(per.from), fs_vref(per.to) };
	struct fieldsync_rows *raw, *r;
	if ((rc = fs_exec_rows(x, sql, 2, p, rn, NULL, &raw)))
		return rc;
	static const char *const cn[] = { "key", "planned", "done", "missed", "open", "done_pct" };
	r = fs_rows_new(6);
	if (!r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 6; c++)
		rc = fs_rows_set_col(r, c, c ? cn[c] : rep ? "rep" : "territory", c ? FS_T_INT : FS_T_TEXT);
	int64_t tot[4] = { 0 };
	for (int i = 0; rc == 0 && i <= raw->nrow; i++) {
		int64_t v[4] = { 0 };	/* planned, done, missed, open */
		int first = i;
		if (i < raw->nrow) {
			while (i < raw->nrow && !strcmp(fs_rows_cell(raw, i, 0), fs_rows_cell(raw, first, 0))) {
				const char *st = fs_rows_cell(raw, i, 1);
				int64_t n = strtoll(fs_rows_cell(raw, i, 2), NULL, 10);
				v[0] += n;
				v[1] += st && !strcmp(st, "done") ? n : 0;
				v[2] += st && !strcmp(st, "missed") ? n : 0;
				v[3] += st && !strcmp(st, "planned") ? n : 0;
				i++;
			}
			i--;
			for (int k = 0; k < 4; k++)
				tot[k] += v[k];
		} else {
			memcpy(v, tot, sizeof v);
		}
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		rc = fs_rows_set(r, row, 0, i < raw->nrow ? fs_rows_cell(raw, first, 0) : "(total)");
		for (int c = 0; rc == 0 && c < 4; c++)
			rc = fs_rows_set_int(r, row, 1 + c, v[c]);
		if (rc == 0)
			rc = fs_rows_set_int(r, row, 5, v[0] ? v[1] * 100 / v[0] : 0);
	}
	fs_rows_free(raw);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int hq_report(struct hq *h, const char *kind, const char *by, const char *month, const char *territory,
	      const char *date, struct fieldsync_rows **out)
{
	struct hq_db *db;
	*out = NULL;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	/* one snapshot for the whole report */
	if ((rc = hq_be(h)->begin(db, 0))) {
		hq_release(h, db);
		return rc;
	}
	if (!strcmp(kind, "visits")) {
		rc = report_visits(&x, by ? by : "rep", month, out);
	} else if (!strcmp(kind, "customers")) {
		rc = report_customers(&x, by ? by : "grade", out);
	} else if (!strcmp(kind, "money")) {
		rc = fs_report_money(&x, month, by ? by : "grade", territory, out);
	} else if (!strcmp(kind, "overdue")) {
		char today[11], *v = NULL;
		struct fs_due d;
		if (!date) {
			fs_today_local(today);
			date = today;
		}
		rc = get_setting(h, db, "due_days", &v);
		if (rc == 0)
			rc = fs_due_parse(v, &d);
		free(v);
		if (rc == 0)
			rc = fs_report_due(&x, &d, territory, date, out);
	} else {
		rc = fs_err(FIELDSYNC_EINVAL, "unknown report '%.40s' (visits, customers, money, overdue)", kind);
	}
	hq_be(h)->rollback(db);
	hq_release(h, db);
	return rc;
}

/* ---- CSV ---- */

struct imp {
	const struct fs_import *im;
	struct fieldsync_rows *out;
};

struct hq_w {
	struct hq *h;
	struct hq_db *db;
};

static int hq_import_write(void *ctx, const struct fs_chg *c, const char *id, char id_out[33], int *changed)
{
	struct hq_w *w = ctx;
	*changed = 1;
	if (id) {
		struct fs_rec r;
		int rc = hq_get(w->h, w->db, c->t, id, 1, &r);
		if (rc)
			return rc;
		*changed = 0;
		for (int i = 0; i < c->t->nfields; i++)
			*changed += c->set[i] && !fs_val_eq(&r.f[i].v, &c->v[i]);
		fs_rec_release(&r);
		if (!*changed)
			return 0;
	}
	return hq_write_in(w->h, w->db, c, id, id_out);
}

static int import_tx(struct hq *h, struct hq_db *db, void *ctx)
{
	struct imp *m = ctx;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	struct hq_w w = { h, db };
	return fs_import_apply(m->im, &x, hq_import_write, &w, &m->out);
}

int hq_import(struct hq *h, const char *path, int dry_run, struct fieldsync_rows **out)
{
	struct fs_import im;
	*out = NULL;
	FILE *fp = !strcmp(path, "-") ? stdin : fopen(path, "rb");
	if (!fp)
		return fs_err(FIELDSYNC_ENOTFOUND, "cannot open %.200s", path);
	int rc = fs_import_read(fp, &fs_tbl_customer, &im);
	if (fp != stdin)
		fclose(fp);
	if (rc)
		return rc;
	struct imp m = { &im, NULL };
	rc = hq_write_batch(h, import_tx, &m, !dry_run);
	fs_import_release(&im);
	if (rc) {
		fs_rows_free(m.out);
		return rc;
	}
	*out = m.out;
	return 0;
}

int hq_export(struct hq *h, const char *what, const char *from, const char *to, struct fieldsync_rows **out)
{
	struct hq_db *db;
	*out = NULL;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	struct hq_bexec b = { h, db };
	struct fs_exec x = { hq_bexec, &b };
	if ((rc = hq_be(h)->begin(db, 0)) == 0) {
		rc = fs_export(&x, what, from && *from ? from : NULL, to && *to ? to : NULL, out);
		hq_be(h)->rollback(db);
	}
	hq_release(h, db);
	return rc;
}
