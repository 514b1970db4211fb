/*
 * web.c - the HQ dashboard: pages under /admin/, their JSON twins under
 * /admin/api/, administrators, login sessions and CSRF (see web.h).
 *
 * Everything is read through the same backend interface as the rest of
 * HQ, in the SQL both SQLite and PostgreSQL accept; writes to records go
 * through HQ's versioned write paths (hq_resolve, hq_accept_locked), so
 * what an administrator decides here syncs like any other write.
 */
#include "web.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "due.h"
#include "hq_report.h"
#include "query.h"
#include "reply.h"
#include "wire.h"

#define SESSION_TTL_S (12 * 3600)
#define LOGIN_TTL_S 3600
#define SESSION_COOKIE "fs_admin"
#define LOGIN_COOKIE "fs_login"
#define DAY_MS (24LL * 3600 * 1000)
#define MAX_PASSWORD 256
/* The pages' own files only: no inline script, style or handler, nothing
 * from elsewhere, no framing by any page (clickjacking). */
#define PAGE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;" \
	" connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
/* Failed logins per name: a table of LOGIN_BUCKETS x LOGIN_WAYS names. */
#define LOGIN_BUCKETS 256
#define LOGIN_WAYS 4

#define CELL(r, i, c) ((r)->cells[(size_t)(i) * (size_t)(r)->ncol + (size_t)(c)])

/* ---- the dashboard's tables ---- */

static int web_schema(const struct hq_backend *be, struct fs_buf *b)
{
	return fs_buf_printf(b,
		"CREATE TABLE admins (name TEXT PRIMARY KEY, pw_hash TEXT NOT NULL, created_at TEXT NOT NULL,"
		" last_login TEXT);\n"
		"CREATE TABLE admin_sessions (id_hash TEXT PRIMARY KEY, admin TEXT NOT NULL REFERENCES admins(name),"
		" created_at TEXT NOT NULL, expires_ms %s NOT NULL, client_ip TEXT);\n"
		"CREATE INDEX admin_sessions_admin ON admin_sessions(admin);\n"
		"CREATE TABLE decisions (id TEXT PRIMARY KEY, at TEXT NOT NULL, at_ms %s NOT NULL,"
		" admin TEXT NOT NULL, kind TEXT NOT NULL, tbl TEXT NOT NULL, rec_id TEXT NOT NULL,"
		" target TEXT NOT NULL, decision TEXT NOT NULL, detail TEXT);\n"
		"CREATE INDEX decisions_at ON decisions(at_ms);\n",
		be->t_int, be->t_int);
}

const struct hq_part hq_web_part = { "dashboard", web_schema };

/* ---- small helpers ---- */

static int count_row(void *ctx, int ncol, const struct fs_val *v)
{
	if (ncol > 0 && v[0].t == FS_V_INT)
		*(int64_t *)ctx = v[0].i;
	return 0;
}

static int text_row(void *ctx, int ncol, const struct fs_val *v)
{
	char **out = ctx;
	if (ncol > 0 && v[0].t == FS_V_TEXT && !*out)
		*out = strdup(v[0].s);
	return 0;
}

static int is_hex64(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 64;
}

/* Run one statement on a pooled connection (no transaction of its own). */
static int run(struct hq *h, const char *sql, int n, const struct fs_val *p, fs_row_fn fn, void *ctx)
{
	struct hq_db *db = NULL;
	int rc = hq_acquire(h, &db);
	if (rc)
		return rc;
	rc = hq_be(h)->exec(db, sql, n, p, fn, ctx);
	hq_release(h, db);
	return rc;
}

static int rows(struct hq *h, const char *sql, int n, const struct fs_val *p, const char *const *names,
		const int *types, struct fieldsync_rows **out)
{
	struct hq_db *db;
	int rc = hq_acquire(h, &db);
	*out = NULL;
	if (rc)
		return rc;
	rc = hq_query_rows(h, db, sql, n, p, names, types, out);
	hq_release(h, db);
	return rc;
}

static int64_t to_int(const char *s, int64_t dflt)
{
	int64_t v;
	return s && fs_parse_int(s, &v) == 0 ? v : dflt;
}

static int days_of(const char *date, int64_t *days)
{
	int y, m, d;
	if (!date || fs_parse_date(date, &y, &m, &d))
		return -1;
	*days = fs_days_from_civil(y, m, d);
	return 0;
}

static void fmt_date(int64_t days, char out[16])
{
	int y, m, d;
	fs_civil_from_days(days, &y, &m, &d);
	snprintf(out, 16, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
}

static void j_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void j_int(cJSON *o, const char *k, const char *v)
{
	int64_t i;
	if (v && fs_parse_int(v, &i) == 0)
		cJSON_AddNumberToObject(o, k, (double)i);
	else
		cJSON_AddNullToObject(o, k);
}

static void j_real(cJSON *o, const char *k, const char *v)
{
	double d;
	if (v && fs_parse_double(v, &d) == 0)
		cJSON_AddNumberToObject(o, k, d);
	else
		cJSON_AddNullToObject(o, k);
}

static void j_bool(cJSON *o, const char *k, const char *v)
{
	cJSON_AddBoolToObject(o, k, v && strcmp(v, "0") && strcmp(v, "false") && *v);
}

/* A date-time cell ("2026-11-23T09:30:00Z") as ms, or -1. */
static int64_t ms_of(const char *s)
{
	int64_t ms;
	return s && fs_parse_datetime(s, &ms) == 0 ? ms : -1;
}

/* ---- responses ---- */

static const struct hq_asset *asset(const char *name)
{
	for (int i = 0; i < hq_nassets; i++)
		if (!strcmp(hq_assets[i].name, name))
			return &hq_assets[i];
	return NULL;
}

static void reply_asset(struct hq_response *r, const char *name)
{
	const struct hq_asset *a = asset(name);
	if (!a || !(r->body = malloc(a->len + 1))) {
		hq_response_error(r, a ? 500 : 404, a ? "internal" : "not_found", "%s", a ? "out of memory" : "no such file");
		return;
	}
	memcpy(r->body, a->data, a->len + 1);
	r->body_len = a->len;
	r->content_type = a->type;
	r->status = 200;
	if (!strncmp(a->type, "text/html", 9))
		r->csp = PAGE_CSP;
}

static void redirect(struct hq_response *r, int status, const char *to)
{
	r->status = status;
	r->location = to;
	r->content_type = "text/html; charset=utf-8";
	r->body = strdup("<!doctype html><title>Moved</title><a href=\"/admin/\">continue</a>\n");
	r->body_len = r->body ? strlen(r->body) : 0;
}

static char *make_cookie(const char *name, const char *value, const char *path, int max_age, int tls)
{
	struct fs_buf b;
	fs_buf_init(&b, 0);
	if (fs_buf_printf(&b, "%s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=Strict%s", name, value, path, max_age,
			  tls ? "; Secure" : "")) {
		fs_buf_release(&b);
		return NULL;
	}
	return fs_buf_detach(&b);
}

/* ---- requests: cookies, forms, query strings ---- */

/* The value of cookie `name` in a Cookie header, if it fits in out[n]. */
static int cookie_get(const char *hdr, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = hdr; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		size_t len = strcspn(p, ";");
		if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			size_t vl = len - nl - 1;
			while (vl && (p[nl + vl] == ' ' || p[nl + vl] == '\t'))
				vl--;
			if (vl < n) {
				memcpy(out, p + nl + 1, vl);
				out[vl] = '\0';
				return 1;
			}
		}
		p += len;
	}
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* `key` in application/x-www-form-urlencoded text s[0..len), decoded into
 * out[n]; 0 when absent, too long, or holding a NUL byte. */
static int form_get(const char *s, size_t len, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	const char *end = s ? s + len : NULL;
	for (const char *p = s; p && p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t o = 0;
			for (const char *q = p + kl + 1; q < stop; q++) {
				int c = (unsigned char)*q;
				if (c == '+')
					c = ' ';
				else if (c == '%' && stop - q > 2 && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
					c = hexval(q[1]) * 16 + hexval(q[2]);
					q += 2;
				}
				if (c == 0 || o + 1 >= n)
					return 0;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return 1;
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
}

static int query_get(const struct hq_request *req, const char *key, char *out, size_t n)
{
	return req->query ? form_get(req->query, strlen(req->query), key, out, n) : 0;
}

/* ---- administrators ---- */

static int valid_admin(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 64)
		return fs_err(FIELDSYNC_EINVAL, "admin name must be 1-64 characters");
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-' || c == '@'))
			return fs_err(FIELDSYNC_EINVAL, "admin name: letters, digits and . _ - @ only");
	}
	return 0;
}

/* 20 random characters in 4 groups, 5 bits each (100 bits). */
static void new_password(char pw[HQ_ADMIN_PW_LEN])
{
	static const char alpha[] = "abcdefghijkmnpqrstuvwxyz23456789";	/* 32: no l, o, 0, 1 */
	unsigned char raw[20];
	int k = 0;
	randombytes_buf(raw, sizeof raw);
	for (int i = 0; i < 20; i++) {
		if (i && i % 5 == 0)
			pw[k++] = '-';
		pw[k++] = alpha[raw[i] & 31];
	}
	pw[k] = '\0';
	sodium_memzero(raw, sizeof raw);
}

static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory hashing the password");
	return 0;
}

/* Statements run in order in one write transaction; with count_sql, only
 * when it counts a row (else nothing happens and *count says 0). */
struct stmts {
	const char *const *sql;
	const int *np;
	const struct fs_val *const *p;
	int nstmt;
	int64_t *count;
	const char *count_sql;
	const struct fs_val *count_p;
	int count_n;
};

static int stmts_run(struct hq *h, struct hq_db *db, void *vctx)
{
	const struct stmts *x = vctx;
	const struct hq_backend *be = hq_be(h);
	int rc = 0;
	if (x->count_sql) {
		*x->count = 0;
		rc = be->exec(db, x->count_sql, x->count_n, x->count_p, count_row, x->count);
	}
	for (int i = 0; rc == 0 && i < x->nstmt && (!x->count_sql || *x->count > 0); i++)
		rc = be->exec(db, x->sql[i], x->np[i], x->p[i], NULL, NULL);
	return rc;
}

