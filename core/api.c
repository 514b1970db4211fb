/* api.c - the public store, record and query calls over store.c. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "retention.h"

FIELDSYNC_API const char *fieldsync_version(void)
{
	return FIELDSYNC_VERSION;
}

FIELDSYNC_API const char *fieldsync_errmsg(void)
{
	return fs_errmsg_get();
}

FIELDSYNC_API int fieldsync_default_path(char *buf, size_t n)
{
	const char *e = getenv("FIELDSYNC_DB"), *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
	int k;
	if (e && *e)
		k = snprintf(buf, n, "%s", e);
	else if (x && *x == '/')
		k = snprintf(buf, n, "%s/fieldsync/fieldsync.db", x);
	else if (h && *h)
		k = snprintf(buf, n, "%s/.local/share/fieldsync/fieldsync.db", h);
	else
		return fs_err(FIELDSYNC_EINVAL, "no store path: set FIELDSYNC_DB or use --db");
	if (k < 0 || (size_t)k >= n)
		return fs_err(FIELDSYNC_EINVAL, "store path too long");
	return 0;
}

FIELDSYNC_API int fieldsync_open(const char *path, unsigned flags, fieldsync_store **out)
{
	*out = NULL;
	if (sodium_init() < 0)
		return fs_err(FIELDSYNC_EIO, "libsodium failed to initialise");
	struct fieldsync_store *h = calloc(1, sizeof *h);
	if (!h)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	unsigned f = 0;
	if (flags & FIELDSYNC_OPEN_CREATE)
		f |= FS_OPEN_CREATE;
	if (flags & FIELDSYNC_OPEN_READONLY)
		f |= FS_OPEN_READONLY;
	int rc = fs_store_open(path, f, &h->st);
	if (rc) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

FIELDSYNC_API void fieldsync_close(fieldsync_store *s)
{
	if (!s)
		return;
	fs_store_close(s->st);	/* an open transaction is rolled back */
	free(s);
}

FIELDSYNC_API const char *fieldsync_replica_id(fieldsync_store *s)
{
	return fs_store_replica_hex(s->st);
}

FIELDSYNC_API int fieldsync_begin(fieldsync_store *s)
{
	return fs_store_begin(s->st);
}

FIELDSYNC_API int fieldsync_commit(fieldsync_store *s)
{
	return fs_store_commit(s->st);
}

FIELDSYNC_API void fieldsync_rollback(fieldsync_store *s)
{
	fs_store_rollback(s->st);
}

/* ---- records ---- */

static const struct fs_table *table_or_err(const char *name)
{
	const struct fs_table *t = name ? fs_table_find(name) : NULL;
	if (!t)
		fs_err(FIELDSYNC_EINVAL, "unknown record type '%s'", name ? name : "(null)");
	return t;
}

FIELDSYNC_API int fieldsync_rec_new(const char *table, fieldsync_rec **out)
{
	const struct fs_table *t = table_or_err(table);
	*out = NULL;
	if (!t)
		return FIELDSYNC_EINVAL;
	struct fieldsync_rec *r = malloc(sizeof *r);
	if (!r)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	fs_chg_init(&r->c, t);
	*out = r;
	return 0;
}

FIELDSYNC_API int fieldsync_rec_set(fieldsync_rec *r, const char *field, const char *value)
{
	const struct fs_table *t = r->c.t;
	int i = fs_field_find(t, field);
	if (i < 0)
		return fs_err(FIELDSYNC_EINVAL, "unknown field '%s' for %s", field, t->name);
	if (t->fields[i].flags & FS_F_INTERNAL)
		return fs_err(FIELDSYNC_EINVAL, "%s: set by its own command, not as a field", field);
	struct fs_val v = { 0 };
	if (value && *value) {
		int rc = fs_field_parse(&t->fields[i], value, FS_PARSE_USER, &v);
		if (rc)
			return rc;
	}
	int rc = fs_chg_set(&r->c, i, &v);
	fs_val_release(&v);
	return rc;
}

FIELDSYNC_API int fieldsync_rec_count(const fieldsync_rec *r)
{
	return fs_chg_count(&r->c);
}

FIELDSYNC_API void fieldsync_rec_free(fieldsync_rec *r)
{
	if (!r)
		return;
	fs_chg_release(&r->c);
	free(r);
}

static int check_id(const char *id)
{
	if (!fs_is_id(id))
		return fs_err(FIELDSYNC_ENOTFOUND, "'%.40s' is not a record id", id ? id : "");
	return 0;
}

FIELDSYNC_API int fieldsync_insert(fieldsync_store *s, const fieldsync_rec *r, char id_out[33])
{
	return fs_store_write(s->st, &r->c, NULL, id_out);
}

