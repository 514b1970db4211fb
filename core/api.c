/* api.c - the public store, record and query calls over store.c. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

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
	while (s->st && s->st->depth > 0)
		fs_store_rollback(s->st);
	fs_store_close(s->st);
	free(s);
}

FIELDSYNC_API const char *fieldsync_replica_id(fieldsync_store *s)
{
	return s->st->self_hex;
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
	unsigned char tmp[16];
	if (!id || strlen(id) != FS_ID_LEN || fs_unhex(id, FS_ID_LEN, tmp))
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

FIELDSYNC_API int fieldsync_lookup(fieldsync_store *s, const char *table, const char *key, char id_out[33])
{
	const struct fs_table *t = table_or_err(table);
	if (!t)
		return FIELDSYNC_EINVAL;
	if (!key || !*key)
		return fs_err(FIELDSYNC_EINVAL, "empty %s id", t->name);
	size_t n = strlen(key);
	int hex = n >= 4 && n <= FS_ID_LEN;
	for (size_t i = 0; hex && i < n; i++)
		hex = (key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f');
	char sql[256];
	sqlite3_stmt *st;
	int found = 0, rc;
	for (int pass = 0; pass < 2 && !found; pass++) {
		if (pass == 0 && !hex)
			continue;
		if (pass == 1 && t != &fs_tbl_customer)
			break;
		if (pass == 0)
			snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE id >= ?1 AND id < ?1 || 'g'"
				 " AND deleted IS NOT 1 LIMIT 2", t->name);
		else
			snprintf(sql, sizeof sql, "SELECT id FROM customer WHERE code = ?1"
				 " AND deleted IS NOT 1 LIMIT 2");
		rc = sqlite3_prepare_v2(s->st->db, sql, -1, &st, NULL);
		if (rc != SQLITE_OK)
			return fs_sqlite_err(s->st->db, rc, "lookup");
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (found++ == 0)
				snprintf(id_out, 33, "%s", (const char *)sqlite3_column_text(st, 0));
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return fs_sqlite_err(s->st->db, rc, "lookup");
	}
	if (found == 0)
		return fs_err(FIELDSYNC_ENOTFOUND, "no %s '%.64s'", t->name, key);
	if (found > 1)
		return fs_err(FIELDSYNC_EINVAL, "%s id '%.64s' is ambiguous; give more characters",
			      t->name, key);
	return 0;
}

/* ---- queries ---- */