static int in_txn(struct hq *h, const char *const *sql, const int *np, const struct fs_val *const *p, int nstmt,
		  int64_t *count, const char *count_sql, const struct fs_val *count_p, int count_n)
{
	struct stmts x = { sql, np, p, nstmt, count, count_sql, count_p, count_n };
	return hq_txn(h, HQ_TXN_WRITE, stmts_run, &x);
}

struct admin_new {
	const char *name;
	const struct fs_val *ins;
};

static int admin_add_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	const struct admin_new *x = vctx;
	const struct hq_backend *be = hq_be(h);
	struct fs_val chk = fs_vref(x->name);
	int64_t n = 0;
	int rc = be->exec(db, "SELECT count(*) FROM admins WHERE name = $1", 1, &chk, count_row, &n);
	if (rc == 0 && n)
		rc = fs_err(FIELDSYNC_EINVAL, "admin '%s' already exists (use 'admin reset' for a new password)",
			    x->name);
	if (rc == 0)
		rc = be->exec(db, "INSERT INTO admins (name, pw_hash, created_at) VALUES ($1, $2, $3)", 3, x->ins,
			      NULL, NULL);
	return rc;
}

int hq_admin_add(struct hq *h, const char *name, char pw[HQ_ADMIN_PW_LEN])
{
	char hash[crypto_pwhash_STRBYTES], now[32];
	int rc = valid_admin(name);
	if (rc)
		return rc;
	new_password(pw);
	if ((rc = hash_password(pw, hash)))
		return rc;
	fs_iso_utc(fs_wall_ms(), now);
	struct fs_val ins[3] = { fs_vref(name), fs_vref(hash), fs_vref(now) };
	struct admin_new x = { name, ins };
	rc = hq_txn(h, HQ_TXN_WRITE, admin_add_tx, &x);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

int hq_admin_reset(struct hq *h, const char *name, char pw[HQ_ADMIN_PW_LEN])
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t n = 0;
	int rc = valid_admin(name);
	if (rc)
		return rc;
	new_password(pw);
	if ((rc = hash_password(pw, hash)))
		return rc;
	struct fs_val who = fs_vref(name), upd[2] = { fs_vref(hash), fs_vref(name) };
	const char *sql[] = { "UPDATE admins SET pw_hash = $1 WHERE name = $2",
		"DELETE FROM admin_sessions WHERE admin = $1" };
	const int np[] = { 2, 1 };
	const struct fs_val *p[] = { upd, &who };
	rc = in_txn(h, sql, np, p, 2, &n, "SELECT count(*) FROM admins WHERE name = $1", &who, 1);
	if (rc == 0 && n == 0)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "no admin '%s'", name);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

int hq_admin_remove(struct hq *h, const char *name)
{
	int64_t n = 0;
	struct fs_val who = fs_vref(name);
	const char *sql[] = { "DELETE FROM admin_sessions WHERE admin = $1", "DELETE FROM admins WHERE name = $1" };
	const int np[] = { 1, 1 };
	const struct fs_val *p[] = { &who, &who };
	int rc = in_txn(h, sql, np, p, 2, &n, "SELECT count(*) FROM admins WHERE name = $1", &who, 1);
	if (rc == 0 && n == 0)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "no admin '%s'", name);
	return rc;
}

int hq_admin_list(struct hq *h, struct fieldsync_rows **out)
{
	static const char *const names[] = { "admin", "created_at", "last_login", "sessions", NULL };
	static const int types[] = { FS_T_TEXT, FS_T_DATETIME, FS_T_DATETIME, FS_T_INT };
	struct fs_val now = fs_vint(fs_wall_ms());
	return rows(h, "SELECT a.name, a.created_at, a.last_login, (SELECT count(*) FROM admin_sessions s"
		    " WHERE s.admin = a.name AND s.expires_ms > $1) FROM admins a ORDER BY a.name", 1, &now, names,
		    types, out);
}

int hq_decision_list(struct hq *h, struct fieldsync_rows **out)
{
	static const char *const names[] = { "at", "admin", "kind", "tbl", "rec_id", "target", "decision", "detail",
		NULL };
	static const int types[] = { FS_T_DATETIME, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT, FS_T_TEXT,
		FS_T_TEXT };
	return rows(h, "SELECT at, admin, kind, tbl, rec_id, target, decision, detail FROM decisions"
		    " ORDER BY at_ms, id", 0, NULL, names, types, out);
}

static int log_decision(struct hq *h, struct hq_db *db, const char *admin, const char *kind, const char *tbl,
			const char *rec_id, const char *target, const char *decision, const char *detail)
{
	char id[33], now[32];
	int64_t ms = fs_wall_ms();
	fs_random_id(id);
	fs_iso_utc(ms, now);
	struct fs_val p[10] = { fs_vref(id), fs_vref(now), fs_vint(ms), fs_vref(admin), fs_vref(kind), fs_vref(tbl),
		fs_vref(rec_id), fs_vref(target), fs_vref(decision), fs_vref(detail) };
	return hq_be(h)->exec(db, "INSERT INTO decisions (id, at, at_ms, admin, kind, tbl, rec_id, target, decision,"
			      " detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, p, NULL, NULL);
}

/* ---- sessions ---- */

struct session {
	char sid[65];
	char admin[101];
	char csrf[65];
};

/* The CSRF token of a session: a keyed hash of its id, never stored. */
static void csrf_of(const char *sid, char out[65])
{
	static const char label[] = "fieldsync admin csrf v1";
	unsigned char key[32], mac[32];
	fs_unhex(sid, 64, key);
	crypto_generichash(mac, sizeof mac, (const unsigned char *)label, sizeof label - 1, key, sizeof key);
	fs_hex(mac, sizeof mac, out);
	sodium_memzero(key, sizeof key);
}

struct sess_ctx {
	char admin[101];
	int64_t expires;
	int found;
};

static int sess_row(void *vctx, int ncol, const struct fs_val *v)
{
	struct sess_ctx *x = vctx;
	if (ncol < 2 || v[0].t != FS_V_TEXT)
		return 0;
	snprintf(x->admin, sizeof x->admin, "%s", v[0].s);
	x->expires = v[1].t == FS_V_INT ? v[1].i : 0;
	x->found = 1;
	return 0;
}

/* 1 with *s filled for a valid session cookie, 0 without one, < 0 on a store error. */
static int session_get(struct hq *h, const struct hq_request *req, struct session *s)
{
	char hash[65];
	struct sess_ctx x;
	memset(s, 0, sizeof *s);
	memset(&x, 0, sizeof x);
	if (!cookie_get(req->cookie, SESSION_COOKIE, s->sid, sizeof s->sid) || !is_hex64(s->sid))
		return 0;
	hq_token_hash(s->sid, hash);
	struct fs_val p = fs_vref(hash);
	int rc = run(h, "SELECT s.admin, s.expires_ms FROM admin_sessions s JOIN admins a ON a.name = s.admin"
		     " WHERE s.id_hash = $1", 1, &p, sess_row, &x);
	if (rc)
		return rc;
	if (!x.found || x.expires <= fs_wall_ms())
		return 0;
	memcpy(s->admin, x.admin, sizeof s->admin);
	csrf_of(s->sid, s->csrf);
	return 1;
}

static int session_new(struct hq *h, const char *admin, const char *ip, char sid[65])
{
	unsigned char raw[32];
	char hash[65], now[32];
	int64_t ms = fs_wall_ms();
	randombytes_buf(raw, sizeof raw);
	fs_hex(raw, sizeof raw, sid);
	sodium_memzero(raw, sizeof raw);
	hq_token_hash(sid, hash);
	fs_iso_utc(ms, now);
	struct fs_val ins[5] = { fs_vref(hash), fs_vref(admin), fs_vref(now), fs_vint(ms + SESSION_TTL_S * 1000LL),
		fs_vref(ip) };
	struct fs_val old = fs_vint(ms), last[2] = { fs_vref(now), fs_vref(admin) };
	const char *sql[] = { "INSERT INTO admin_sessions (id_hash, admin, created_at, expires_ms, client_ip)"
			      " VALUES ($1, $2, $3, $4, $5)",
		"DELETE FROM admin_sessions WHERE expires_ms < $1", "UPDATE admins SET last_login = $1 WHERE name = $2" };
	const int np[] = { 5, 1, 2 };
	const struct fs_val *p[] = { ins, &old, last };
	return in_txn(h, sql, np, p, 3, NULL, NULL, NULL, 0);
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static void dummy_init(void)
{
	char pw[HQ_ADMIN_PW_LEN];
	new_password(pw);
	if (hash_password(pw, dummy_hash))
		dummy_hash[0] = '\0';
}

/* 1 if name/password are an admin's, 0 if not (same work either way). */
static int check_password(struct hq *h, const char *name, const char *pw, int *ok)
{
	char *hash = NULL;
	struct fs_val p = fs_vref(name);
	*ok = 0;
	int rc = run(h, "SELECT pw_hash FROM admins WHERE name = $1", 1, &p, text_row, &hash);
	if (rc) {
		free(hash);
		return rc;
	}
	if (hash) {
		*ok = crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
		free(hash);
	} else {
		/* an unknown name costs the same as a wrong password */
		pthread_once(&dummy_once, dummy_init);
		if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw)) == 0)
			*ok = 0;	/* (never a login: there is no such admin) */
	}
	return 0;
}

/* ---- failed logins per name ---- */

/* Counted per name as typed, whether an admin has it or not, so that the
 * answers never tell which names exist. A name's window opens with its
 * first counted attempt; once HQ_LOGIN_FAIL_LIMIT have been counted in it,
 * logins with that name wait for the window's end. */