FIELDSYNC_API int fieldsync_update(fieldsync_store *s, const char *id, const fieldsync_rec *r)
{
	int rc = check_id(id);
	if (rc)
		return rc;
	if (r->c.t->deleted_field >= 0 && r->c.set[r->c.t->deleted_field])
		return fs_err(FIELDSYNC_EINVAL, "deleted: use delete");
	return fs_store_write(s->st, &r->c, id, NULL);
}

FIELDSYNC_API int fieldsync_delete(fieldsync_store *s, const char *table, const char *id)
{
	const struct fs_table *t = table_or_err(table);
	if (!t)
		return FIELDSYNC_EINVAL;
	int rc = check_id(id);
	if (rc)
		return rc;
	struct fs_chg c;
	struct fs_val v = { 0 };
	fs_chg_init(&c, t);
	fs_val_set_int(&v, 1);
	rc = fs_chg_set(&c, t->deleted_field, &v);
	if (rc == 0) {
		struct fs_rec cur;
		rc = fs_store_get(s->st, t, id, &cur);
		if (rc == 0) {
			int gone = fs_rec_deleted(&cur);
			fs_rec_release(&cur);
			if (gone)
				rc = fs_err(FIELDSYNC_ENOTFOUND, "%s %s is already deleted", t->name, id);
		}
	}
	if (rc == 0)
		rc = fs_store_write(s->st, &c, id, NULL);
	fs_chg_release(&c);
	return rc;
}

struct fs_exec fs_store_execer(struct fs_store *s)
{
	struct fs_exec x = { fs_store_exec, s };
	return x;
}

FIELDSYNC_API int fieldsync_lookup(fieldsync_store *s, const char *table, const char *key, char id_out[33])
{
	const struct fs_table *t = table_or_err(table);
	if (!t)
		return FIELDSYNC_EINVAL;
	struct fs_exec x = fs_store_execer(s->st);
	return fs_query_lookup(&x, t, key, id_out);
}

/* ---- queries ---- */

FIELDSYNC_API int fieldsync_get(fieldsync_store *s, const char *table, const char *id, fieldsync_rows **out)
{
	const struct fs_table *t = table_or_err(table);
	struct fs_rec r;
	*out = NULL;
	if (!t)
		return FIELDSYNC_EINVAL;
	int rc = fs_store_get(s->st, t, id, &r);
	if (rc)
		return rc;
	rc = fs_rows_from_rec(&r, out);
	fs_rec_release(&r);
	return rc;
}

FIELDSYNC_API int fieldsync_list(fieldsync_store *s, const char *table, const char *const *filters,
				 const char *search, fieldsync_rows **out)
{
	const struct fs_table *t = table_or_err(table);
	*out = NULL;
	if (!t)
		return FIELDSYNC_EINVAL;
	struct fs_exec x = fs_store_execer(s->st);
	return fs_query_list(&x, t, filters, search, out);
}

FIELDSYNC_API int fieldsync_today(fieldsync_store *s, const char *date, fieldsync_rows **out)
{
	char today[11];
	int y, m, d;
	*out = NULL;
	if (!date) {
		fs_today_local(today);
		date = today;
	} else if (fs_parse_date(date, &y, &m, &d)) {
		return fs_err(FIELDSYNC_EINVAL, "date: '%.40s' is not a date YYYY-MM-DD", date);
	}
	static const char sql[] =
		"SELECT v.route_seq, v.planned_time, v.status, c.name, c.address, c.city, v.purpose,"
		" (SELECT p.outcome FROM visit p WHERE p.customer_id = v.customer_id AND p.status = 'done'"
		"   AND p.deleted IS NOT 1 AND p.id <> v.id AND p.planned_date <= v.planned_date"
		"   ORDER BY p.planned_date DESC, p.check_out DESC LIMIT 1),"
		" (SELECT coalesce(sum(coalesce(fs_unseal(receivable), 0) - coalesce(fs_unseal(received), 0)), 0) FROM payment m"
		"   WHERE m.customer_id = v.customer_id AND m.deleted IS NOT 1),"
		" v.id, c.id, c.lat, c.lon"
		" FROM visit v JOIN customer c ON c.id = v.customer_id"
		" WHERE v.planned_date = $1 AND v.deleted IS NOT 1 AND v.status <> 'cancelled'"
		" ORDER BY v.route_seq IS NULL, v.route_seq, v.planned_time IS NULL, v.planned_time, c.name";
	static const char *const names[] = { "route_seq", "planned_time", "status", "customer", "address",
		"city", "purpose", "last_outcome", "outstanding", "visit_id", "customer_id", "lat", "lon", NULL };
	static const int types[] = { FS_T_INT, FS_T_TIME, FS_T_ENUM, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT,
		FS_T_TEXT, FS_T_TEXT, FS_T_MONEY, FS_T_REF, FS_T_REF, FS_T_LAT, FS_T_LON };
	struct fs_val p = { 0 };
	p.t = FS_V_TEXT;
	p.s = (char *)date;
	struct fs_exec x = fs_store_execer(s->st);
	return fs_exec_rows(&x, sql, 1, &p, names, types, out);
}

