/* query.c - listings over any fs_exec (device store or HQ backend). */
#include "query.h"

#include <stdlib.h>
#include <string.h>
#include "fieldsync.h"
#include "util.h"

struct collect {
	struct fieldsync_rows *r;
	int rc;
};

static int collect_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct collect *x = vctx;
	int row = fs_rows_add(x->r);
	if (row < 0)
		return x->rc = row;
	for (int c = 0; c < ncol && c < x->r->ncol; c++) {
		char *t = fs_val_canon(&v[c]);
		if (v[c].t != FS_V_NULL && !t)
			return x->rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
		x->r->cells[(size_t)row * (size_t)x->r->ncol + (size_t)c] = t;
	}
	return 0;
}

int fs_exec_rows(const struct fs_exec *x, const char *sql, int n, const struct fs_val *p,
		 const char *const *names, const int *types, struct fieldsync_rows **out)
{
	int ncol = 0, rc = 0;
	while (names[ncol])
		ncol++;
	struct fieldsync_rows *r = fs_rows_new(ncol);
	*out = NULL;
	if (!r)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < ncol; c++)
		rc = fs_rows_set_col(r, c, names[c], types ? types[c] : FS_T_TEXT);
	struct collect cx = { r, 0 };
	if (rc == 0)
		rc = x->fn(x->ctx, sql, n, p, collect_row, &cx);
	if (rc == 0)
		rc = cx.rc;
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}


int fs_found_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct fs_found *f = vctx;
	if (ncol > 0 && v[0].t == FS_V_TEXT && f->n++ == 0)
		snprintf(f->id, sizeof f->id, "%s", v[0].s);
	return 0;
}

int fs_query_lookup(const struct fs_exec *x, const struct fs_table *t, const char *key, char id[33])
{
	char sql[256], hi[40];
	struct fs_found f = { 0, "" };
	int rc = 0;
	if (!key || !*key)
		return fs_err(FIELDSYNC_EINVAL, "empty %s id", t->name);
	size_t n = strlen(key);
	int hex = n >= 4 && n <= FS_ID_LEN;
	for (size_t i = 0; hex && i < n; i++)
		hex = (key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f');
	if (hex) {
		/* ids are lowercase hex: every id with this prefix sorts in [key, key + "g") */
		snprintf(hi, sizeof hi, "%sg", key);
		struct fs_val p[2] = { fs_vref(key), fs_vref(hi) };
		snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE id >= $1 AND id < $2 AND coalesce(deleted, 0) <> 1"
			 " ORDER BY id LIMIT 2", t->name);
		rc = x->fn(x->ctx, sql, 2, p, fs_found_row, &f);
	}
	if (rc == 0 && f.n == 0 && t == &fs_tbl_customer) {
		struct fs_val p = fs_vref(key);
		rc = x->fn(x->ctx, "SELECT id FROM customer WHERE code = $1 AND coalesce(deleted, 0) <> 1 ORDER BY id LIMIT 2",
			   1, &p, fs_found_row, &f);
	}
	if (rc)
		return rc;
	if (f.n == 0)
		return fs_err(FIELDSYNC_ENOTFOUND, "no %s '%.64s'", t->name, key);
	if (f.n > 1)
		return fs_err(FIELDSYNC_EINVAL, "%s id '%.64s' is ambiguous; give more characters", t->name, key);
	memcpy(id, f.id, 33);
	return 0;
}