struct login_entry {
	char name[65];		/* "" = free slot */
	int64_t start_ms;
	int fails;
};

static pthread_mutex_t login_mu = PTHREAD_MUTEX_INITIALIZER;
static struct login_entry login_tab[LOGIN_BUCKETS][LOGIN_WAYS];
static uint64_t login_seed;

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The entry of `name` (login_mu held), made if `make`; NULL if none. */
static struct login_entry *login_find(const char *name, int make, int64_t now)
{
	if (!login_seed)
		randombytes_buf(&login_seed, sizeof login_seed);
	/* seeded: nobody can aim names at the bucket of another to evict it */
	uint64_t hv = 0xcbf29ce484222325ULL ^ login_seed;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		hv = (hv ^ *p) * 0x100000001b3ULL;
	struct login_entry *b = login_tab[hv % LOGIN_BUCKETS], *victim = &b[0];
	for (int i = 0; i < LOGIN_WAYS; i++) {
		if (b[i].name[0] && !strcmp(b[i].name, name)) {
			if (now - b[i].start_ms >= (int64_t)HQ_LOGIN_FAIL_WINDOW_S * 1000) {
				b[i].start_ms = now;	/* the window is over: a new one */
				b[i].fails = 0;
			}
			return &b[i];
		}
		if (victim->name[0] && (!b[i].name[0] || b[i].start_ms < victim->start_ms))
			victim = &b[i];
	}
	if (!make)
		return NULL;
	snprintf(victim->name, sizeof victim->name, "%s", name);
	victim->start_ms = now;
	victim->fails = 0;
	return victim;
}

/* Count a login attempt with `name` as failed until it succeeds; 0, or the
 * seconds to wait when the name has used up its failures. */
static int login_attempt(const char *name)
{
	int64_t now = mono_ms();
	int wait = 0;
	pthread_mutex_lock(&login_mu);
	struct login_entry *e = login_find(name, 1, now);
	if (e->fails >= HQ_LOGIN_FAIL_LIMIT)
		wait = (int)((e->start_ms + (int64_t)HQ_LOGIN_FAIL_WINDOW_S * 1000 - now + 999) / 1000);
	else
		e->fails++;
	pthread_mutex_unlock(&login_mu);
	return wait;
}

/* The attempt was not a failure after all (right password, or not tried). */
static void login_uncount(const char *name)
{
	pthread_mutex_lock(&login_mu);
	struct login_entry *e = login_find(name, 0, mono_ms());
	if (e && e->fails > 0)
		e->fails--;
	pthread_mutex_unlock(&login_mu);
}

/* ---- login and logout ---- */

/* The login page with the form token (also the fs_login cookie) and a
 * message. `tok` is the form token the browser already has, or NULL. */
static void login_page_tok(const char *tok_in, int tls, struct hq_response *r, int status, const char *error)
{
	const struct hq_asset *a = asset("login.html");
	char tok[65];
	int fresh = 0;
	if (tok_in && is_hex64(tok_in)) {
		snprintf(tok, sizeof tok, "%s", tok_in);
	} else {
		unsigned char raw[32];
		randombytes_buf(raw, sizeof raw);
		fs_hex(raw, sizeof raw, tok);
		fresh = 1;
	}
	struct fs_buf b;
	fs_buf_init(&b, 0);
	int rc = a ? 0 : fs_err(FIELDSYNC_EIO, "login.html is missing from this build");
	for (const char *p = a ? (const char *)a->data : ""; rc == 0 && *p;) {
		const char *m = strstr(p, "{{");
		if (!m) {
			rc = fs_buf_adds(&b, p);
			break;
		}
		rc = fs_buf_add(&b, p, (size_t)(m - p));
		if (rc == 0 && !strncmp(m, "{{csrf}}", 8)) {
			rc = fs_buf_adds(&b, tok);
			p = m + 8;
		} else if (rc == 0 && !strncmp(m, "{{error}}", 9)) {
			rc = fs_buf_adds(&b, error ? error : "");	/* our own fixed texts: no markup */
			p = m + 9;
		} else if (rc == 0) {
			rc = fs_buf_add(&b, m, 2);
			p = m + 2;
		}
	}
	if (rc) {
		fs_buf_release(&b);
		hq_response_error(r, 500, "internal", "%s", fs_errmsg_get());
		return;
	}
	r->status = status;
	r->body_len = b.len;
	r->body = fs_buf_detach(&b);
	r->content_type = "text/html; charset=utf-8";
	r->csp = PAGE_CSP;
	if (fresh)
		r->set_cookie = make_cookie(LOGIN_COOKIE, tok, "/admin/login", LOGIN_TTL_S, tls);
}

static void login_page(const struct hq_request *req, struct hq_response *r, int status, const char *error)
{
	char tok[65];
	int have = cookie_get(req->cookie, LOGIN_COOKIE, tok, sizeof tok);
	login_page_tok(have ? tok : NULL, req->tls, r, status, error);
}

/* A login whose password is checked on the server's work pool. */
struct login_job {
	struct hq *h;
	char name[101], pw[MAX_PASSWORD + 1], ip[64], tok[65];
	int tls;
};

static void login_job_free(void *arg)
{
	struct login_job *j = arg;
	sodium_memzero(j->pw, sizeof j->pw);
	free(j);
}

/* The password check (Argon2id: about 0.1 s and 64 MiB) and what follows. */
static void login_work(void *arg, struct hq_response *r)
{
	struct login_job *j = arg;
	char sid[65];
	int ok = 0;
	int rc = check_password(j->h, j->name, j->pw, &ok);
	sodium_memzero(j->pw, sizeof j->pw);
	if (rc) {
		login_uncount(j->name);
		hq_reply_rc(r, rc, "login");
		return;
	}
	if (!ok) {
		login_page_tok(j->tok, j->tls, r, 401, "Wrong name or password.");
		return;
	}
	login_uncount(j->name);
	if ((rc = session_new(j->h, j->name, j->ip, sid))) {
		hq_reply_rc(r, rc, "login");
		return;
	}
	r->set_cookie = make_cookie(SESSION_COOKIE, sid, "/admin", SESSION_TTL_S, j->tls);
	sodium_memzero(sid, sizeof sid);
	redirect(r, 303, "/admin/");
}

static void do_login(struct hq *h, const struct hq_request *req, struct hq_response *r)
{
	char ctok[65], ftok[65];
	struct login_job *j = calloc(1, sizeof *j);
	if (!j) {
		hq_response_error(r, 500, "internal", "out of memory");
		return;
	}
	/* the form must come from our own login page (login CSRF) */
	if (!cookie_get(req->cookie, LOGIN_COOKIE, ctok, sizeof ctok) || !is_hex64(ctok) ||
	    !form_get(req->body, req->body_len, "csrf", ftok, sizeof ftok) || strlen(ftok) != 64 ||
	    sodium_memcmp(ctok, ftok, 64) != 0) {
		free(j);
		login_page(req, r, 403, "This login form has expired or did not come from this server. "
			   "Please try again.");
		return;
	}
	if (!form_get(req->body, req->body_len, "name", j->name, sizeof j->name) ||
	    !form_get(req->body, req->body_len, "password", j->pw, sizeof j->pw) || valid_admin(j->name)) {
		login_job_free(j);
		login_page(req, r, 401, "Wrong name or password.");
		return;
	}
	int wait = login_attempt(j->name);
	if (wait > 0) {
		login_job_free(j);
		login_page(req, r, 429, "Too many failed sign-ins with this name. Please try again later.");
		r->retry_after = wait;
		return;
	}
	j->h = h;
	j->tls = req->tls;
	snprintf(j->ip, sizeof j->ip, "%s", req->client_ip ? req->client_ip : "");
	snprintf(j->tok, sizeof j->tok, "%s", ctok);
	int rc = hq_request_defer(req, login_work, j, login_job_free);
	if (rc == FIELDSYNC_EBUSY) {
		login_uncount(j->name);
		login_job_free(j);
		login_page(req, r, 503, "The server is busy. Please try again in a moment.");
		r->retry_after = 1;
	} else if (rc) {
		/* not served by a server with a work pool: check here */
		login_work(j, r);
		login_job_free(j);
	}
}

