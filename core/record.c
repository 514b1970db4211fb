/* record.c - values, version vectors, dots, HLC, records and their store encodings. */
#include "record.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "util.h"

/* ---- replica ids ---- */

int fs_rid_parse(const char *hex, struct fs_rid *out)
{
	if (!fs_is_id(hex) || fs_unhex(hex, 32, out->b))
		return FIELDSYNC_EINVAL;
	return 0;
}

void fs_rid_fmt(const struct fs_rid *r, char out[33])
{
	fs_hex(r->b, 16, out);
}

int fs_rid_cmp(const struct fs_rid *a, const struct fs_rid *b)
{
	return memcmp(a->b, b->b, 16);
}

/* ---- values ---- */

void fs_val_release(struct fs_val *v)
{
	free(v->s);
	memset(v, 0, sizeof *v);
}

void fs_val_set_null(struct fs_val *v)
{
	fs_val_release(v);
}

void fs_val_set_int(struct fs_val *v, int64_t i)
{
	fs_val_release(v);
	v->t = FS_V_INT;
	v->i = i;
}

void fs_val_set_real(struct fs_val *v, double r)
{
	fs_val_release(v);
	v->t = FS_V_REAL;
	v->r = r;
}

int fs_val_set_text(struct fs_val *v, const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	memcpy(p, s, n);
	p[n] = '\0';
	fs_val_release(v);
	v->t = FS_V_TEXT;
	v->s = p;
	return 0;
}

int fs_val_copy(struct fs_val *dst, const struct fs_val *src)
{
	if (src->t == FS_V_TEXT)
		return fs_val_set_text(dst, src->s, strlen(src->s));
	fs_val_release(dst);
	*dst = *src;
	dst->s = NULL;
	return 0;
}

int fs_val_eq(const struct fs_val *a, const struct fs_val *b)
{
	if (a->t != b->t)
		return 0;
	switch (a->t) {
	case FS_V_NULL: return 1;
	case FS_V_INT: return a->i == b->i;
	case FS_V_REAL: return memcmp(&a->r, &b->r, sizeof a->r) == 0;
	case FS_V_TEXT: return strcmp(a->s, b->s) == 0;
	}
	return 0;
}

char *fs_val_canon(const struct fs_val *v)
{
	char buf[64];
	switch (v->t) {
	case FS_V_INT:
		snprintf(buf, sizeof buf, "%" PRId64, v->i);
		return strdup(buf);
	case FS_V_REAL:
		snprintf(buf, sizeof buf, "%.17g", v->r);
		return strdup(buf);
	case FS_V_TEXT:
		return strdup(v->s);
	}
	return NULL;
}

static int bad(const struct fs_field *f, const char *text, const char *why)
{
	return fs_err(FIELDSYNC_EINVAL, "%s: '%.80s' %s", f->name, text, why);
}