int fs_query_list(const struct fs_exec *x, const struct fs_table *t, const char *const *filters,
		  const char *search, struct fieldsync_rows **out)
{
	struct fs_buf b;
	struct fs_val p[FS_MAX_FIELDS + 2];
	const char *names[FS_MAX_FIELDS + 3];
	int types[FS_MAX_FIELDS + 3];
	char *owned[FS_MAX_FIELDS + 2];
	int np = 0, nc = 0, rc;
	*out = NULL;
	fs_buf_init(&b, 0);
	rc = fs_buf_adds(&b, "SELECT t.id");
	names[nc] = "id";
	types[nc++] = FS_T_TEXT;
	for (int i = 0; rc == 0 && i < t->nfields; i++)
		if (i != t->deleted_field) {
			rc = fs_buf_printf(&b, ", t.%s", t->fields[i].name);
			names[nc] = t->fields[i].name;
			types[nc++] = t->fields[i].type;
		}
	int parent = t->scope_field >= 0 && (t->fields[t->scope_field].flags & FS_F_PARENT);
	if (rc == 0 && parent) {
		rc = fs_buf_printf(&b, ", (SELECT c.name FROM customer c WHERE c.id = t.%s)",
				   t->fields[t->scope_field].name);
		names[nc] = "customer";
		types[nc++] = FS_T_TEXT;
	}
	names[nc] = NULL;
	if (rc == 0)
		rc = fs_buf_printf(&b, " FROM %s t WHERE coalesce(t.deleted, 0) <> 1", t->name);
	for (int k = 0; rc == 0 && filters && filters[k]; k++) {
		const char *eq = strchr(filters[k], '=');
		char name[64];
		if (!eq || (size_t)(eq - filters[k]) >= sizeof name) {
			rc = fs_err(FIELDSYNC_EINVAL, "filter '%.64s' is not field=value", filters[k]);
			break;
		}
		memcpy(name, filters[k], (size_t)(eq - filters[k]));
		name[eq - filters[k]] = '\0';
		int fi = fs_field_find(t, name);
		if (fi < 0 || np >= FS_MAX_FIELDS) {
			rc = fs_err(FIELDSYNC_EINVAL, "unknown field '%s' for %s", name, t->name);
			break;
		}
		memset(&p[np], 0, sizeof p[np]);
		if ((rc = fs_field_parse(&t->fields[fi], eq + 1, FS_PARSE_USER, &p[np])))
			break;
		owned[np] = p[np].s;
		np++;
		rc = fs_buf_printf(&b, " AND t.%s = $%d", t->fields[fi].name, np);
	}
	if (rc == 0 && search && *search) {
		struct fs_buf pat;
		fs_buf_init(&pat, 4096);
		rc = fs_buf_addc(&pat, '%');
		for (const char *s = search; rc == 0 && *s; s++) {
			if (*s == '%' || *s == '_' || *s == '\\')
				rc = fs_buf_addc(&pat, '\\');
			if (rc == 0)
				rc = fs_buf_addc(&pat, *s);
		}
		if (rc == 0)
			rc = fs_buf_addc(&pat, '%');
		if (rc == 0) {
			owned[np] = fs_buf_detach(&pat);
			p[np] = fs_vref(owned[np]);
			np++;
			rc = fs_buf_adds(&b, " AND (1 = 0");
			for (int i = 0; rc == 0 && i < t->nfields; i++)
				if (t->fields[i].type == FS_T_TEXT && !(t->fields[i].flags & FS_F_SENSITIVE))
					rc = fs_buf_printf(&b, " OR lower(t.%s) LIKE lower($%d) ESCAPE '\\'",
							   t->fields[i].name, np);
			if (rc == 0)
				rc = fs_buf_adds(&b, ")");
		}
		fs_buf_release(&pat);
	}
	if (rc == 0) {
		if (t == &fs_tbl_customer)
			rc = fs_buf_adds(&b, " ORDER BY t.territory, t.route_seq IS NULL, t.route_seq, t.name, t.id");
		else if (t == &fs_tbl_visit)
			rc = fs_buf_adds(&b, " ORDER BY t.planned_date, t.route_seq IS NULL, t.route_seq,"
					 " t.planned_time, t.check_in, t.id");
		else
			rc = fs_buf_adds(&b, " ORDER BY t.id");
	}
	if (rc == 0)
		rc = fs_exec_rows(x, b.p, np, p, names, types, out);
	for (int k = 0; k < np; k++)
		free(owned[k]);
	fs_buf_release(&b);
	return rc;
}