static void do_logout(struct hq *h, const struct hq_request *req, const struct session *s, struct hq_response *r)
{
	char hash[65];
	hq_token_hash(s->sid, hash);
	struct fs_val p = fs_vref(hash);
	const char *sql[] = { "DELETE FROM admin_sessions WHERE id_hash = $1" };
	const int np[] = { 1 };
	const struct fs_val *pp[] = { &p };
	int rc = in_txn(h, sql, np, pp, 1, NULL, NULL, NULL, 0);
	if (rc) {
		hq_reply_rc(r, rc, "logout");
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	hq_reply_json(r, 200, o);
	r->set_cookie = make_cookie(SESSION_COOKIE, "", "/admin", 0, req->tls);
}

/* ---- JSON twins ---- */

/* devices, with their rep's territories */
static int build_devices(struct hq *h, int64_t now, cJSON *out)
{
	struct fieldsync_rows *d = NULL, *reps = NULL;
	int rc = hq_device_list(h, &d);
	if (rc == 0)
		rc = hq_rep_list(h, &reps);
	if (rc) {
		fs_rows_free(d);
		return rc;
	}
	/* device list: id, rep, name, created_at, last_seen, last_sync, app_version, pending, revoked */
	cJSON *arr = cJSON_AddArrayToObject(out, "rows");
	int active = 0, synced = 0, never = 0, revoked = 0;
	int64_t pending = 0;
	for (int i = 0; i < d->nrow; i++) {
		const char *terr = NULL;
		for (int k = 0; k < reps->nrow && !terr; k++)
			if (CELL(reps, k, 0) && CELL(d, i, 1) && !strcmp(CELL(reps, k, 0), CELL(d, i, 1)))
				terr = CELL(reps, k, 1);
		cJSON *o = cJSON_CreateObject();
		j_str(o, "id", CELL(d, i, 0));
		j_str(o, "rep", CELL(d, i, 1));
		j_str(o, "name", CELL(d, i, 2));
		j_str(o, "territories", terr ? terr : "");
		j_str(o, "created_at", CELL(d, i, 3));
		j_str(o, "last_seen", CELL(d, i, 4));
		j_str(o, "last_sync", CELL(d, i, 5));
		j_str(o, "app_version", CELL(d, i, 6));
		j_int(o, "pending", CELL(d, i, 7));
		int rev = CELL(d, i, 8) && strcmp(CELL(d, i, 8), "0");
		cJSON_AddBoolToObject(o, "revoked", rev);
		int64_t ls = ms_of(CELL(d, i, 5));
		int ok24 = ls >= 0 && now - ls < DAY_MS;
		cJSON_AddBoolToObject(o, "synced_24h", ok24);
		if (ls >= 0)
			cJSON_AddNumberToObject(o, "sync_age_s", (double)((now - ls) / 1000));
		else
			cJSON_AddNullToObject(o, "sync_age_s");
		cJSON_AddItemToArray(arr, o);
		if (rev) {
			revoked++;
			continue;
		}
		active++;
		synced += ok24;
		never += ls < 0;
		pending += to_int(CELL(d, i, 7), 0);
	}
	cJSON *s = cJSON_AddObjectToObject(out, "summary");
	cJSON_AddNumberToObject(s, "devices", d->nrow);
	cJSON_AddNumberToObject(s, "active", active);
	cJSON_AddNumberToObject(s, "synced_24h", synced);
	cJSON_AddNumberToObject(s, "not_synced_24h", active - synced);
	cJSON_AddNumberToObject(s, "never_synced", never);
	cJSON_AddNumberToObject(s, "pending", (double)pending);
	cJSON_AddNumberToObject(s, "revoked", revoked);
	/* reps: rep, territories, devices, last_sync, revoked, wipe */
	cJSON *ra = cJSON_AddArrayToObject(out, "reps");
	for (int k = 0; k < reps->nrow; k++) {
		cJSON *o = cJSON_CreateObject();
		j_str(o, "rep", CELL(reps, k, 0));
		j_str(o, "territories", CELL(reps, k, 1));
		j_int(o, "devices", CELL(reps, k, 2));
		j_str(o, "last_sync", CELL(reps, k, 3));
		j_bool(o, "revoked", CELL(reps, k, 4));
		cJSON_AddItemToArray(ra, o);
	}
	fs_rows_free(d);
	fs_rows_free(reps);
	return 0;
}

/* A short label of a record for people: a customer's name (code), else its
 * table and its customer's name. */
static void record_label(struct hq *h, const char *tbl, const cJSON *f, char *out, size_t n)
{
	const char *name = fs_wire_str(f, "name"), *code = fs_wire_str(f, "code");
	if (tbl && !strcmp(tbl, "customer")) {
		snprintf(out, n, "%s%s%s%s", name ? name : "(no name)", code ? " (" : "", code ? code : "", code ? ")" : "");
		return;
	}
	const char *cid = fs_wire_str(f, "customer_id");
	char *cname = NULL;
	if (cid) {
		struct fs_val p = fs_vref(cid);
		run(h, "SELECT name FROM customer WHERE id = $1", 1, &p, text_row, &cname);
	}
	const char *what = fs_wire_str(f, "product");
	if (!what)
		what = fs_wire_str(f, "planned_date");
	if (!what)
		what = fs_wire_str(f, "date");
	if (!what)
		what = name;
	snprintf(out, n, "%s%s%s, %s", tbl ? tbl : "record", what ? " " : "", what ? what : "",
		 cname ? cname : cid ? "customer unknown at HQ" : "no customer");
	free(cname);
}

static int build_quarantine(struct hq *h, cJSON *out)
{
	static const char *const names[] = { "at", "rep", "device", "device_name", "tbl", "rec_id", "vv", "reason",
		"decision", "record", NULL };
	struct fieldsync_rows *q;
	int rc = rows(h, "SELECT q.at, d.rep, q.device, d.name, q.tbl, q.rec_id, q.vv, q.reason, q.decision, q.record"
		      " FROM quarantine q LEFT JOIN devices d ON d.id = q.device ORDER BY q.at DESC, q.rec_id", 0, NULL,
		      names, NULL, &q);
	if (rc)
		return rc;
	cJSON *arr = cJSON_AddArrayToObject(out, "rows");
	int pending = 0, accepted = 0, discarded = 0;
	for (int i = 0; i < q->nrow; i++) {
		cJSON *o = cJSON_CreateObject();
		for (int c = 0; c < 9; c++)
			j_str(o, names[c], CELL(q, i, c));
		const char *dec = CELL(q, i, 8);
		const char *state = !dec ? "pending" : !strncmp(dec, "accepted", 8) ? "accepted" : "discarded";
		cJSON_AddStringToObject(o, "state", state);
		pending += !dec;
		accepted += dec && !strcmp(state, "accepted");
		discarded += dec && !strcmp(state, "discarded");
		cJSON *rec = CELL(q, i, 9) ? cJSON_Parse(CELL(q, i, 9)) : NULL;
		const cJSON *f = rec ? cJSON_GetObjectItemCaseSensitive(rec, "f") : NULL;
		char label[400];
		record_label(h, CELL(q, i, 4), f, label, sizeof label);
		cJSON_AddStringToObject(o, "label", label);
		/* refused for its territory: the page offers to accept it there */
		const char *why = CELL(q, i, 7);
		const char *into = f && why && !strcmp(why, "territory is not one of the rep's") ? fs_wire_str(f, "territory") : NULL;
		if (into)
			cJSON_AddStringToObject(o, "into", into);
		else
			cJSON_AddNullToObject(o, "into");
		if (f)
			cJSON_AddItemToObject(o, "fields", cJSON_Duplicate(f, 1));
		else
			cJSON_AddNullToObject(o, "fields");
		cJSON_Delete(rec);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON *s = cJSON_AddObjectToObject(out, "summary");
	cJSON_AddNumberToObject(s, "total", q->nrow);
	cJSON_AddNumberToObject(s, "pending", pending);
	cJSON_AddNumberToObject(s, "accepted", accepted);
	cJSON_AddNumberToObject(s, "discarded", discarded);
	fs_rows_free(q);
	return 0;
}

/* Who wrote a dot "replica:counter:hlc": HQ, a device (rep / name), or the id. */
static void dot_author(struct hq *h, const struct fieldsync_rows *devs, const char *dot, cJSON *o, const char *key,
		       const char *key_at)
{
	struct fs_dot d;
	char rid[33], at[32];
	if (!dot || fs_dot_parse(dot, &d)) {
		cJSON_AddNullToObject(o, key);
		cJSON_AddNullToObject(o, key_at);
		return;
	}
	fs_rid_fmt(&d.rid, rid);
	const char *who = NULL;
	char buf[220];
	if (!strcmp(rid, hq_replica_id(h))) {
		who = "HQ";
	} else {
		for (int i = 0; devs && i < devs->nrow && !who; i++)
			if (CELL(devs, i, 0) && !strcmp(CELL(devs, i, 0), rid)) {
				snprintf(buf, sizeof buf, "%s (%s)", CELL(devs, i, 1) ? CELL(devs, i, 1) : "?",
					 CELL(devs, i, 2) ? CELL(devs, i, 2) : "device");
				who = buf;
			}
	}
	if (!who) {
		snprintf(buf, sizeof buf, "replica %.8s", rid);
		who = buf;
	}
	cJSON_AddStringToObject(o, key, who);
	fs_iso_utc(fs_hlc_ms(d.hlc), at);
	cJSON_AddStringToObject(o, key_at, at);
}

static int build_conflicts(struct hq *h, int all, cJSON *out)
{
	static const char *const en[] = { "id", "customer_id", "customer", "code", "territory", "resolved_at", "lose_dot",
		"win_dot", NULL };
	struct fieldsync_rows *k = NULL, *extra = NULL, *devs = NULL;
	int rc = hq_conflict_list(h, all, &k);
	if (rc == 0)
		rc = rows(h, "SELECT k.id, k.customer_id, c.name, c.code, c.territory, k.resolved_at, k.lose_dot, k.win_dot"
			  " FROM conflict k LEFT JOIN customer c ON c.id = k.customer_id WHERE coalesce(k.deleted, 0) = 0"
			  " ORDER BY k.id", 0, NULL, en, NULL, &extra);
	if (rc == 0)
		rc = hq_device_list(h, &devs);
	if (rc) {
		fs_rows_free(k);
		fs_rows_free(extra);
		return rc;
	}
	/* conflict list: id, table, record, field, current, other, status, resolution */
	cJSON *arr = cJSON_AddArrayToObject(out, "rows");
	int open = 0;
	for (int i = 0; i < k->nrow; i++) {
		cJSON *o = cJSON_CreateObject();
		static const char *const kn[] = { "id", "table", "record", "field", "current", "other", "status",
			"resolution" };
		for (int c = 0; c < 8; c++)
			j_str(o, kn[c], CELL(k, i, c));
		open += CELL(k, i, 6) && !strcmp(CELL(k, i, 6), "open");
		const struct fs_table *t = CELL(k, i, 1) ? fs_table_find(CELL(k, i, 1)) : NULL;
		int fi = t && CELL(k, i, 3) ? fs_field_find(t, CELL(k, i, 3)) : -1;
		cJSON_AddStringToObject(o, "type", fi >= 0 ? fs_type_name(t->fields[fi].type) : "text");
		int e = -1;
		for (int j = 0; j < extra->nrow && e < 0; j++)
			if (!strcmp(CELL(extra, j, 0), CELL(k, i, 0)))
				e = j;
		for (int c = 1; c < 6; c++)
			j_str(o, en[c], e >= 0 ? CELL(extra, e, c) : NULL);
		dot_author(h, devs, e >= 0 ? CELL(extra, e, 7) : NULL, o, "current_by", "current_at");
		dot_author(h, devs, e >= 0 ? CELL(extra, e, 6) : NULL, o, "other_by", "other_at");
		cJSON_AddItemToArray(arr, o);
	}
	cJSON *s = cJSON_AddObjectToObject(out, "summary");
	cJSON_AddNumberToObject(s, "open", open);
	cJSON_AddNumberToObject(s, "listed", k->nrow);
	fs_rows_free(k);
	fs_rows_free(extra);
	fs_rows_free(devs);
	return 0;
}

/* ---- visits planned vs done, by rep and ISO week ---- */

enum { V_PLANNED, V_DONE, V_MISSED, V_CANCELLED, V_OPEN, V_N };
static const char *const v_names[V_N] = { "planned", "done", "missed", "cancelled", "open" };

static cJSON *counts_json(const int64_t *n)
{
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < V_N; k++)
		cJSON_AddNumberToObject(o, v_names[k], (double)n[k]);
	return o;
}

static int parse_month(const char *s, int *y, int *m)
{
	char buf[16];
	int d;
	if (!s || strlen(s) != 7)
		return -1;
	snprintf(buf, sizeof buf, "%s-01", s);
	return fs_parse_date(buf, y, m, &d) ? -1 : 0;
}

/* Is `item` one of the comma-separated list? */
static int in_list(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, item, n))
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