int fs_field_parse(const struct fs_field *f, const char *text, int mode, struct fs_val *out)
{
	size_t n = strlen(text);
	int64_t i;
	double d;
	int y, m, dd, h, mi;
	char buf[32];

	if (!fs_utf8_valid(text, n))
		return fs_err(FIELDSYNC_EINVAL, "%s: value is not valid UTF-8", f->name);
	switch (f->type) {
	case FS_T_TEXT:
		if ((int64_t)n > f->max)
			return fs_err(FIELDSYNC_EINVAL, "%s: value is %zu bytes, the limit is %" PRId64,
				      f->name, n, f->max);
		return fs_val_set_text(out, text, n);
	case FS_T_INT:
	case FS_T_BOOL:
		if (f->type == FS_T_BOOL && mode == FS_PARSE_USER) {
			if (!strcmp(text, "yes") || !strcmp(text, "true")) text = "1";
			else if (!strcmp(text, "no") || !strcmp(text, "false")) text = "0";
		}
		if (fs_parse_int(text, &i))
			return bad(f, text, "is not a whole number");
		if (f->type == FS_T_BOOL ? (i != 0 && i != 1) : (i < f->min || i > f->max)) {
			if (f->type == FS_T_BOOL)
				return bad(f, text, "is not 0 or 1");
			return fs_err(FIELDSYNC_EINVAL, "%s: %" PRId64 " is outside [%" PRId64 ", %" PRId64 "]",
				      f->name, i, f->min, f->max);
		}
		fs_val_set_int(out, i);
		return 0;
	case FS_T_MONEY:
		if (mode == FS_PARSE_USER) {
			int rc = fs_parse_money(text, &i);
			if (rc == FIELDSYNC_ELIMIT)
				return bad(f, text, "is beyond 2^53 minor units");
			if (rc)
				return bad(f, text, "is not an amount (e.g. 1250 or 1250.50, not negative)");
		} else {
			if (fs_parse_int(text, &i))
				return bad(f, text, "is not a whole number of minor units");
		}
		if (i < 0)
			return bad(f, text, "is negative");
		if (i > FS_INT_MAX_EXACT)
			return bad(f, text, "is beyond 2^53 minor units");
		fs_val_set_int(out, i);
		return 0;
	case FS_T_DATE:
		if (mode == FS_PARSE_USER && strcmp(text, "today") == 0) {
			fs_today_local(buf);
			return fs_val_set_text(out, buf, 10);
		}
		if (fs_parse_date(text, &y, &m, &dd))
			return bad(f, text, "is not a date YYYY-MM-DD");
		return fs_val_set_text(out, text, n);
	case FS_T_TIME:
		if (fs_parse_hhmm(text, &h, &mi))
			return bad(f, text, "is not a time HH:MM");
		return fs_val_set_text(out, text, n);
	case FS_T_DATETIME: {
		int64_t ms;
		if (mode == FS_PARSE_USER && strcmp(text, "now") == 0)
			ms = fs_wall_ms();
		else if (fs_parse_datetime(text, &ms))
			return bad(f, text, "is not a date-time YYYY-MM-DDTHH:MM[:SS][Z]");
		if (mode != FS_PARSE_USER && text[n - 1] != 'Z')
			return bad(f, text, "is not a UTC date-time");
		fs_iso_utc(ms, buf);
		return fs_val_set_text(out, buf, strlen(buf));
	}
	case FS_T_LAT:
	case FS_T_LON: {
		double lim = f->type == FS_T_LAT ? 90 : 180;
		if (fs_parse_double(text, &d))
			return bad(f, text, "is not a number");
		if (d < -lim || d > lim)
			return fs_err(FIELDSYNC_EINVAL, "%s: %s is outside [-%g, %g]", f->name, text, lim, lim);
		fs_val_set_real(out, d);
		return 0;
	}
	case FS_T_ENUM: {
		const char *w = fs_enum_match(f, text);
		if (!w || (mode != FS_PARSE_USER && strcmp(w, text) != 0)) {
			char list[256];
			fs_enum_list(f, list, sizeof list);
			return fs_err(FIELDSYNC_EINVAL, "%s: '%.80s' is not one of %s", f->name, text, list);
		}
		return fs_val_set_text(out, w, strlen(w));
	}
	case FS_T_REF:
		if (!fs_is_id(text))
			return bad(f, text, "is not a record id");
		return fs_val_set_text(out, text, n);
	}
	return bad(f, text, "has an unknown type");
}

int fs_field_check(const struct fs_field *f, const struct fs_val *v)
{
	if (v->t == FS_V_NULL)
		return 0;
	switch (f->type) {
	case FS_T_INT: case FS_T_BOOL: case FS_T_MONEY:
		if (v->t != FS_V_INT)
			return fs_err(FIELDSYNC_EINVAL, "%s: expected an integer", f->name);
		break;
	case FS_T_LAT: case FS_T_LON:
		if (v->t == FS_V_INT) /* 0 or 55 on the wire is fine */
			break;
		if (v->t != FS_V_REAL || !isfinite(v->r))
			return fs_err(FIELDSYNC_EINVAL, "%s: expected a number", f->name);
		break;
	default:
		if (v->t != FS_V_TEXT)
			return fs_err(FIELDSYNC_EINVAL, "%s: expected a string", f->name);
	}
	/* Re-run the canonical parser on the canonical text: one set of rules. */
	char *c = fs_val_canon(v);
	if (!c)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	struct fs_val tmp = { 0 };
	int rc = fs_field_parse(f, c, 0, &tmp);
	if (rc == 0 && tmp.t == FS_V_TEXT && strcmp(tmp.s, c) != 0)
		rc = fs_err(FIELDSYNC_EINVAL, "%s: '%.80s' is not in canonical form", f->name, c);
	fs_val_release(&tmp);
	free(c);
	return rc;
}

/* ---- dots ---- */

int fs_dot_cmp(const struct fs_dot *a, const struct fs_dot *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	int r = fs_rid_cmp(&a->rid, &b->rid);
	if (r)
		return r < 0 ? -1 : 1;
	if (a->c != b->c)
		return a->c < b->c ? -1 : 1;
	return 0;
}