FIELDSYNC_API int fieldsync_fields(const char *table, fieldsync_rows **out)
{
	const struct fs_table *t = table_or_err(table);
	*out = NULL;
	if (!t)
		return FIELDSYNC_EINVAL;
	struct fieldsync_rows *r = fs_rows_new(4);
	if (!r)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	const char *names[] = { "field", "type", "rules", "meaning" };
	int rc = 0;
	for (int c = 0; rc == 0 && c < 4; c++)
		rc = fs_rows_set_col(r, c, names[c], FS_T_TEXT);
	for (int i = 0; rc == 0 && i < t->nfields; i++) {
		const struct fs_field *f = &t->fields[i];
		if (f->flags & FS_F_INTERNAL)
			continue;
		char flag[64], rules[320], ty[64];
		int row = fs_rows_add(r);
		if (row < 0) {
			rc = row;
			break;
		}
		size_t k = 0;
		for (const char *p = f->name; *p && k < sizeof flag - 1; p++)
			flag[k++] = *p == '_' ? '-' : *p;
		flag[k] = '\0';
		rules[0] = '\0';
		if (f->type == FS_T_ENUM)
			fs_enum_list(f, rules, sizeof rules);
		else if (f->type == FS_T_TEXT)
			snprintf(rules, sizeof rules, "max %lld bytes", (long long)f->max);
		else if (f->type == FS_T_INT)
			snprintf(rules, sizeof rules, "%lld..%lld", (long long)f->min, (long long)f->max);
		snprintf(ty, sizeof ty, "%s%s%s", fs_type_name(f->type),
			 (f->flags & FS_F_REQUIRED) ? ", required" : "",
			 (f->flags & FS_F_IMMUTABLE) ? ", fixed" : "");
		rc = fs_rows_set(r, row, 0, flag);
		if (rc == 0)
			rc = fs_rows_set(r, row, 1, ty);
		if (rc == 0)
			rc = fs_rows_set(r, row, 2, rules);
		if (rc == 0)
			rc = fs_rows_set(r, row, 3, f->help);
	}
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

FIELDSYNC_API int fieldsync_money_parse(const char *text, int64_t *minor)
{
	int rc = fs_parse_money(text, minor);
	if (rc == FIELDSYNC_ELIMIT)
		return fs_err(rc, "amount '%.40s' is beyond 2^53 minor units", text);
	if (rc)
		return fs_err(FIELDSYNC_EINVAL, "'%.40s' is not an amount (e.g. 1250 or 1250.50)", text ? text : "");
	return 0;
}

FIELDSYNC_API void fieldsync_money_format(int64_t minor, char *buf, size_t n)
{
	char tmp[32];
	fs_fmt_money(minor, tmp);
	snprintf(buf, n, "%s", tmp);
}

FIELDSYNC_API void fieldsync_local_date(char buf[11])
{
	fs_today_local(buf);
}

/* ---- retention ---- */

FIELDSYNC_API int fieldsync_retention(fieldsync_store *s, fieldsync_rows **out)
{
	char before[11];
	int years, hq;
	*out = NULL;
	int rc = fs_retention_get(s->st, &years, &hq, before);
	struct fieldsync_rows *r = rc ? NULL : fs_rows_new(3);
	if (rc == 0 && !r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	int row = rc ? -1 : fs_rows_add(r);
	if (row < 0 && rc == 0)
		rc = row;
	if (rc == 0 && !(rc = fs_rows_set_col(r, 0, "years", FS_T_INT)) &&
	    !(rc = fs_rows_set_col(r, 1, "source", FS_T_TEXT)) && !(rc = fs_rows_set_col(r, 2, "before", FS_T_DATE)) &&
	    !(rc = fs_rows_set_int(r, row, 0, years)) && !(rc = fs_rows_set(r, row, 1, hq ? "HQ" : "default")))
		rc = fs_rows_set(r, row, 2, before);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

FIELDSYNC_API int fieldsync_purge(fieldsync_store *s, int dry_run, fieldsync_rows **out)
{
	if (out)
		*out = NULL;
	return fs_retention_purge(s->st, dry_run, NULL, out);
}

FIELDSYNC_API int fieldsync_repair_clock(fieldsync_store *s, int dry_run, long *records)
{
	long n = 0;
	int rc = fs_store_repair_clock(s->st, dry_run, &n);
	if (records)
		*records = n;
	return rc;
}

FIELDSYNC_API void fieldsync_dispute_print(FILE *out, int json, const char *table, const char *id, int was,
					   int clear)
{
	if (json)
		fprintf(out, "{\"table\": \"%s\", \"id\": \"%s\", \"disputed\": %s, \"changed\": %s}\n", table, id,
			clear ? "false" : "true", was != !clear ? "true" : "false");
	else if (was == !clear)
		fprintf(out, "%s %s is %s\n", table, id, clear ? "not disputed" : "already disputed");
	else
		fprintf(out, "%s %s %s\n", table, id, clear ? "is no longer disputed" : "is disputed: kept forever");
}

/* ---- conflicts ---- */

static int store_get(void *ctx, const struct fs_table *t, const char *id, struct fs_rec *out)
{
	return fs_store_get(ctx, t, id, out);
}

FIELDSYNC_API int fieldsync_conflicts(fieldsync_store *s, int all, fieldsync_rows **out)
{
	struct fs_exec x = fs_store_execer(s->st);
	return fs_query_conflicts(&x, store_get, s->st, all, out);
}

/* Was this dot written by this store (under its current or an earlier id)? */
static int dot_is_mine(struct fs_store *s, const struct fs_dot *d)
{
	char hex[33], *prev = NULL;
	fs_rid_fmt(&d->rid, hex);
	if (!strcmp(hex, fs_store_replica_hex(s)))
		return 1;
	int mine = fs_meta_get(s, "replica_ids_before", &prev) == 0 && prev && strstr(prev, hex);
	free(prev);
	return mine;
}

static int resolve_locked(struct fs_store *s, const char *cid, const char *keep)
{
	const struct fs_table *ct = &fs_tbl_conflict;
	struct fs_rec k, r;
	struct fs_dot lose;
	int rc = fs_store_get(s, ct, cid, &k);
	if (rc)
		return rc;
	const struct fs_val *tbl = &k.f[fs_field_find(ct, "tbl")].v, *rid = &k.f[fs_field_find(ct, "rec_id")].v;
	const struct fs_val *ld = &k.f[fs_field_find(ct, "lose_dot")].v, *fname = &k.f[fs_field_find(ct, "field")].v;
	const struct fs_table *t = tbl->t == FS_V_TEXT ? fs_table_find(tbl->s) : NULL;
	if (!t || rid->t != FS_V_TEXT || fname->t != FS_V_TEXT || ld->t != FS_V_TEXT || fs_dot_parse(ld->s, &lose)) {
		fs_rec_release(&k);
		return fs_err(FIELDSYNC_EIO, "conflict %s is malformed", cid);
	}
	if ((rc = fs_store_get(s, t, rid->s, &r))) {
		fs_rec_release(&k);
		return rc == FIELDSYNC_ENOTFOUND ? fs_err(rc, "the conflicting record is not on this device") : rc;
	}
	int fi = fs_field_find(t, fname->s), keep_loser = 0;
	if (!strcmp(keep, "winner") || !strcmp(keep, "loser")) {
		keep_loser = !strcmp(keep, "loser");
	} else if (!strcmp(keep, "mine") || !strcmp(keep, "theirs")) {
		int loser_mine = dot_is_mine(s, &lose), winner_mine = fi >= 0 && dot_is_mine(s, &r.f[fi].dot);
		if (loser_mine == winner_mine)
			rc = fs_err(FIELDSYNC_EINVAL, "%s values were written on this device; use --keep winner or loser",
				    loser_mine ? "both" : "neither of the");
		else
			keep_loser = !strcmp(keep, "mine") ? loser_mine : winner_mine;
	} else {
		rc = fs_err(FIELDSYNC_EINVAL, "--keep: '%.20s' is not mine, theirs, winner or loser", keep);
	}
	char note[160];
	struct fs_chg field, res;
	snprintf(note, sizeof note, "kept %s (%s) on %.8s", keep_loser ? "loser" : "winner", keep, fs_store_replica_hex(s));
	if (rc == 0 && (rc = fs_conflict_plan(&k, &r, keep_loser, note, &field, &res)) == 0) {
		rc = fs_store_write(s, &field, r.id, NULL);
		if (rc == 0)
			rc = fs_store_write(s, &res, cid, NULL);
		fs_chg_release(&field);
		fs_chg_release(&res);
	}
	fs_rec_release(&r);
	fs_rec_release(&k);
	return rc;
}

FIELDSYNC_API int fieldsync_resolve(fieldsync_store *s, const char *conflict_id, const char *keep)
{
	char cid[33];
	int rc = fieldsync_lookup(s, "conflict", conflict_id, cid);
	if (rc)
		return rc;
	if ((rc = fs_store_begin(s->st)))
		return rc;
	rc = resolve_locked(s->st, cid, keep ? keep : "");
	if (rc) {
		fs_store_rollback(s->st);
		return rc;
	}
	return fs_store_commit(s->st);
}