static int build_visits(struct hq *h, const char *month, cJSON *out)
{
	int y, m;
	char first[16], last[16], label[16];
	if (parse_month(month, &y, &m))
		return fs_err(FIELDSYNC_EINVAL, "month: '%.20s' is not YYYY-MM", month ? month : "");
	int64_t d0 = fs_days_from_civil(y, m, 1);
	int64_t d1 = fs_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
	fmt_date(d0, first);
	fmt_date(d1, last);
	snprintf(label, sizeof label, "%04d-%02d", y, m);
	/* ISO weeks: Monday on or before the 1st; 1970-01-01 was a Thursday */
	int64_t mon0 = d0 - ((d0 % 7 + 7 + 3) % 7);
	int nweeks = (int)((d1 - mon0) / 7) + 1;
	/* each visit is one rep's: who logged it, or whom a plan still open is
	 * for (report.c, the same rule); "unknown" before HQ kept authors */
	static const char *const vn[] = { "rep", "territory", "planned_date", "status", NULL };
	struct fs_val p[2] = { fs_vref(first), fs_vref(last) };
	struct fieldsync_rows *v, *rt;
	int rc = rows(h, "SELECT coalesce(CASE WHEN v.status = 'planned' THEN coalesce(v.assignee, v.author_rep)"
		      " ELSE v.author_rep END, 'unknown'), c.territory, v.planned_date, v.status"
		      " FROM visit v JOIN customer c ON c.id = v.customer_id"
		      " WHERE coalesce(v.deleted, 0) = 0 AND coalesce(c.deleted, 0) = 0 AND v.planned_date >= $1"
		      " AND v.planned_date <= $2", 2, p, vn, NULL, &v);
	if (rc)
		return rc;
	static const char *const rn[] = { "rep", "territory", NULL };
	rc = rows(h, "SELECT rt.rep, rt.territory FROM rep_territories rt JOIN reps r ON r.name = rt.rep"
		  " WHERE r.revoked = 0 ORDER BY rt.rep, rt.territory", 0, NULL, rn, NULL, &rt);
	if (rc) {
		fs_rows_free(v);
		return rc;
	}
	/* one row per active rep (its territories), then any other author */
	struct rep_week {
		const char *rep;
		struct fs_buf terrs;
		int active;
		int64_t n[6][V_N];
	} *rw = calloc((size_t)(v->nrow + rt->nrow) + 1, sizeof *rw);
	int nr = 0;
	int64_t tot[6][V_N];
	memset(tot, 0, sizeof tot);
	if (!rw)
		rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < rt->nrow; i++) {
		if (!nr || strcmp(rw[nr - 1].rep, CELL(rt, i, 0))) {
			rw[nr].rep = CELL(rt, i, 0);
			rw[nr].active = 1;
			fs_buf_init(&rw[nr++].terrs, 0);
		}
		fs_buf_printf(&rw[nr - 1].terrs, "%s%s", rw[nr - 1].terrs.len ? "," : "", CELL(rt, i, 1));
	}
	for (int i = 0; rc == 0 && i < v->nrow; i++) {
		int64_t day;
		const char *rep = CELL(v, i, 0) ? CELL(v, i, 0) : "unknown", *terr = CELL(v, i, 1) ? CELL(v, i, 1) : "";
		const char *st = CELL(v, i, 3) ? CELL(v, i, 3) : "";
		if (days_of(CELL(v, i, 2), &day))
			continue;
		int w = (int)((day - mon0) / 7), r = 0;
		if (w < 0 || w >= nweeks || w >= 6)
			continue;
		while (r < nr && strcmp(rw[r].rep, rep))
			r++;
		if (r == nr) {
			rw[nr].rep = rep;
			fs_buf_init(&rw[nr++].terrs, 0);
		}
		if (!rw[r].active && !in_list(rw[r].terrs.p, terr))
			fs_buf_printf(&rw[r].terrs, "%s%s", rw[r].terrs.len ? "," : "", terr);
		int k = !strcmp(st, "done") ? V_DONE : !strcmp(st, "missed") ? V_MISSED :
			!strcmp(st, "cancelled") ? V_CANCELLED : V_OPEN;
		rw[r].n[w][V_PLANNED]++;
		rw[r].n[w][k]++;
		tot[w][V_PLANNED]++;
		tot[w][k]++;
	}
	cJSON_AddStringToObject(out, "month", label);
	cJSON_AddStringToObject(out, "from", first);
	cJSON_AddStringToObject(out, "to", last);
	cJSON_AddStringToObject(out, "rep_rule", "a rep's visits are those the rep logged, and the plans still open"
				" that were made for the rep; unknown: visits HQ stored before it kept authors");
	cJSON *weeks = cJSON_AddArrayToObject(out, "weeks");
	for (int w = 0; rc == 0 && w < nweeks && w < 6; w++) {
		int64_t a = mon0 + 7 * w, b = a + 6, thu = a + 3;
		char fa[16], fb[16], wk[16];
		int ty, tm, td;
		fs_civil_from_days(thu, &ty, &tm, &td);
		int wn = (int)((thu - fs_days_from_civil(ty, 1, 1)) / 7) + 1;
		snprintf(wk, sizeof wk, "%04u-W%02u", (unsigned)ty % 10000u, (unsigned)wn % 100u);
		fmt_date(a < d0 ? d0 : a, fa);
		fmt_date(b > d1 ? d1 : b, fb);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "week", wk);
		cJSON_AddStringToObject(o, "from", fa);
		cJSON_AddStringToObject(o, "to", fb);
		cJSON_AddItemToArray(weeks, o);
	}
	cJSON *arr = cJSON_AddArrayToObject(out, "rows");
	for (int r = 0; rc == 0 && r < nr; r++) {
		int64_t all[V_N] = { 0 };
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "rep", rw[r].rep);
		cJSON_AddBoolToObject(o, "active", rw[r].active);
		cJSON_AddStringToObject(o, "territories", rw[r].terrs.p ? rw[r].terrs.p : "");
		cJSON *wa = cJSON_AddArrayToObject(o, "weeks");
		for (int w = 0; w < nweeks && w < 6; w++) {
			cJSON_AddItemToArray(wa, counts_json(rw[r].n[w]));
			for (int k = 0; k < V_N; k++)
				all[k] += rw[r].n[w][k];
		}
		cJSON_AddItemToObject(o, "total", counts_json(all));
		cJSON_AddItemToArray(arr, o);
	}
	for (int r = 0; rw && r < nr; r++)
		fs_buf_release(&rw[r].terrs);
	free(rw);
	cJSON *to = cJSON_CreateObject(), *twa = cJSON_AddArrayToObject(to, "weeks");
	int64_t all[V_N] = { 0 };
	for (int w = 0; w < nweeks && w < 6; w++) {
		cJSON_AddItemToArray(twa, counts_json(tot[w]));
		for (int k = 0; k < V_N; k++)
			all[k] += tot[w][k];
	}
	cJSON_AddItemToObject(to, "total", counts_json(all));
	cJSON_AddItemToObject(out, "total", to);
	fs_rows_free(v);
	fs_rows_free(rt);
	return rc;
}

/* ---- customers, overdue ---- */

struct custs {
	struct fieldsync_rows *r;	/* id code name territory grade status city owner_rep lat lon last */
	int *days;			/* days since the last done visit, -1: never */
	int *interval;
	unsigned char *overdue;
	struct fs_due due;		/* HQ's intervals (fieldsyncd setting set due-days) */
};

static void custs_free(struct custs *c)
{
	fs_rows_free(c->r);
	free(c->days);
	free(c->interval);
	free(c->overdue);
	memset(c, 0, sizeof *c);
}

/* A customer is overdue when it was never visited (no done visit) or its
 * last done visit lies its grade's interval or more before `date`: the rule
 * of `fieldsync due` and `fieldsyncd report overdue` (fs_due_check_in). */