int fs_dot_same(const struct fs_dot *a, const struct fs_dot *b)
{
	return a->c == b->c && fs_rid_cmp(&a->rid, &b->rid) == 0;
}

void fs_dot_fmt(const struct fs_dot *d, char out[80])
{
	char r[33];
	fs_rid_fmt(&d->rid, r);
	snprintf(out, 80, "%s:%" PRId64 ":%" PRId64, r, d->c, d->hlc);
}

int fs_dot_parse(const char *s, struct fs_dot *out)
{
	char r[33];
	if (strlen(s) < 36 || s[32] != ':')
		return FIELDSYNC_EINVAL;
	memcpy(r, s, 32);
	r[32] = '\0';
	if (fs_rid_parse(r, &out->rid))
		return FIELDSYNC_EINVAL;
	char *e;
	long long c = strtoll(s + 33, &e, 10);
	if (*e != ':' || c <= 0)
		return FIELDSYNC_EINVAL;
	long long h = strtoll(e + 1, &e, 10);
	if (*e || h < 0 || h > FS_HLC_MAX)
		return FIELDSYNC_EINVAL;
	out->c = c;
	out->hlc = h;
	return 0;
}

/* ---- version vectors ---- */

void fs_vv_release(struct fs_vv *v)
{
	free(v->e);
	memset(v, 0, sizeof *v);
}

int fs_vv_copy(struct fs_vv *dst, const struct fs_vv *src)
{
	if (dst == src)
		return 0;
	if (dst->cap < src->n) {
		struct fs_vv_ent *e = realloc(dst->e, (size_t)src->n * sizeof *e);
		if (!e)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		dst->e = e;
		dst->cap = src->n;
	}
	if (src->n)
		memcpy(dst->e, src->e, (size_t)src->n * sizeof *src->e);
	dst->n = src->n;
	return 0;
}

int fs_vv_find(const struct fs_vv *v, const struct fs_rid *r)
{
	int lo = 0, hi = v->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int c = fs_rid_cmp(&v->e[mid].rid, r);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int64_t fs_vv_get(const struct fs_vv *v, const struct fs_rid *r)
{
	int i = fs_vv_find(v, r);
	return i < 0 ? 0 : v->e[i].c;
}

int fs_vv_set(struct fs_vv *v, const struct fs_rid *r, int64_t c)
{
	int i = fs_vv_find(v, r);
	if (i >= 0) {
		v->e[i].c = c;
		return 0;
	}
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 4;
		struct fs_vv_ent *e = realloc(v->e, (size_t)cap * sizeof *e);
		if (!e)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		v->e = e;
		v->cap = cap;
	}
	i = v->n;
	while (i > 0 && fs_rid_cmp(&v->e[i - 1].rid, r) > 0) {
		v->e[i] = v->e[i - 1];
		i--;
	}
	v->e[i].rid = *r;
	v->e[i].c = c;
	v->n++;
	return 0;
}

int fs_vv_cmp(const struct fs_vv *a, const struct fs_vv *b)
{
	int agt = 0, bgt = 0, i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int c = i >= a->n ? 1 : j >= b->n ? -1 : fs_rid_cmp(&a->e[i].rid, &b->e[j].rid);
		if (c < 0) {
			if (a->e[i].c > 0)
				agt = 1;
			i++;
		} else if (c > 0) {
			if (b->e[j].c > 0)
				bgt = 1;
			j++;
		} else {
			if (a->e[i].c > b->e[j].c)
				agt = 1;
			else if (a->e[i].c < b->e[j].c)
				bgt = 1;
			i++, j++;
		}
	}
	if (agt && bgt)
		return FS_VV_CONCURRENT;
	return agt ? FS_VV_A_NEWER : bgt ? FS_VV_B_NEWER : FS_VV_EQUAL;
}

int fs_vv_covers(const struct fs_vv *v, const struct fs_dot *d)
{
	return fs_vv_get(v, &d->rid) >= d->c;
}