int fs_rows_from_rec(const struct fs_rec *r, struct fieldsync_rows **out)
{
	const struct fs_table *t = r->t;
	struct fieldsync_rows *rows = fs_rows_new(t->nfields + 5);
	char buf[64];
	int rc = 0, c = 0, open = 0;
	*out = NULL;
	if (!rows)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	int row = fs_rows_add(rows);
	if (row < 0) {
		fs_rows_free(rows);
		return row;
	}
	rc = fs_rows_set_col(rows, c, "id", FS_T_TEXT);
	if (rc == 0)
		rc = fs_rows_set(rows, row, c++, r->id);
	for (int i = 0; rc == 0 && i < t->nfields; i++) {
		char *v = fs_val_canon(&r->f[i].v);
		rc = fs_rows_set_col(rows, c, t->fields[i].name, t->fields[i].type);
		if (rc == 0)
			rc = fs_rows_set(rows, row, c++, v);
		free(v);
		for (int k = 0; k < r->f[i].nsib; k++)
			open += !fs_val_eq(&r->f[i].sib[k].v, &r->f[i].v);
	}
	char *vv = NULL;
	if (rc == 0)
		rc = fs_vv_encode(&r->vv, &vv);
	fs_iso_utc(fs_hlc_ms(r->hlc), buf);
	if (rc == 0 && !(rc = fs_rows_set_col(rows, c, "territory_scope", FS_T_TEXT)))
		rc = fs_rows_set(rows, row, c++, r->scope[0] ? r->scope : NULL);
	if (rc == 0 && !(rc = fs_rows_set_col(rows, c, "vv", FS_T_TEXT)))
		rc = fs_rows_set(rows, row, c++, vv);
	if (rc == 0 && !(rc = fs_rows_set_col(rows, c, "updated_at", FS_T_DATETIME)))
		rc = fs_rows_set(rows, row, c++, buf);
	snprintf(buf, sizeof buf, "%d", open);
	if (rc == 0 && !(rc = fs_rows_set_col(rows, c, "open_conflicts", FS_T_INT)))
		rc = fs_rows_set(rows, row, c++, buf);
	free(vv);
	rows->ncol = c;
	if (rc) {
		fs_rows_free(rows);
		return rc;
	}
	*out = rows;
	return 0;
}

int fs_conflict_open(const struct fs_rec *k, const struct fs_rec *target)
{
	const struct fs_table *ct = &fs_tbl_conflict;
	const struct fs_val *field = &k->f[fs_field_find(ct, "field")].v;
	const struct fs_val *lose = &k->f[fs_field_find(ct, "lose_dot")].v;
	struct fs_dot d;
	if (field->t != FS_V_TEXT || lose->t != FS_V_TEXT || fs_dot_parse(lose->s, &d))
		return 0;
	int fi = fs_field_find(target->t, field->s);
	if (fi < 0)
		return 0;
	for (int i = 0; i < target->f[fi].nsib; i++)
		if (fs_dot_same(&target->f[fi].sib[i].dot, &d))
			return 1;
	return 0;
}