static int load_customers(struct hq *h, const char *territory, const char *date, struct custs *c)
{
	static const char *const names[] = { "id", "code", "name", "territory", "grade", "status", "city", "owner_rep",
		"lat", "lon", "last_visit", NULL };
	int64_t today;
	memset(c, 0, sizeof *c);
	if (days_of(date, &today))
		return fs_err(FIELDSYNC_EINVAL, "date: '%.20s' is not YYYY-MM-DD", date ? date : "");
	struct fs_val p = fs_vref(territory);
	int rc = rows(h, territory ?
		      "SELECT c.id, c.code, c.name, c.territory, c.grade, c.status, c.city, c.owner_rep, c.lat, c.lon,"
		      " (SELECT max(v.planned_date) FROM visit v WHERE v.customer_id = c.id AND v.status = 'done'"
		      " AND coalesce(v.deleted, 0) = 0) FROM customer c WHERE coalesce(c.deleted, 0) = 0"
		      " AND c.territory = $1 ORDER BY c.territory, c.name, c.id" :
		      "SELECT c.id, c.code, c.name, c.territory, c.grade, c.status, c.city, c.owner_rep, c.lat, c.lon,"
		      " (SELECT max(v.planned_date) FROM visit v WHERE v.customer_id = c.id AND v.status = 'done'"
		      " AND coalesce(v.deleted, 0) = 0) FROM customer c WHERE coalesce(c.deleted, 0) = 0"
		      " ORDER BY c.territory, c.name, c.id", territory ? 1 : 0, territory ? &p : NULL, names, NULL, &c->r);
	if (rc == 0)
		rc = hq_due_intervals(h, &c->due);
	if (rc)
		return rc;
	size_t n = (size_t)c->r->nrow + 1;
	c->days = calloc(n, sizeof *c->days);
	c->interval = calloc(n, sizeof *c->interval);
	c->overdue = calloc(n, 1);
	if (!c->days || !c->interval || !c->overdue) {
		custs_free(c);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	for (int i = 0; i < c->r->nrow; i++) {
		int64_t last;
		c->interval[i] = fs_due_interval(&c->due, CELL(c->r, i, 4));
		c->days[i] = days_of(CELL(c->r, i, 10), &last) ? -1 : (int)(today - last);
		c->overdue[i] = c->days[i] < 0 || c->days[i] >= c->interval[i];
	}
	return 0;
}

static cJSON *cust_json(const struct custs *c, int i)
{
	static const char *const tn[] = { "id", "code", "name", "territory", "grade", "status", "city", "owner_rep" };
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < 8; k++)
		j_str(o, tn[k], CELL(c->r, i, k));
	j_real(o, "lat", CELL(c->r, i, 8));
	j_real(o, "lon", CELL(c->r, i, 9));
	j_str(o, "last_visit", CELL(c->r, i, 10));
	if (c->days[i] >= 0)
		cJSON_AddNumberToObject(o, "days_since", c->days[i]);
	else
		cJSON_AddNullToObject(o, "days_since");
	cJSON_AddNumberToObject(o, "interval_days", c->interval[i]);
	cJSON_AddBoolToObject(o, "overdue", c->overdue[i]);
	return o;
}

static const char *const grades[] = { "VIP", "A", "B", "C", "" };

static int grade_index(const char *g)
{
	for (int k = 0; k < 4; k++)
		if (g && !strcmp(g, grades[k]))
			return k;
	return 4;
}

static int build_customers(struct hq *h, const char *territory, const char *grade, int overdue_only,
			   const char *date, cJSON *out)
{
	struct custs c;
	int rc = load_customers(h, territory && *territory ? territory : NULL, date, &c);
	if (rc)
		return rc;
	cJSON_AddStringToObject(out, "date", date);
	cJSON *iv = cJSON_AddObjectToObject(out, "intervals");
	for (int k = 0; k < 5; k++)
		cJSON_AddNumberToObject(iv, k < 4 ? grades[k] : "none", fs_due_interval(&c.due, grades[k]));
	cJSON *arr = cJSON_AddArrayToObject(out, "rows");
	cJSON *mx = cJSON_AddArrayToObject(out, "matrix");
	int total = 0, overdue = 0;
	/* the matrix: one entry per territory with counts per grade */
	cJSON *cur = NULL;
	const char *cur_t = NULL;
	int64_t cnt[5][2];
	for (int i = 0; i <= c.r->nrow; i++) {
		const char *t = i < c.r->nrow ? CELL(c.r, i, 3) : NULL;
		if (cur && (!t || strcmp(t, cur_t))) {
			cJSON *g = cJSON_AddObjectToObject(cur, "grades");
			int64_t ta = 0, to = 0;
			for (int k = 0; k < 5; k++) {
				cJSON *e = cJSON_AddObjectToObject(g, k < 4 ? grades[k] : "none");
				cJSON_AddNumberToObject(e, "customers", (double)cnt[k][0]);
				cJSON_AddNumberToObject(e, "overdue", (double)cnt[k][1]);
				ta += cnt[k][0];
				to += cnt[k][1];
			}
			cJSON_AddNumberToObject(cur, "customers", (double)ta);
			cJSON_AddNumberToObject(cur, "overdue", (double)to);
			cJSON_AddItemToArray(mx, cur);
			cur = NULL;
		}
		if (!t)
			break;
		if (!cur) {
			cur = cJSON_CreateObject();
			cJSON_AddStringToObject(cur, "territory", t);
			cur_t = t;
			memset(cnt, 0, sizeof cnt);
		}
		int g = grade_index(CELL(c.r, i, 4));
		if (grade && *grade && strcmp(grade, g < 4 ? grades[g] : "none"))
			continue;
		cnt[g][0]++;
		cnt[g][1] += c.overdue[i];
		total++;
		overdue += c.overdue[i];
		if (!overdue_only || c.overdue[i])
			cJSON_AddItemToArray(arr, cust_json(&c, i));
	}
	cJSON *s = cJSON_AddObjectToObject(out, "summary");
	cJSON_AddNumberToObject(s, "customers", total);
	cJSON_AddNumberToObject(s, "overdue", overdue);
	custs_free(&c);
	return 0;
}

static int build_territories(struct hq *h, struct fieldsync_rows **out)
{
	static const char *const names[] = { "territory", NULL };
	return rows(h, "SELECT territory FROM customer WHERE coalesce(deleted, 0) = 0 UNION"
		    " SELECT territory FROM rep_territories ORDER BY 1", 0, NULL, names, NULL, out);
}

static int build_map(struct hq *h, const char *territory, const char *date, cJSON *out)
{
	struct fieldsync_rows *terrs, *route = NULL, *reps = NULL;
	int rc = build_territories(h, &terrs);
	if (rc)
		return rc;
	cJSON *ta = cJSON_AddArrayToObject(out, "territories");
	for (int i = 0; i < terrs->nrow; i++)
		cJSON_AddItemToArray(ta, cJSON_CreateString(CELL(terrs, i, 0)));
	if (!territory || !*territory)
		territory = terrs->nrow ? CELL(terrs, 0, 0) : "";
	cJSON_AddStringToObject(out, "territory", territory);
	cJSON_AddStringToObject(out, "date", date);
	struct custs c;
	rc = load_customers(h, territory, date, &c);
	static const char *const rn[] = { "id", "customer_id", "status", "planned_time", "route_seq", "purpose", "name",
		"code", "lat", "lon", NULL };
	struct fs_val p[2] = { fs_vref(territory), fs_vref(date) };
	if (rc == 0)
		rc = rows(h, "SELECT v.id, v.customer_id, v.status, v.planned_time, v.route_seq, v.purpose, c.name, c.code,"
			  " c.lat, c.lon FROM visit v JOIN customer c ON c.id = v.customer_id WHERE c.territory = $1"
			  " AND v.planned_date = $2 AND coalesce(v.deleted, 0) = 0 AND coalesce(c.deleted, 0) = 0"
			  " ORDER BY v.route_seq IS NULL, v.route_seq, v.planned_time, c.name, v.id", 2, p, rn, NULL, &route);
	static const char *const pn[] = { "rep", NULL };
	if (rc == 0)
		rc = rows(h, "SELECT rt.rep FROM rep_territories rt JOIN reps r ON r.name = rt.rep WHERE rt.territory = $1"
			  " AND r.revoked = 0 ORDER BY rt.rep", 1, p, pn, NULL, &reps);
	if (rc == 0) {
		cJSON *arr = cJSON_AddArrayToObject(out, "customers");
		int placed = 0, overdue = 0;
		for (int i = 0; i < c.r->nrow; i++) {
			cJSON_AddItemToArray(arr, cust_json(&c, i));
			placed += CELL(c.r, i, 8) && CELL(c.r, i, 9);
			overdue += c.overdue[i];
		}
		cJSON *ra = cJSON_AddArrayToObject(out, "reps");
		for (int i = 0; i < reps->nrow; i++)
			cJSON_AddItemToArray(ra, cJSON_CreateString(CELL(reps, i, 0)));
		cJSON *stops = cJSON_AddArrayToObject(out, "route");
		for (int i = 0; i < route->nrow; i++) {
			cJSON *o = cJSON_CreateObject();
			for (int k = 0; k < 8; k++)
				if (k == 4)
					j_int(o, rn[k], CELL(route, i, k));
				else
					j_str(o, rn[k], CELL(route, i, k));
			j_real(o, "lat", CELL(route, i, 8));
			j_real(o, "lon", CELL(route, i, 9));
			cJSON_AddItemToArray(stops, o);
		}
		cJSON *s = cJSON_AddObjectToObject(out, "summary");
		cJSON_AddNumberToObject(s, "customers", c.r->nrow);
		cJSON_AddNumberToObject(s, "placed", placed);
		cJSON_AddNumberToObject(s, "overdue", overdue);
		cJSON_AddNumberToObject(s, "stops", route->nrow);
	}
	custs_free(&c);
	fs_rows_free(terrs);
	fs_rows_free(route);
	fs_rows_free(reps);
	return rc;
}

static int build_log(struct hq *h, cJSON *out)
{
	struct fieldsync_rows *r;
	static const char *const names[] = { "at", "admin", "kind", "tbl", "rec_id", "target", "decision", "detail",
		NULL };
	int rc = rows(h, "SELECT at, admin, kind, tbl, rec_id, target, decision, detail FROM decisions"
		      " ORDER BY at_ms DESC, id LIMIT 1000", 0, NULL, names, NULL, &r);
	if (rc)
		return rc;
	cJSON *arr = cJSON_AddArrayToObject(out, "rows");
	for (int i = 0; i < r->nrow; i++) {
		cJSON *o = cJSON_CreateObject();
		for (int c = 0; c < 8; c++)
			j_str(o, names[c], CELL(r, i, c));
		cJSON_AddItemToArray(arr, o);
	}
	fs_rows_free(r);
	return 0;
}