int fs_vv_merge(struct fs_vv *dst, const struct fs_vv *a, const struct fs_vv *b)
{
	struct fs_vv out = { 0 };
	int i = 0, j = 0;
	out.cap = a->n + b->n;
	if (out.cap) {
		out.e = malloc((size_t)out.cap * sizeof *out.e);
		if (!out.e)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	while (i < a->n || j < b->n) {
		int c = i >= a->n ? 1 : j >= b->n ? -1 : fs_rid_cmp(&a->e[i].rid, &b->e[j].rid);
		if (c < 0)
			out.e[out.n++] = a->e[i++];
		else if (c > 0)
			out.e[out.n++] = b->e[j++];
		else {
			out.e[out.n] = a->e[i];
			if (b->e[j].c > out.e[out.n].c)
				out.e[out.n].c = b->e[j].c;
			out.n++, i++, j++;
		}
	}
	fs_vv_release(dst);
	*dst = out;
	return 0;
}

/* ---- HLC ---- */

int64_t fs_hlc_next(int64_t last)
{
	int64_t wall = fs_wall_ms() * 1024;
	int64_t n = last + 1;
	return wall > n ? wall : n;
}

int64_t fs_hlc_ms(int64_t hlc)
{
	return hlc / 1024;
}

int64_t fs_hlc_limit(int64_t wall_ms, int64_t ahead_minutes)
{
	if (ahead_minutes < FS_CLOCK_AHEAD_MIN || ahead_minutes > FS_CLOCK_AHEAD_MAX)
		ahead_minutes = FS_CLOCK_AHEAD_DEFAULT;
	int64_t lim = (wall_ms + ahead_minutes * 60000) * 1024 + 1023;
	return lim < FS_HLC_MAX ? lim : FS_HLC_MAX;
}

/* ---- records ---- */

void fs_rec_init(struct fs_rec *r, const struct fs_table *t)
{
	memset(r, 0, sizeof *r);
	r->t = t;
}

static void fstate_release(struct fs_fstate *f)
{
	fs_val_release(&f->v);
	for (int k = 0; k < f->nsib; k++)
		fs_val_release(&f->sib[k].v);
	free(f->sib);
	memset(f, 0, sizeof *f);
}

void fs_rec_release(struct fs_rec *r)
{
	if (!r->t)
		return;
	for (int i = 0; i < r->t->nfields; i++)
		fstate_release(&r->f[i]);
	fs_vv_release(&r->vv);
}

static int fstate_copy(struct fs_fstate *d, const struct fs_fstate *s)
{
	fstate_release(d);
	d->dot = s->dot;
	if (fs_val_copy(&d->v, &s->v))
		return FIELDSYNC_ENOMEM;
	if (s->nsib) {
		d->sib = calloc((size_t)s->nsib, sizeof *d->sib);
		if (!d->sib)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		for (int k = 0; k < s->nsib; k++) {
			d->sib[k].dot = s->sib[k].dot;
			d->nsib++;
			if (fs_val_copy(&d->sib[k].v, &s->sib[k].v))
				return FIELDSYNC_ENOMEM;
		}
	}
	return 0;
}

int fs_rec_copy(struct fs_rec *dst, const struct fs_rec *src)
{
	if (dst == src)
		return 0;
	fs_rec_release(dst);
	fs_rec_init(dst, src->t);
	memcpy(dst->id, src->id, sizeof dst->id);
	memcpy(dst->scope, src->scope, sizeof dst->scope);
	dst->hlc = src->hlc;
	int rc = fs_vv_copy(&dst->vv, &src->vv);
	for (int i = 0; rc == 0 && i < src->t->nfields; i++)
		rc = fstate_copy(&dst->f[i], &src->f[i]);
	return rc;
}

int fs_rec_keep_unknown(struct fs_rec *merged, const struct fs_rec *old, int schema)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < merged->t->nfields; i++)
		if (merged->t->fields[i].since > schema) {
			fstate_release(&merged->f[i]);
			memset(&merged->f[i], 0, sizeof merged->f[i]);
			if (old)
				rc = fstate_copy(&merged->f[i], &old->f[i]);
		}
	return rc;
}

int fs_rec_deleted(const struct fs_rec *r)
{
	int d = r->t->deleted_field;
	return d >= 0 && r->f[d].v.t == FS_V_INT && r->f[d].v.i != 0;
}

int fs_rec_same(const struct fs_rec *a, const struct fs_rec *b)
{
	if (a->t != b->t || strcmp(a->id, b->id) || fs_vv_cmp(&a->vv, &b->vv) != FS_VV_EQUAL)
		return 0;
	for (int i = 0; i < a->t->nfields; i++) {
		const struct fs_fstate *x = &a->f[i], *y = &b->f[i];
		if (x->dot.c != y->dot.c || (x->dot.c && !fs_dot_same(&x->dot, &y->dot)) ||
		    !fs_val_eq(&x->v, &y->v) || x->nsib != y->nsib)
			return 0;
		for (int k = 0; k < x->nsib; k++)
			if (!fs_dot_same(&x->sib[k].dot, &y->sib[k].dot))
				return 0;
	}
	return 1;
}