int fs_query_rows(struct fs_store *s, const char *sql, const char *const *args, int nargs,
		  const struct fs_table *t, struct fieldsync_rows **out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fs_sqlite_err(s->db, rc, "query");
	for (int i = 0; i < nargs; i++)
		sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
	int ncol = sqlite3_column_count(st);
	int *types = calloc((size_t)ncol + 1, sizeof *types);
	if (!types) {
		sqlite3_finalize(st);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	for (int c = 0; c < ncol; c++) {
		const char *name = sqlite3_column_name(st, c);
		types[c] = fs_rows_guess_type(t, name);
		if (!strcmp(name, "outstanding") || !strcmp(name, "amount_total"))
			types[c] = FS_T_MONEY;
		else if (!strcmp(name, "updated_at"))
			types[c] = FS_T_DATETIME;
		else if (!strcmp(name, "customer"))
			types[c] = FS_T_TEXT;
	}
	rc = fs_rows_from_stmt(st, types, out);
	free(types);
	sqlite3_finalize(st);
	return rc;
}

FIELDSYNC_API int fieldsync_get(fieldsync_store *s, const char *table, const char *id, fieldsync_rows **out)
{
	const struct fs_table *t = table_or_err(table);
	*out = NULL;
	if (!t)
		return FIELDSYNC_EINVAL;
	struct fs_buf b;
	fs_buf_init(&b, 0);
	int rc = fs_buf_adds(&b, "SELECT id");
	for (int i = 0; rc == 0 && i < t->nfields; i++)
		rc = fs_buf_printf(&b, ", %s", t->fields[i].name);
	if (rc == 0)
		rc = fs_buf_printf(&b, ", scope AS territory_scope, vv,"
				   " strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', hlc / 1024 / 1000, 'unixepoch') AS updated_at,"
				   " (SELECT count(*) FROM conflict k WHERE k.rec_id = t.id"
				   " AND k.deleted IS NOT 1) AS conflicts"
				   " FROM %s t WHERE id = ?1", t->name);
	if (rc == 0)
		rc = fs_query_rows(s->st, b.p, &id, 1, t, out);
	fs_buf_release(&b);
	if (rc == 0 && (*out)->nrow == 0) {
		fs_rows_free(*out);
		*out = NULL;
		rc = fs_err(FIELDSYNC_ENOTFOUND, "no %s with id %s", t->name, id);
	}
	return rc;
}

FIELDSYNC_API int fieldsync_list(fieldsync_store *s, const char *table, const char *const *filters,
				 const char *search, fieldsync_rows **out)
{
	const struct fs_table *t = table_or_err(table);
	*out = NULL;
	if (!t)
		return FIELDSYNC_EINVAL;
	struct fs_buf b;
	const char *args[FS_MAX_FIELDS + 2];
	char *owned[FS_MAX_FIELDS + 2];
	int nargs = 0, rc;
	fs_buf_init(&b, 0);
	rc = fs_buf_adds(&b, "SELECT t.id");
	for (int i = 0; rc == 0 && i < t->nfields; i++)
		if (i != t->deleted_field)
			rc = fs_buf_printf(&b, ", t.%s", t->fields[i].name);
	int parent = t->scope_field >= 0 && (t->fields[t->scope_field].flags & FS_F_PARENT);
	if (rc == 0 && parent)
		rc = fs_buf_printf(&b, ", (SELECT name FROM customer c WHERE c.id = t.%s) AS customer",
				   t->fields[t->scope_field].name);
	if (rc == 0)
		rc = fs_buf_printf(&b, " FROM %s t WHERE t.deleted IS NOT 1", t->name);
	for (int k = 0; rc == 0 && filters && filters[k]; k++) {
		const char *eq = strchr(filters[k], '=');
		char name[64];
		if (!eq || (size_t)(eq - filters[k]) >= sizeof name) {
			rc = fs_err(FIELDSYNC_EINVAL, "filter '%s' is not field=value", filters[k]);
			break;
		}
		memcpy(name, filters[k], (size_t)(eq - filters[k]));
		name[eq - filters[k]] = '\0';
		int fi = fs_field_find(t, name);
		if (fi < 0 || nargs >= FS_MAX_FIELDS) {
			rc = fs_err(FIELDSYNC_EINVAL, "unknown field '%s' for %s", name, t->name);
			break;
		}
		struct fs_val v = { 0 };
		rc = fs_field_parse(&t->fields[fi], eq + 1, FS_PARSE_USER, &v);
		if (rc)
			break;
		owned[nargs] = fs_val_canon(&v);
		fs_val_release(&v);
		args[nargs] = owned[nargs];
		nargs++;
		rc = fs_buf_printf(&b, " AND t.%s = ?%d", t->fields[fi].name, nargs);
	}
	if (rc == 0 && search && *search) {
		owned[nargs] = NULL;
		struct fs_buf pat;
		fs_buf_init(&pat, 4096);
		rc = fs_buf_addc(&pat, '%');
		for (const char *p = search; rc == 0 && *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				rc = fs_buf_addc(&pat, '\\');
			if (rc == 0)
				rc = fs_buf_addc(&pat, *p);
		}
		if (rc == 0)
			rc = fs_buf_addc(&pat, '%');
		if (rc == 0) {
			owned[nargs] = fs_buf_detach(&pat);
			args[nargs] = owned[nargs];
			nargs++;
			rc = fs_buf_adds(&b, " AND (0");
			for (int i = 0; rc == 0 && i < t->nfields; i++)
				if (t->fields[i].type == FS_T_TEXT && !(t->fields[i].flags & FS_F_SENSITIVE))
					rc = fs_buf_printf(&b, " OR t.%s LIKE ?%d ESCAPE '\\'",
							   t->fields[i].name, nargs);
			if (rc == 0)
				rc = fs_buf_adds(&b, ")");
		}
		fs_buf_release(&pat);
	}
	if (rc == 0) {
		if (t == &fs_tbl_customer)
			rc = fs_buf_adds(&b, " ORDER BY t.territory, t.route_seq IS NULL, t.route_seq, t.name");
		else if (t == &fs_tbl_visit)
			rc = fs_buf_adds(&b, " ORDER BY t.planned_date, t.route_seq IS NULL, t.route_seq,"
					 " t.planned_time, t.check_in");
		else
			rc = fs_buf_adds(&b, " ORDER BY t.rowid");
	}
	if (rc == 0)
		rc = fs_query_rows(s->st, b.p, args, nargs, t, out);
	for (int k = 0; k < nargs; k++)
		free(owned[k]);
	fs_buf_release(&b);
	return rc;
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
		"SELECT v.route_seq AS route_seq, v.planned_time AS planned_time, v.status AS status,"
		" c.name AS customer, c.address AS address, c.city AS city, v.purpose AS purpose,"
		" (SELECT p.outcome FROM visit p WHERE p.customer_id = v.customer_id AND p.status = 'done'"
		"   AND p.deleted IS NOT 1 AND p.id <> v.id AND p.planned_date <= v.planned_date"
		"   ORDER BY p.planned_date DESC, p.check_out DESC LIMIT 1) AS last_outcome,"
		" (SELECT coalesce(sum(coalesce(receivable, 0) - coalesce(received, 0)), 0) FROM payment m"
		"   WHERE m.customer_id = v.customer_id AND m.deleted IS NOT 1) AS outstanding,"
		" v.id AS visit_id, c.id AS customer_id, c.lat AS lat, c.lon AS lon"
		" FROM visit v JOIN customer c ON c.id = v.customer_id"
		" WHERE v.planned_date = ?1 AND v.deleted IS NOT 1 AND v.status <> 'cancelled'"
		" ORDER BY v.route_seq IS NULL, v.route_seq, v.planned_time IS NULL, v.planned_time, c.name";
	return fs_query_rows(s->st, sql, &date, 1, &fs_tbl_visit, out);
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