static int build_summary(struct hq *h, int64_t now, const char *date, cJSON *out)
{
	cJSON *tmp = cJSON_CreateObject();
	char month[8];
	int64_t pending = 0;
	int rc = build_devices(h, now, tmp);
	if (rc == 0)
		cJSON_AddItemToObject(out, "devices", cJSON_DetachItemFromObject(tmp, "summary"));
	cJSON_Delete(tmp);
	if (rc == 0)
		rc = run(h, "SELECT count(*) FROM quarantine WHERE decision IS NULL", 0, NULL, count_row, &pending);
	if (rc == 0) {
		cJSON *q = cJSON_AddObjectToObject(out, "quarantine");
		cJSON_AddNumberToObject(q, "pending", (double)pending);
	}
	struct fieldsync_rows *k = NULL;
	if (rc == 0 && (rc = hq_conflict_list(h, 0, &k)) == 0) {
		cJSON *o = cJSON_AddObjectToObject(out, "conflicts");
		cJSON_AddNumberToObject(o, "open", k->nrow);
		fs_rows_free(k);
	}
	snprintf(month, sizeof month, "%.7s", date);
	if (rc == 0) {
		tmp = cJSON_CreateObject();
		rc = build_visits(h, month, tmp);
		cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tmp, "total"), "total");
		if (rc == 0 && t) {
			cJSON *o = cJSON_DetachItemViaPointer(cJSON_GetObjectItemCaseSensitive(tmp, "total"), t);
			cJSON_AddStringToObject(o, "month", month);
			cJSON_AddItemToObject(out, "visits", o);
		}
		cJSON_Delete(tmp);
	}
	/* territories: customers, overdue, reps, stops planned for the day */
	struct custs c = { 0 };
	struct fieldsync_rows *terrs = NULL, *reps = NULL, *plan = NULL;
	if (rc == 0)
		rc = load_customers(h, NULL, date, &c);
	if (rc == 0)
		rc = build_territories(h, &terrs);
	static const char *const rn[] = { "territory", "rep", NULL }, *const pn[] = { "territory", "n", NULL };
	if (rc == 0)
		rc = rows(h, "SELECT rt.territory, rt.rep FROM rep_territories rt JOIN reps r ON r.name = rt.rep"
			  " WHERE r.revoked = 0 ORDER BY rt.territory, rt.rep", 0, NULL, rn, NULL, &reps);
	struct fs_val p = fs_vref(date);
	if (rc == 0)
		rc = rows(h, "SELECT c.territory, count(*) FROM visit v JOIN customer c ON c.id = v.customer_id"
			  " WHERE v.planned_date = $1 AND coalesce(v.deleted, 0) = 0 AND coalesce(c.deleted, 0) = 0"
			  " GROUP BY c.territory", 1, &p, pn, NULL, &plan);
	if (rc == 0) {
		cJSON *co = cJSON_AddObjectToObject(out, "customers");
		int ov = 0;
		for (int i = 0; i < c.r->nrow; i++)
			ov += c.overdue[i];
		cJSON_AddNumberToObject(co, "customers", c.r->nrow);
		cJSON_AddNumberToObject(co, "overdue", ov);
		cJSON *ta = cJSON_AddArrayToObject(out, "territories");
		for (int t = 0; t < terrs->nrow; t++) {
			const char *name = CELL(terrs, t, 0);
			int n = 0, o = 0;
			for (int i = 0; i < c.r->nrow; i++)
				if (CELL(c.r, i, 3) && !strcmp(CELL(c.r, i, 3), name)) {
					n++;
					o += c.overdue[i];
				}
			struct fs_buf b;
			fs_buf_init(&b, 0);
			for (int i = 0; i < reps->nrow; i++)
				if (!strcmp(CELL(reps, i, 0), name))
					fs_buf_printf(&b, "%s%s", b.len ? "," : "", CELL(reps, i, 1));
			int64_t planned = 0;
			for (int i = 0; i < plan->nrow; i++)
				if (CELL(plan, i, 0) && !strcmp(CELL(plan, i, 0), name))
					planned = to_int(CELL(plan, i, 1), 0);
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "territory", name);
			cJSON_AddNumberToObject(e, "customers", n);
			cJSON_AddNumberToObject(e, "overdue", o);
			cJSON_AddStringToObject(e, "reps", b.p ? b.p : "");
			cJSON_AddNumberToObject(e, "planned_today", (double)planned);
			cJSON_AddItemToArray(ta, e);
			fs_buf_release(&b);
		}
	}
	custs_free(&c);
	fs_rows_free(terrs);
	fs_rows_free(reps);
	fs_rows_free(plan);
	return rc;
}

/* ---- decisions (POST) ---- */

/* A decision on a quarantined write, in one write transaction: the row
 * found and not yet decided, the record merged when accepted, the decision
 * written and logged. */
struct decide_ctx {
	const struct session *s;
	const cJSON *body;
	const char *dev, *tbl, *rid, *vv;
	int accept;
	char text[200], scope[65];
};

static int decide_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct decide_ctx *x = vctx;
	const struct hq_backend *be = hq_be(h);
	struct fs_buf sql;
	char *rec = NULL, *reason = NULL, *done = NULL, now[32];
	int64_t n = 0;
	int rc;
	fs_buf_init(&sql, 0);
	struct fs_val key[4] = { fs_vref(x->dev), fs_vref(x->tbl), fs_vref(x->rid), fs_vref(x->vv) };
	const char *where = " FROM quarantine WHERE device = $1 AND tbl = $2 AND rec_id = $3 AND vv = $4";
	rc = fs_buf_printf(&sql, "SELECT count(*)%s", where);
	if (rc == 0)
		rc = be->exec(db, sql.p, 4, key, count_row, &n);
	fs_buf_reset(&sql);
	if (rc == 0 && n == 0)
		rc = fs_err(FIELDSYNC_ENOTFOUND, "no such quarantined record");
	if (rc == 0)
		rc = fs_buf_printf(&sql, "SELECT decision%s%s", where, be->for_update);
	if (rc == 0)
		rc = be->exec(db, sql.p, 4, key, text_row, &done);
	if (rc == 0 && done)
		rc = fs_err(FIELDSYNC_ESTATE, "already decided: %s", done);
	fs_buf_reset(&sql);
	if (rc == 0)
		rc = fs_buf_printf(&sql, "SELECT record%s", where);
	if (rc == 0)
		rc = be->exec(db, sql.p, 4, key, text_row, &rec);
	fs_buf_reset(&sql);
	if (rc == 0)
		rc = fs_buf_printf(&sql, "SELECT reason%s", where);
	if (rc == 0)
		rc = be->exec(db, sql.p, 4, key, text_row, &reason);
	if (rc == 0 && x->accept) {
		cJSON *j = rec ? cJSON_Parse(rec) : NULL;
		struct fs_rec in;
		rc = j ? fs_wire_rec_decode(j, &in) : fs_err(FIELDSYNC_EIO, "quarantined record is unreadable");
		int decoded = j && rc == 0;
		cJSON_Delete(j);
		if (rc == 0 && (in.t != fs_table_find(x->tbl) || strcmp(in.id, x->rid)))
			rc = fs_err(FIELDSYNC_EIO, "quarantined record does not match its key");
		if (rc == 0)
			rc = hq_accept_locked(h, db, x->dev, &in, fs_wire_str(x->body, "territory"), x->scope);
		if (decoded)
			fs_rec_release(&in);
	}
	fs_iso_utc(fs_wall_ms(), now);
	snprintf(x->text, sizeof x->text, "%s by %s at %s", x->accept ? "accepted" : "discarded", x->s->admin, now);
	struct fs_val up[5] = { fs_vref(x->text), key[0], key[1], key[2], key[3] };
	if (rc == 0)
		rc = be->exec(db, "UPDATE quarantine SET decision = $1 WHERE device = $2 AND tbl = $3 AND rec_id = $4"
			      " AND vv = $5", 5, up, NULL, NULL);
	if (rc == 0)
		rc = log_decision(h, db, x->s->admin, "quarantine", x->tbl, x->rid, x->dev,
				  x->accept ? "accepted" : "discarded", reason);
	fs_buf_release(&sql);
	free(rec);
	free(reason);
	free(done);
	return rc;
}