/* ---- change sets and local writes ---- */

void fs_chg_init(struct fs_chg *c, const struct fs_table *t)
{
	memset(c, 0, sizeof *c);
	c->t = t;
}

void fs_chg_release(struct fs_chg *c)
{
	for (int i = 0; i < FS_MAX_FIELDS; i++)
		fs_val_release(&c->v[i]);
	memset(c->set, 0, sizeof c->set);
}

int fs_chg_set(struct fs_chg *c, int field, const struct fs_val *v)
{
	if (field < 0 || field >= c->t->nfields)
		return fs_err(FIELDSYNC_EINVAL, "field index out of range");
	int rc = fs_val_copy(&c->v[field], v);
	if (rc == 0)
		c->set[field] = 1;
	return rc;
}

int fs_chg_count(const struct fs_chg *c)
{
	int n = 0;
	for (int i = 0; i < c->t->nfields; i++)
		n += c->set[i];
	return n;
}

/* A visit cannot end before it began: check_out, as written or as stored,
 * is not before check_in (both canonical UTC text, so they compare as
 * strings). */
static int visit_order(const struct fs_chg *c, const struct fs_rec *existing)
{
	if (strcmp(c->t->name, "visit"))
		return 0;
	int ci = fs_field_find(c->t, "check_in"), co = fs_field_find(c->t, "check_out");
	if (ci < 0 || co < 0)
		return 0;
	const struct fs_val *in = c->set[ci] ? &c->v[ci] : existing ? &existing->f[ci].v : NULL;
	const struct fs_val *out = c->set[co] ? &c->v[co] : existing ? &existing->f[co].v : NULL;
	if (in && out && in->t == FS_V_TEXT && out->t == FS_V_TEXT && strcmp(out->s, in->s) < 0)
		return fs_err(FIELDSYNC_EINVAL, "check_out: %s is before check_in %s", out->s, in->s);
	return 0;
}

int fs_chg_validate(const struct fs_chg *c, const struct fs_rec *existing)
{
	const struct fs_table *t = c->t;
	for (int i = 0; i < t->nfields; i++) {
		const struct fs_field *f = &t->fields[i];
		int null = !c->set[i] || c->v[i].t == FS_V_NULL;
		if (!existing) {
			if ((f->flags & FS_F_REQUIRED) && null)
				return fs_err(FIELDSYNC_EINVAL, "%s: required for a new %s", f->name, t->name);
			continue;
		}
		if (!c->set[i])
			continue;
		if ((f->flags & FS_F_IMMUTABLE) && !fs_val_eq(&c->v[i], &existing->f[i].v))
			return fs_err(FIELDSYNC_EINVAL, "%s: cannot be changed once set", f->name);
		if ((f->flags & FS_F_REQUIRED) && null)
			return fs_err(FIELDSYNC_EINVAL, "%s: cannot be cleared", f->name);
	}
	return visit_order(c, existing);
}

int fs_rec_write(struct fs_rec *r, const struct fs_chg *c, const struct fs_rid *self, int64_t hlc)
{
	int changed[FS_MAX_FIELDS], n = 0;
	for (int i = 0; i < r->t->nfields; i++) {
		if (!c->set[i])
			continue;
		const struct fs_fstate *f = &r->f[i];
		/* writing NULL over a never-written field changes nothing */
		if (f->dot.c == 0 && c->v[i].t == FS_V_NULL)
			continue;
		if (f->dot.c && f->nsib == 0 && fs_val_eq(&f->v, &c->v[i]))
			continue;
		changed[n++] = i;
	}
	if (n == 0)
		return 0;
	int64_t cnt = fs_vv_get(&r->vv, self) + 1;
	if (fs_vv_set(&r->vv, self, cnt))
		return FIELDSYNC_ENOMEM;
	struct fs_dot dot = { *self, cnt, hlc };
	for (int k = 0; k < n; k++) {
		struct fs_fstate *f = &r->f[changed[k]];
		struct fs_val v = { 0 };
		if (fs_val_copy(&v, &c->v[changed[k]]))
			return FIELDSYNC_ENOMEM;
		fstate_release(f);	/* the new dot covers every sibling */
		f->v = v;
		f->dot = dot;
	}
	if (hlc > r->hlc)
		r->hlc = hlc;
	return n;
}

