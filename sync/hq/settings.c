/* settings.c - HQ's settings, those devices receive and HQ's own (see settings.h). */
#include "settings.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "due.h"
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

/* One currency per HQ: an ISO 4217 code (three letters), or "" for none. */
static int canon_currency(const struct setting *st, const char *v, char *out, size_t n)
{
	char c[4] = "";
	for (int i = 0; i < 3 && v[i]; i++)
		c[i] = (char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 32 : v[i]);
	c[3] = '\0';
	if (*v && (strlen(v) != 3 || strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3))
		return fs_err(FIELDSYNC_EINVAL, "%s: '%.40s' is not a currency code like EUR, RUB or CNY", st->cli, v);
	snprintf(out, n, "%s", *v ? c : "");
	return 0;
}

static void deflt_empty(const struct setting *st, char *out, size_t n)
{
	(void)st;
	snprintf(out, n, "%s", "");
}

static const struct setting settings[] = {
	{ "due_days", "due-days", 1, 0, 0, 0, canon_due, deflt_due },
	{ "retention_years", "retention-years", 1, FS_RETENTION_MIN, FS_RETENTION_MAX, FS_RETENTION_DEFAULT,
	  canon_int, deflt_int },
	{ "lapse_days", "lapse-days", 0, 1, 3650, 90, canon_int, deflt_int },
	{ "clock_ahead_minutes", "clock-ahead-minutes", 1, FS_CLOCK_AHEAD_MIN, FS_CLOCK_AHEAD_MAX,
	  FS_CLOCK_AHEAD_DEFAULT, canon_int, deflt_int },
	{ "currency", "currency", 1, 0, 0, 0, canon_currency, deflt_empty },
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

int hq_setting_get(struct hq *h, struct hq_db *db, const char *key, char **out)
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
	return hq_txn(h, HQ_TXN_WRITE, setting_write, &w);
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
	rc = hq_setting_get(h, db ? db : own, st->key, &v);
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
	rc = hq_setting_get(h, db, "due_days", &v);
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
		if ((rc = hq_setting_get(h, db, st->key, &v)))
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
		if ((rc = hq_setting_get(h, db, settings[i].key, &v)) == 0 &&
		    !cJSON_AddStringToObject(s, settings[i].key, v ? v : ""))
			rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		free(v);
	}
	return rc;
}