static void do_decide(struct hq *h, const struct session *s, const cJSON *body, struct hq_response *r)
{
	struct decide_ctx x = { s, body, fs_wire_str(body, "device"), fs_wire_str(body, "tbl"),
				fs_wire_str(body, "rec_id"), fs_wire_str(body, "vv"), 0, "", "" };
	const char *dec = fs_wire_str(body, "decision");
	x.accept = dec && !strcmp(dec, "accept");
	if (!x.dev || !x.tbl || !x.rid || !x.vv || !dec || (!x.accept && strcmp(dec, "discard"))) {
		hq_response_error(r, 400, "bad_request", "need device, tbl, rec_id, vv and decision accept|discard");
		return;
	}
	int rc = hq_txn(h, HQ_TXN_WRITE, decide_tx, &x);
	if (rc == FIELDSYNC_EINVAL) {
		hq_response_error(r, 409, "cannot_accept", "%s", fs_errmsg_get());
		return;
	}
	if (rc) {
		hq_reply_rc(r, rc, "decision");
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(o, "decision", x.text);
	if (x.accept)
		cJSON_AddStringToObject(o, "territory", x.scope);
	hq_reply_json(r, 200, o);
}

/* One decision logged in its own transaction (after the write it names). */
struct log_ctx {
	const char *admin, *what, *tbl, *rec, *id, *decision, *detail;
};

static int log_tx(struct hq *h, struct hq_db *db, void *vctx)
{
	struct log_ctx *x = vctx;
	return log_decision(h, db, x->admin, x->what, x->tbl, x->rec, x->id, x->decision, x->detail);
}

static void do_resolve(struct hq *h, const struct session *s, const cJSON *body, struct hq_response *r)
{
	const char *id = fs_wire_str(body, "id"), *keep = fs_wire_str(body, "keep");
	int loser;
	if (!id || !fs_is_id(id) || !keep) {
		hq_response_error(r, 400, "bad_request", "need the conflict id and keep: current|other");
		return;
	}
	if (!strcmp(keep, "current") || !strcmp(keep, "winner"))
		loser = 0;
	else if (!strcmp(keep, "other") || !strcmp(keep, "loser"))
		loser = 1;
	else {
		hq_response_error(r, 400, "bad_request", "keep: current or other");
		return;
	}
	/* what is decided, for the log: read before the write */
	struct fieldsync_rows *k = NULL;
	char detail[600] = "", tbl[40] = "", rec[40] = "";
	if (hq_conflict_list(h, 1, &k) == 0) {
		for (int i = 0; i < k->nrow; i++)
			if (!strcmp(CELL(k, i, 0), id)) {
				const char *v = CELL(k, i, loser ? 5 : 4);
				snprintf(detail, sizeof detail, "%s: kept %.500s", CELL(k, i, 3) ? CELL(k, i, 3) : "?",
					 v ? v : "(empty)");
				snprintf(tbl, sizeof tbl, "%s", CELL(k, i, 1) ? CELL(k, i, 1) : "");
				snprintf(rec, sizeof rec, "%s", CELL(k, i, 2) ? CELL(k, i, 2) : "");
			}
		fs_rows_free(k);
	}
	int rc = hq_resolve(h, id, loser);
	if (rc) {
		hq_reply_rc(r, rc, "resolve");
		return;
	}
	struct log_ctx lx = { s->admin, "conflict", tbl, rec, id, loser ? "kept other" : "kept current", detail };
	int logged = hq_txn(h, HQ_TXN_WRITE, log_tx, &lx) == 0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(o, "resolved", id);
	cJSON_AddStringToObject(o, "kept", loser ? "other" : "current");
	cJSON_AddBoolToObject(o, "logged", logged);
	hq_reply_json(r, 200, o);
}

/* ---- the router ---- */

static const char *const pages[] = { "", "devices", "quarantine", "conflicts", "visits", "customers", "map", "log",
	NULL };

static int is_page(const char *p)
{
	for (int i = 0; pages[i]; i++)
		if (!strcmp(p, pages[i]))
			return 1;
	return 0;
}

static void api_get(struct hq *h, const struct hq_request *req, const struct session *s, const char *what,
		    struct hq_response *r)
{
	char date[16], today[11], arg[80], arg2[16];
	int64_t now = fs_wall_ms();
	int rc;
	fs_today_local(today);
	if (!query_get(req, "date", date, sizeof date) || !*date)
		snprintf(date, sizeof date, "%s", today);
	int64_t dd;
	if (days_of(date, &dd)) {
		hq_response_error(r, 400, "bad_request", "date: '%.16s' is not YYYY-MM-DD", date);
		return;
	}
	cJSON *out = cJSON_CreateObject();
	char ts[32];
	fs_iso_utc(now, ts);
	cJSON_AddStringToObject(out, "now", ts);
	if (!strcmp(what, "me")) {
		cJSON_AddStringToObject(out, "admin", s->admin);
		cJSON_AddStringToObject(out, "csrf", s->csrf);
		cJSON_AddStringToObject(out, "hq_id", hq_replica_id(h));
		cJSON_AddStringToObject(out, "version", FIELDSYNC_VERSION);
		cJSON_AddStringToObject(out, "today", today);
		rc = 0;
	} else if (!strcmp(what, "summary")) {
		cJSON_AddStringToObject(out, "date", date);
		rc = build_summary(h, now, date, out);
	} else if (!strcmp(what, "devices")) {
		rc = build_devices(h, now, out);
	} else if (!strcmp(what, "quarantine")) {
		rc = build_quarantine(h, out);
	} else if (!strcmp(what, "conflicts")) {
		int all = query_get(req, "all", arg2, sizeof arg2) && !strcmp(arg2, "1");
		rc = build_conflicts(h, all, out);
	} else if (!strcmp(what, "visits")) {
		char month[16];
		if (!query_get(req, "month", month, sizeof month) || !*month)
			snprintf(month, sizeof month, "%.7s", date);
		rc = build_visits(h, month, out);
	} else if (!strcmp(what, "customers")) {
		char grade[8] = "";
		if (!query_get(req, "territory", arg, sizeof arg))
			arg[0] = '\0';
		if (!query_get(req, "grade", grade, sizeof grade))
			grade[0] = '\0';
		int od = query_get(req, "overdue", arg2, sizeof arg2) && !strcmp(arg2, "1");
		rc = build_customers(h, arg, grade, od, date, out);
	} else if (!strcmp(what, "map")) {
		if (!query_get(req, "territory", arg, sizeof arg))
			arg[0] = '\0';
		rc = build_map(h, arg, date, out);
	} else if (!strcmp(what, "log")) {
		rc = build_log(h, out);
	} else if (!strcmp(what, "health")) {
		hq_health_details(h, out);
		rc = 0;
	} else {
		cJSON_Delete(out);
		hq_response_error(r, 404, "not_found", "no such API");
		return;
	}
	if (rc) {
		cJSON_Delete(out);
		hq_reply_rc(r, rc, what);
		return;
	}
	hq_reply_json(r, 200, out);
}

/* The session's CSRF token in X-CSRF-Token? */
static int csrf_ok(const struct hq_request *req, const struct session *s)
{
	return req->csrf && strlen(req->csrf) == 64 && sodium_memcmp(req->csrf, s->csrf, 64) == 0;
}

int hq_web_admit(struct hq *h, const struct hq_request *req, struct hq_admission *adm, struct hq_response *r)
{
	int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"), post = !strcmp(req->method, "POST");
	struct session s;
	if (req->token) {
		hq_response_error(r, 401, "device_token", "device tokens cannot open the admin pages");
		return 1;
	}
	if (get) {
		adm->max_body = adm->max_inflated = 0;
		return 0;
	}
	if (!post) {
		hq_response_error(r, 405, "method_not_allowed", "use GET or POST");
		return 1;
	}
	if (!strcmp(req->path, "/admin/login")) {
		adm->max_body = adm->max_inflated = HQ_LOGIN_MAX_BODY;
		return 0;
	}
	/* every other POST changes something: only a session, with its CSRF
	 * token, gets its body read */
	int rc = session_get(h, req, &s);
	if (rc < 0) {
		hq_reply_rc(r, rc, "session");
		return 1;
	}
	if (rc == 0) {
		hq_response_error(r, 401, "login_required", "log in at /admin/login");
		return 1;
	}
	if (!csrf_ok(req, &s)) {
		hq_response_error(r, 403, "csrf", "missing or wrong X-CSRF-Token");
		return 1;
	}
	adm->max_body = adm->max_inflated = HQ_ADMIN_MAX_BODY;
	return 0;
}

int hq_web_handle(struct hq *h, const struct hq_request *req, struct hq_response *r)
{
	const char *path = req->path, *sub;
	int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"), post = !strcmp(req->method, "POST");
	struct session s;

	/* device tokens never open the dashboard, whatever else comes along */
	if (req->token) {
		hq_response_error(r, 401, "device_token", "device tokens cannot open the admin pages");
		return 0;
	}
	if (!strcmp(path, "/admin")) {
		redirect(r, 302, "/admin/");
		return 0;
	}
	sub = path + 7;	/* after "/admin/" */
	if (!strncmp(sub, "static/", 7)) {
		if (!get)
			hq_response_error(r, 405, "method_not_allowed", "use GET");
		else
			reply_asset(r, sub + 7);
		return 0;
	}
	if (!strcmp(sub, "login")) {
		if (post)
			do_login(h, req, r);
		else if (get)
			login_page(req, r, 200, NULL);
		else
			hq_response_error(r, 405, "method_not_allowed", "use GET or POST");
		return 0;
	}
	int api = !strncmp(sub, "api/", 4);
	if (!api && !is_page(sub) && strcmp(sub, "logout")) {
		hq_response_error(r, 404, "not_found", "no such page");
		return 0;
	}
	int rc = session_get(h, req, &s);
	if (rc < 0) {
		hq_reply_rc(r, rc, "session");
		return 0;
	}
	if (rc == 0) {
		if (api || post)
			hq_response_error(r, 401, "login_required", "log in at /admin/login");
		else
			redirect(r, 302, "/admin/login");
		return 0;
	}
	if (post) {
		/* every state-changing request carries the session's CSRF token */
		if (!csrf_ok(req, &s)) {
			hq_response_error(r, 403, "csrf", "missing or wrong X-CSRF-Token");
			return 0;
		}
		if (!strcmp(sub, "logout")) {
			do_logout(h, req, &s, r);
			return 0;
		}
		int decide = !strcmp(sub, "api/quarantine/decide"), resolve = !strcmp(sub, "api/conflicts/resolve");
		if (!decide && !resolve) {
			hq_response_error(r, api ? 404 : 405, api ? "not_found" : "method_not_allowed", "no such action");
			return 0;
		}
		const char *code;
		cJSON *body = fs_wire_parse(req->body, req->body_len, FS_WIRE_MAX_DEPTH, &code);
		if (!body) {
			hq_response_error(r, 400, code, "%s", fs_errmsg_get());
			return 0;
		}
		if (decide)
			do_decide(h, &s, body, r);
		else
			do_resolve(h, &s, body, r);
		cJSON_Delete(body);
		return 0;
	}
	if (!get) {
		hq_response_error(r, 405, "method_not_allowed", "use GET");
		return 0;
	}
	if (api)
		api_get(h, req, &s, sub + 4, r);
	else if (!strcmp(sub, "logout"))
		hq_response_error(r, 405, "method_not_allowed", "use POST");
	else
		reply_asset(r, "index.html");
	return 0;
}