int64_t fs_rec_max_hlc(const struct fs_rec *r)
{
	int64_t m = r->hlc;
	for (int i = 0; i < r->t->nfields; i++) {
		const struct fs_fstate *f = &r->f[i];
		if (f->dot.c && f->dot.hlc > m)
			m = f->dot.hlc;
		for (int k = 0; k < f->nsib; k++)
			if (f->sib[k].dot.hlc > m)
				m = f->sib[k].dot.hlc;
	}
	return m;
}

int fs_rec_restamp(struct fs_rec *r, int64_t limit, const struct fs_rid *self, int64_t hlc)
{
	int n = 0, newest = -1;
	int64_t cnt = fs_vv_get(&r->vv, self) + 1;
	struct fs_dot dot = { *self, cnt, hlc };
	unsigned char bad[FS_MAX_FIELDS] = { 0 };
	for (int i = 0; i < r->t->nfields; i++) {
		struct fs_fstate *f = &r->f[i];
		bad[i] = f->dot.c && f->dot.hlc > limit;
		for (int k = 0; k < f->nsib; k++)
			bad[i] |= f->sib[k].dot.hlc > limit;
		n += bad[i];
		if (f->dot.c && (newest < 0 || fs_dot_cmp(&f->dot, &r->f[newest].dot) > 0))
			newest = i;
	}
	/* only the record's own hlc is beyond (its newest write was since
	 * overwritten by an earlier-stamped one): a new version all the same,
	 * so that every replica takes the lowered hlc */
	if (n == 0 && r->hlc > limit && newest >= 0)
		bad[newest] = 1;
	n = 0;
	for (int i = 0; i < r->t->nfields; i++) {
		struct fs_fstate *f = &r->f[i];
		if (!bad[i])
			continue;
		for (int k = 0; k < f->nsib; k++)
			fs_val_release(&f->sib[k].v);
		free(f->sib);
		f->sib = NULL;
		f->nsib = 0;
		f->dot = dot;
		n++;
	}
	if (n && fs_vv_set(&r->vv, self, cnt))
		return FIELDSYNC_ENOMEM;
	if (n) {
		r->hlc = 0;
		r->hlc = fs_rec_max_hlc(r);
	}
	return n;
}