int fs_query_conflicts(const struct fs_exec *x, fs_get_fn get, void *gctx, int all,
		       struct fieldsync_rows **out)
{
	static const char *const kn[] = { "id", NULL };
	static const char *const on[] = { "id", "table", "record", "field", "current", "other", "status",
		"resolution" };
	const struct fs_table *ct = &fs_tbl_conflict;
	struct fieldsync_rows *k, *r;
	int rc = fs_exec_rows(x, "SELECT id FROM conflict WHERE coalesce(deleted, 0) <> 1 ORDER BY rec_id, field, id", 0,
			      NULL, kn, NULL, &k);
	*out = NULL;
	if (rc)
		return rc;
	r = fs_rows_new(8);
	if (!r)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int c = 0; rc == 0 && c < 8; c++)
		rc = fs_rows_set_col(r, c, on[c], c == 2 ? FS_T_REF : FS_T_TEXT);
	for (int i = 0; rc == 0 && i < k->nrow; i++) {
		struct fs_rec conf, target;
		if ((rc = get(gctx, ct, k->cells[i], &conf)))
			break;
#define CF(n) (conf.f[fs_field_find(ct, n)].v)
		const struct fs_table *t = CF("tbl").t == FS_V_TEXT ? fs_table_find(CF("tbl").s) : NULL;
		int open = 0, have = 0;
		char *cur = NULL;
		if (t && CF("rec_id").t == FS_V_TEXT && CF("field").t == FS_V_TEXT) {
			rc = get(gctx, t, CF("rec_id").s, &target);
			if (rc == 0) {
				have = 1;
				open = fs_conflict_open(&conf, &target);
				int fi = fs_field_find(t, CF("field").s);
				cur = fi >= 0 ? fs_val_canon(&target.f[fi].v) : NULL;
				fs_rec_release(&target);
			} else if (rc == FIELDSYNC_ENOTFOUND) {
				rc = 0;	/* the record was evicted or not here yet */
			}
		}
		if (rc == 0 && t && (open || all)) {
			int row = fs_rows_add(r);
			const char *vals[8] = { conf.id, t->name, CF("rec_id").s, CF("field").s, cur,
				CF("value").t == FS_V_TEXT ? CF("value").s : NULL,
				open ? "open" : have ? "resolved" : "record absent",
				CF("resolution").t == FS_V_TEXT ? CF("resolution").s : NULL };
			for (int c = 0; row >= 0 && rc == 0 && c < 8; c++)
				rc = fs_rows_set(r, row, c, vals[c]);
			if (row < 0)
				rc = row;
		}
#undef CF
		free(cur);
		fs_rec_release(&conf);
	}
	fs_rows_free(k);
	if (rc) {
		fs_rows_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int fs_conflict_plan(const struct fs_rec *k, const struct fs_rec *target, int keep_loser, const char *note,
		     struct fs_chg *field, struct fs_chg *resolution)
{
	const struct fs_table *ct = &fs_tbl_conflict, *t = target->t;
	const struct fs_val *fname = &k->f[fs_field_find(ct, "field")].v;
	const struct fs_val *value = &k->f[fs_field_find(ct, "value")].v;
	struct fs_val v = { 0 };
	int fi = fname->t == FS_V_TEXT ? fs_field_find(t, fname->s) : -1, rc = 0;
	fs_chg_init(field, t);
	fs_chg_init(resolution, ct);
	if (fi < 0)
		return fs_err(FIELDSYNC_EIO, "conflict %s names an unknown field", k->id);
	if (!fs_conflict_open(k, target))
		return fs_err(FIELDSYNC_ESTATE, "conflict %.8s is already resolved", k->id);
	if (keep_loser && value->t == FS_V_TEXT)
		rc = fs_field_parse(&t->fields[fi], value->s, 0, &v);
	else if (!keep_loser)
		rc = fs_val_copy(&v, &target->f[fi].v);
	if (rc == 0)
		rc = fs_chg_set(field, fi, &v);
	if (rc == 0)
		rc = fs_val_set_text(&v, note, strlen(note));
	if (rc == 0)
		rc = fs_chg_set(resolution, fs_field_find(ct, "resolution"), &v);
	if (rc == 0)
		rc = fs_field_parse(&ct->fields[fs_field_find(ct, "resolved_at")], "now", FS_PARSE_USER, &v);
	if (rc == 0)
		rc = fs_chg_set(resolution, fs_field_find(ct, "resolved_at"), &v);
	fs_val_release(&v);
	if (rc) {
		fs_chg_release(field);
		fs_chg_release(resolution);
	}
	return rc;
}

int fs_ids_row(void *ctx, int ncol, const struct fs_val *v)
{
	struct fs_ids *l = ctx;
	if (ncol < 1 || v[0].t != FS_V_TEXT)
		return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->id, (size_t)cap * sizeof *l->id);
		if (!p)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		l->id = p;
		l->cap = cap;
	}
	snprintf(l->id[l->n++], 33, "%s", v[0].s);
	return 0;
}