int fs_rec_clashes(const struct fs_rec *r, fs_clash_fn fn, void *ctx)
{
	if (r->t->flags & FS_TBL_NO_CONFLICT_ROWS)
		return 0;
	for (int i = 0; i < r->t->nfields; i++) {
		const struct fs_fstate *f = &r->f[i];
		for (int k = 0; k < f->nsib; k++) {
			if (fs_val_eq(&f->sib[k].v, &f->v))
				continue;
			int rc = fn(ctx, r, i, &f->sib[k]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int fs_conflict_build(const struct fs_rec *r, int field, const struct fs_sib *loser,
		      struct fs_chg *c, char id[33])
{
	const struct fs_table *t = &fs_tbl_conflict;
	const char *fname = r->t->fields[field].name;
	char lose[80], win[80];
	const char *cust = r->t == &fs_tbl_customer ? r->id : NULL;
	int p = r->t->scope_field;
	if (!cust && p >= 0 && (r->t->fields[p].flags & FS_F_PARENT) && r->f[p].v.t == FS_V_TEXT)
		cust = r->f[p].v.s;
	fs_chg_init(c, t);
	if (!cust)
		return fs_err(FIELDSYNC_EINVAL, "%s %s belongs to no customer", r->t->name, r->id);
	fs_conflict_id(r->t->name, r->id, fname, &loser->dot, id);
	fs_dot_fmt(&loser->dot, lose);
	fs_dot_fmt(&r->f[field].dot, win);
	char *canon = fs_val_canon(&loser->v);
	const char *vals[][2] = { { "tbl", r->t->name }, { "rec_id", r->id }, { "customer_id", cust },
		{ "field", fname }, { "lose_dot", lose }, { "win_dot", win }, { "value", canon } };
	struct fs_val v = { 0 };
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < sizeof vals / sizeof vals[0]; k++) {
		if (!vals[k][1])
			continue;
		rc = fs_val_set_text(&v, vals[k][1], strlen(vals[k][1]));
		if (rc == 0)
			rc = fs_chg_set(c, fs_field_find(t, vals[k][0]), &v);
	}
	free(canon);
	fs_val_release(&v);
	if (rc)
		fs_chg_release(c);
	return rc;
}

void fs_conflict_id(const char *tbl, const char *rec_id, const char *field,
		    const struct fs_dot *lose, char out[33])
{
	char dot[80];
	unsigned char h[16];
	crypto_generichash_state st;
	fs_dot_fmt(lose, dot);
	/* the hlc is part of the dot text but fixed by (rid, c); hash only rid:c */
	char *last = strrchr(dot, ':');
	if (last)
		*last = '\0';
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)tbl, strlen(tbl) + 1);
	crypto_generichash_update(&st, (const unsigned char *)rec_id, strlen(rec_id) + 1);
	crypto_generichash_update(&st, (const unsigned char *)field, strlen(field) + 1);
	crypto_generichash_update(&st, (const unsigned char *)dot, strlen(dot));
	crypto_generichash_final(&st, h, sizeof h);
	fs_hex(h, sizeof h, out);
}

/* ---- store encodings ----
 * vv:   "rid:c,rid:c"                  (sorted by rid)
 * dots: "k:c:h=f1,f2;k:c:h=f3"         (k = index of the dot's replica in vv)
 * sib:  "field k:c:h T<len>:<bytes>\n"  (T: n null, i int, r real, s text)
 */

int fs_vv_encode(const struct fs_vv *v, char **out)
{
	struct fs_buf b;
	fs_buf_init(&b, 0);
	for (int i = 0; i < v->n; i++) {
		char r[33];
		fs_rid_fmt(&v->e[i].rid, r);
		if (fs_buf_printf(&b, "%s%s:%" PRId64, i ? "," : "", r, v->e[i].c)) {
			fs_buf_release(&b);
			return FIELDSYNC_ENOMEM;
		}
	}
	*out = fs_buf_detach(&b);
	return *out ? 0 : FIELDSYNC_ENOMEM;
}

static int corrupt(const char *what)
{
	return fs_err(FIELDSYNC_EIO, "corrupt sync metadata (%s)", what);
}

int fs_vv_decode(const char *s, struct fs_vv *out)
{
	out->n = 0;
	while (*s) {
		struct fs_rid r;
		char hex[33];
		if (strlen(s) < 34 || s[32] != ':')
			return corrupt("vv");
		memcpy(hex, s, 32);
		hex[32] = '\0';
		if (fs_rid_parse(hex, &r))
			return corrupt("vv");
		char *e;
		long long c = strtoll(s + 33, &e, 10);
		if (c <= 0 || (*e && *e != ','))
			return corrupt("vv");
		if (out->n && fs_rid_cmp(&out->e[out->n - 1].rid, &r) >= 0)
			return corrupt("vv order");
		if (fs_vv_set(out, &r, c))
			return FIELDSYNC_ENOMEM;
		s = *e ? e + 1 : e;
	}
	return 0;
}

int fs_dots_encode(const struct fs_rec *r, char **out)
{
	struct fs_buf b;
	unsigned char done[FS_MAX_FIELDS] = { 0 };
	int rc = 0;
	fs_buf_init(&b, 0);
	for (int i = 0; i < r->t->nfields && rc == 0; i++) {
		if (done[i] || r->f[i].dot.c == 0)
			continue;
		const struct fs_dot *d = &r->f[i].dot;
		int k = fs_vv_find(&r->vv, &d->rid);
		if (k < 0)
			return fs_buf_release(&b), corrupt("dot outside vv");
		rc = fs_buf_printf(&b, "%s%d:%" PRId64 ":%" PRId64 "=", b.len ? ";" : "", k, d->c, d->hlc);
		for (int j = i, first = 1; j < r->t->nfields && rc == 0; j++) {
			if (done[j] || r->f[j].dot.c == 0 || !fs_dot_same(&r->f[j].dot, d))
				continue;
			done[j] = 1;
			rc = fs_buf_printf(&b, "%s%s", first ? "" : ",", r->t->fields[j].name);
			first = 0;
		}
	}
	if (rc)
		return fs_buf_release(&b), rc;
	*out = fs_buf_detach(&b);
	return *out ? 0 : FIELDSYNC_ENOMEM;
}

/* "k:c:h" with k an index into vv */
static int parse_kdot(const char **ps, const struct fs_vv *vv, struct fs_dot *d)
{
	char *e;
	long k = strtol(*ps, &e, 10);
	if (*e != ':' || k < 0 || k >= vv->n)
		return -1;
	long long c = strtoll(e + 1, &e, 10);
	if (*e != ':' || c <= 0)
		return -1;
	long long h = strtoll(e + 1, &e, 10);
	if (h < 0)
		return -1;
	d->rid = vv->e[k].rid;
	d->c = c;
	d->hlc = h;
	*ps = e;
	return 0;
}

int fs_dots_decode(const char *s, struct fs_rec *r)
{
	while (*s) {
		struct fs_dot d;
		if (parse_kdot(&s, &r->vv, &d) || *s != '=')
			return corrupt("dots");
		s++;
		for (;;) {
			size_t n = strcspn(s, ",;");
			char name[64];
			if (n == 0 || n >= sizeof name)
				return corrupt("dots field");
			memcpy(name, s, n);
			name[n] = '\0';
			int fi = fs_field_find(r->t, name);
			if (fi < 0)
				return corrupt("dots field");
			r->f[fi].dot = d;
			s += n;
			if (*s != ',')
				break;
			s++;
		}
		if (*s == ';')
			s++;
		else if (*s)
			return corrupt("dots");
	}
	return 0;
}

int fs_sib_encode(const struct fs_rec *r, char **out)
{
	struct fs_buf b;
	int rc = 0;
	*out = NULL;
	fs_buf_init(&b, 0);
	for (int i = 0; i < r->t->nfields && rc == 0; i++) {
		const struct fs_fstate *f = &r->f[i];
		for (int k = 0; k < f->nsib && rc == 0; k++) {
			const struct fs_sib *sb = &f->sib[k];
			int ki = fs_vv_find(&r->vv, &sb->dot.rid);
			if (ki < 0)
				return fs_buf_release(&b), corrupt("sibling outside vv");
			rc = fs_buf_printf(&b, "%s %d:%" PRId64 ":%" PRId64 " ", r->t->fields[i].name, ki,
					   sb->dot.c, sb->dot.hlc);
			if (rc)
				break;
			char *c = fs_val_canon(&sb->v);
			const char *tc = sb->v.t == FS_V_INT ? "i" : sb->v.t == FS_V_REAL ? "r" :
					 sb->v.t == FS_V_TEXT ? "s" : "n";
			size_t n = c ? strlen(c) : 0;
			rc = fs_buf_printf(&b, "%s%zu:", tc, n);
			if (!rc && n)
				rc = fs_buf_add(&b, c, n);
			if (!rc)
				rc = fs_buf_addc(&b, '\n');
			free(c);
		}
	}
	if (rc)
		return fs_buf_release(&b), rc;
	if (b.len)
		*out = fs_buf_detach(&b);
	return 0;
}

int fs_sib_decode(const char *s, struct fs_rec *r)
{
	while (*s) {
		size_t n = strcspn(s, " ");
		char name[64];
		if (n == 0 || n >= sizeof name || s[n] != ' ')
			return corrupt("sib");
		memcpy(name, s, n);
		name[n] = '\0';
		int fi = fs_field_find(r->t, name);
		if (fi < 0)
			return corrupt("sib field");
		s += n + 1;
		struct fs_dot d;
		if (parse_kdot(&s, &r->vv, &d) || *s != ' ')
			return corrupt("sib dot");
		s++;
		char tc = *s++;
		char *e;
		long long len = strtoll(s, &e, 10);
		if (*e != ':' || len < 0 || (size_t)len > strlen(e + 1))
			return corrupt("sib value");
		s = e + 1;
		struct fs_val v = { 0 };
		int rc = 0;
		if (tc == 's') {
			rc = fs_val_set_text(&v, s, (size_t)len);
		} else if (tc == 'i' || tc == 'r') {
			char tmp[64];
			if ((size_t)len >= sizeof tmp)
				return corrupt("sib number");
			memcpy(tmp, s, (size_t)len);
			tmp[len] = '\0';
			if (tc == 'i') {
				int64_t iv;
				if (fs_parse_int(tmp, &iv))
					return corrupt("sib number");
				fs_val_set_int(&v, iv);
			} else {
				fs_val_set_real(&v, strtod(tmp, NULL));
			}
		} else if (tc != 'n') {
			return corrupt("sib type");
		}
		if (rc)
			return rc;
		s += len;
		if (*s != '\n') {
			fs_val_release(&v);
			return corrupt("sib end");
		}
		s++;
		struct fs_fstate *f = &r->f[fi];
		struct fs_sib *ns = realloc(f->sib, (size_t)(f->nsib + 1) * sizeof *ns);
		if (!ns) {
			fs_val_release(&v);
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		}
		f->sib = ns;
		f->sib[f->nsib].dot = d;
		f->sib[f->nsib].v = v;
		f->nsib++;
	}
	return 0;
}
