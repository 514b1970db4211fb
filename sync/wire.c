/* wire.c - strict JSON reading, the record codec and gzip. */
#include "wire.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- strict checks on the raw text ----
 * A single pass over the bytes: tracks strings (to validate UTF-8 and
 * escapes) and nesting depth outside strings. cJSON parses afterwards. */
static int scan(const char *s, size_t n, int max_depth, const char **code)
{
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!in_str) {
			if (c == '"')
				in_str = 1;
			else if (c == '{' || c == '[') {
				if (++depth > max_depth) {
					*code = "too_deep";
					return fs_err(FIELDSYNC_ELIMIT, "JSON nested deeper than %d", max_depth);
				}
			} else if (c == '}' || c == ']')
				depth--;
			else if (c == 0) {
				*code = "bad_json";
				return fs_err(FIELDSYNC_EINVAL, "NUL byte in JSON");
			}
			continue;
		}
		if (c == '"') {
			in_str = 0;
		} else if (c == '\\') {
			if (i + 1 >= n)
				break;
			if (s[i + 1] == 'u') {
				if (i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0) {
					*code = "nul_char";
					return fs_err(FIELDSYNC_EINVAL, "\\u0000 is not allowed in strings");
				}
				/* lone surrogates would decode to invalid UTF-8 */
				unsigned v = 0;
				for (int k = 2; k < 6 && i + (size_t)k < n; k++) {
					char h = s[i + k];
					v = v * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
				}
				if (v >= 0xDC00 && v <= 0xDFFF) {
					*code = "bad_utf8";
					return fs_err(FIELDSYNC_EINVAL, "lone low surrogate escape");
				}
				if (v >= 0xD800 && v <= 0xDBFF &&
				    !(i + 11 < n && s[i + 6] == '\\' && s[i + 7] == 'u' &&
				      (s[i + 8] == 'd' || s[i + 8] == 'D') &&
				      strchr("cdefCDEF", s[i + 9]))) {
					*code = "bad_utf8";
					return fs_err(FIELDSYNC_EINVAL, "lone high surrogate escape");
				}
			}
			i++;
		} else if (c < 0x20) {
			*code = "bad_json";
			return fs_err(FIELDSYNC_EINVAL, "control character in a JSON string");
		} else if (c >= 0x80) {
			size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
			if (!len || i + len > n || !fs_utf8_valid(s + i, len)) {
				*code = "bad_utf8";
				return fs_err(FIELDSYNC_EINVAL, "invalid UTF-8 in a JSON string");
			}
			i += len - 1;
		}
	}
	return 0;
}

/* Duplicate keys and out-of-range numbers, after parsing. */
static int walk(const cJSON *j, const char **code)
{
	if (cJSON_IsNumber(j)) {
		if (!isfinite(j->valuedouble) || fabs(j->valuedouble) > (double)FS_INT_MAX_EXACT) {
			*code = "number_range";
			return fs_err(FIELDSYNC_EINVAL, "number beyond 2^53");
		}
		return 0;
	}
	if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
		return 0;
	for (const cJSON *a = j->child; a; a = a->next) {
		if (cJSON_IsObject(j)) {
			for (const cJSON *b = a->next; b; b = b->next)
				if (a->string && b->string && strcmp(a->string, b->string) == 0) {
					*code = "duplicate_key";
					return fs_err(FIELDSYNC_EINVAL, "duplicate key \"%.64s\"", a->string);
				}
		}
		int rc = walk(a, code);
		if (rc)
			return rc;
	}
	return 0;
}

cJSON *fs_wire_parse(const char *body, size_t len, int max_depth, const char **code)
{
	const char *end = NULL;
	*code = "bad_json";
	if (scan(body, len, max_depth, code))
		return NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!doc) {
		fs_err(FIELDSYNC_EINVAL, "malformed JSON near byte %zu",
		       cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - body) : (size_t)0);
		return NULL;
	}
	while (end && end < body + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
		end++;
	if (end && end < body + len && *end) {
		cJSON_Delete(doc);
		fs_err(FIELDSYNC_EINVAL, "trailing data after JSON");
		return NULL;
	}
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		fs_err(FIELDSYNC_EINVAL, "body is not a JSON object");
		return NULL;
	}
	if (walk(doc, code)) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

int fs_wire_check_version(const cJSON *doc)
{
	int64_t v;
	if (fs_wire_int(doc, "v", 0, 1000000, &v))
		return fs_err(FIELDSYNC_EPROTO, "missing protocol version \"v\"");
	if (v != FS_PROTOCOL)
		return fs_err(FIELDSYNC_EPROTO, "protocol version %lld, this side speaks %d", (long long)v,
			      FS_PROTOCOL);
	return 0;
}

int fs_wire_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(j))
		return FIELDSYNC_EINVAL;
	double d = j->valuedouble;
	if (d != floor(d) || d < (double)lo || d > (double)hi)
		return FIELDSYNC_EINVAL;
	*out = (int64_t)d;
	return 0;
}

const char *fs_wire_str(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* ---- records ---- */

static cJSON *int_item(int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return cJSON_CreateRaw(buf);	/* exact: never through a double on the way out */
}

static cJSON *val_item(const struct fs_val *v)
{
	switch (v->t) {
	case FS_V_INT: return int_item(v->i);
	case FS_V_REAL: {
		char buf[40];
		snprintf(buf, sizeof buf, "%.17g", v->r);
		return cJSON_CreateRaw(buf);
	}
	case FS_V_TEXT: return cJSON_CreateString(v->s);
	}
	return cJSON_CreateNull();
}

cJSON *fs_wire_vv_encode(const struct fs_vv *vv)
{
	cJSON *o = cJSON_CreateObject();
	for (int i = 0; o && i < vv->n; i++) {
		char r[33];
		fs_rid_fmt(&vv->e[i].rid, r);
		cJSON_AddItemToObject(o, r, int_item(vv->e[i].c));
	}
	return o;
}

static cJSON *dot_prefix(const struct fs_dot *d)
{
	char r[33];
	cJSON *a = cJSON_CreateArray();
	fs_rid_fmt(&d->rid, r);
	cJSON_AddItemToArray(a, cJSON_CreateString(r));
	cJSON_AddItemToArray(a, int_item(d->c));
	cJSON_AddItemToArray(a, int_item(d->hlc));
	return a;
}

cJSON *fs_wire_rec_encode(const struct fs_rec *r, const char *scope, int schema)
{
	const struct fs_table *t = r->t;
	cJSON *o = cJSON_CreateObject(), *f, *d, *s = NULL;
	unsigned char done[FS_MAX_FIELDS] = { 0 };
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "t", t->name);
	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddItemToObject(o, "vv", fs_wire_vv_encode(&r->vv));
	cJSON_AddItemToObject(o, "h", int_item(r->hlc));
	cJSON_AddItemToObject(o, "f", f = cJSON_CreateObject());
	cJSON_AddItemToObject(o, "d", d = cJSON_CreateArray());
	for (int i = 0; i < t->nfields; i++) {
		const struct fs_fstate *fs = &r->f[i];
		if (!fs->dot.c || t->fields[i].since > schema)
			continue;
		cJSON_AddItemToObject(f, t->fields[i].name, val_item(&fs->v));
		if (!done[i]) {
			cJSON *g = dot_prefix(&fs->dot), *names = cJSON_CreateArray();
			for (int j = i; j < t->nfields; j++)
				if (!done[j] && r->f[j].dot.c && t->fields[j].since <= schema &&
				    fs_dot_same(&r->f[j].dot, &fs->dot)) {
					done[j] = 1;
					cJSON_AddItemToArray(names, cJSON_CreateString(t->fields[j].name));
				}
			cJSON_AddItemToArray(g, names);
			cJSON_AddItemToArray(d, g);
		}
		for (int k = 0; k < fs->nsib; k++) {
			if (!s)
				cJSON_AddItemToObject(o, "s", s = cJSON_CreateArray());
			cJSON *e = cJSON_CreateArray(), *p = dot_prefix(&fs->sib[k].dot);
			cJSON_AddItemToArray(e, cJSON_CreateString(t->fields[i].name));
			while (p->child) {
				cJSON *x = cJSON_DetachItemViaPointer(p, p->child);
				cJSON_AddItemToArray(e, x);
			}
			cJSON_Delete(p);
			cJSON_AddItemToArray(e, val_item(&fs->sib[k].v));
			cJSON_AddItemToArray(s, e);
		}
	}
	if (scope)
		cJSON_AddStringToObject(o, "scope", scope);
	return o;
}

int fs_wire_schema(const cJSON *doc, int *schema)
{
	int64_t v;
	*schema = FS_WIRE_SCHEMA_BASE;
	if (!cJSON_GetObjectItemCaseSensitive(doc, "schema"))
		return 0;
	if (fs_wire_int(doc, "schema", FS_WIRE_SCHEMA_BASE, FS_INT_MAX_EXACT, &v))
		return fs_err(FIELDSYNC_EINVAL, "\"schema\" is not a store schema version (an integer >= %d)",
			      FS_WIRE_SCHEMA_BASE);
	*schema = v > FS_SCHEMA_VERSION ? FS_SCHEMA_VERSION : (int)v;
	return 0;
}

static int bad(const char *what)
{
	return fs_err(FIELDSYNC_EINVAL, "record: %s", what);
}

int fs_wire_vv_decode(const cJSON *o, struct fs_vv *out)
{
	if (!cJSON_IsObject(o))
		return bad("\"vv\" is not an object");
	for (const cJSON *e = o->child; e; e = e->next) {
		struct fs_rid r;
		double d = e->valuedouble;
		if (fs_rid_parse(e->string, &r))
			return bad("\"vv\" key is not a replica id");
		if (!cJSON_IsNumber(e) || d != floor(d) || d < 1 || d > (double)FS_INT_MAX_EXACT)
			return bad("\"vv\" counter is not a positive integer");
		if (fs_vv_set(out, &r, (int64_t)d))
			return FIELDSYNC_ENOMEM;
	}
	return 0;
}

static int decode_val(const struct fs_field *f, const cJSON *j, struct fs_val *v)
{
	if (cJSON_IsNull(j)) {
		fs_val_set_null(v);
		return 0;
	}
	if (cJSON_IsString(j)) {
		int rc = fs_val_set_text(v, j->valuestring, strlen(j->valuestring));
		return rc ? rc : fs_field_check(f, v);
	}
	if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;
		if (f->type == FS_T_LAT || f->type == FS_T_LON)
			fs_val_set_real(v, d);
		else if (d == floor(d))
			fs_val_set_int(v, (int64_t)d);
		else
			return fs_err(FIELDSYNC_EINVAL, "%s: expected an integer", f->name);
		return fs_field_check(f, v);
	}
	return fs_err(FIELDSYNC_EINVAL, "%s: wrong JSON type", f->name);
}

/* Field names on the wire are exact (no '-' for '_' as people may type). */
static int exact_field(const struct fs_table *t, const char *name)
{
	int fi = fs_field_find(t, name);
	return fi >= 0 && strcmp(t->fields[fi].name, name) == 0 ? fi : -1;
}

static int decode_dot(const cJSON *a, int first, struct fs_dot *d)
{
	const cJSON *r = cJSON_GetArrayItem(a, first), *c = cJSON_GetArrayItem(a, first + 1),
		    *h = cJSON_GetArrayItem(a, first + 2);
	if (!cJSON_IsString(r) || fs_rid_parse(r->valuestring, &d->rid))
		return bad("dot replica is not an id");
	if (!cJSON_IsNumber(c) || c->valuedouble != floor(c->valuedouble) || c->valuedouble < 1 ||
	    !cJSON_IsNumber(h) || h->valuedouble != floor(h->valuedouble) || h->valuedouble < 0)
		return bad("dot counter/hlc is not a non-negative integer");
	d->c = (int64_t)c->valuedouble;
	d->hlc = (int64_t)h->valuedouble;
	return 0;
}

int fs_wire_rec_decode(const cJSON *o, struct fs_rec *out)
{
	const char *tn = fs_wire_str(o, "t"), *id = fs_wire_str(o, "id");
	const struct fs_table *t = tn ? fs_table_find(tn) : NULL;
	int64_t h;
	fs_rec_init(out, t);
	if (!cJSON_IsObject(o))
		return bad("not an object");
	if (!t)
		return fs_err(FIELDSYNC_EINVAL, "unknown record type \"%.32s\"", tn ? tn : "");
	if (!fs_is_id(id))
		return bad("\"id\" is not an id (32 lowercase hex digits)");
	for (const cJSON *k = o->child; k; k = k->next)
		if (strcmp(k->string, "t") && strcmp(k->string, "id") && strcmp(k->string, "vv") &&
		    strcmp(k->string, "h") && strcmp(k->string, "f") && strcmp(k->string, "d") &&
		    strcmp(k->string, "s") && strcmp(k->string, "scope") && strcmp(k->string, "q"))
			return fs_err(FIELDSYNC_EINVAL, "record: unknown member \"%.32s\"", k->string);
	strcpy(out->id, id);
	int rc = fs_wire_vv_decode(cJSON_GetObjectItemCaseSensitive(o, "vv"), &out->vv);
	if (rc)
		goto fail;
	if (fs_wire_int(o, "h", 0, FS_HLC_MAX, &h)) {
		rc = bad("\"h\" is not an hlc");
		goto fail;
	}
	out->hlc = h;
	const char *scope = fs_wire_str(o, "scope");
	if (scope) {
		if (strlen(scope) >= sizeof out->scope) {
			rc = bad("\"scope\" too long");
			goto fail;
		}
		strcpy(out->scope, scope);
	}
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "f"), *d = cJSON_GetObjectItemCaseSensitive(o, "d");
	if (!cJSON_IsObject(f) || !cJSON_IsArray(d)) {
		rc = bad("\"f\" and \"d\" are required");
		goto fail;
	}
	unsigned char has_val[FS_MAX_FIELDS] = { 0 };
	for (const cJSON *k = f->child; k; k = k->next) {
		int fi = exact_field(t, k->string);
		if (fi < 0) {
			rc = fs_err(FIELDSYNC_EINVAL, "unknown field \"%.64s\" for %s", k->string, t->name);
			goto fail;
		}
		if ((rc = decode_val(&t->fields[fi], k, &out->f[fi].v)))
			goto fail;
		has_val[fi] = 1;
	}
	for (const cJSON *g = d->child; g; g = g->next) {
		struct fs_dot dot;
		const cJSON *names = cJSON_GetArrayItem(g, 3);
		if (!cJSON_IsArray(g) || cJSON_GetArraySize(g) != 4 || !cJSON_IsArray(names)) {
			rc = bad("a dot group is not [replica, counter, hlc, [fields]]");
			goto fail;
		}
		if ((rc = decode_dot(g, 0, &dot)))
			goto fail;
		if (!fs_vv_covers(&out->vv, &dot)) {
			rc = bad("a dot is beyond the version vector");
			goto fail;
		}
		for (const cJSON *n = names->child; n; n = n->next) {
			int fi = cJSON_IsString(n) ? exact_field(t, n->valuestring) : -1;
			if (fi < 0 || !has_val[fi] || out->f[fi].dot.c) {
				rc = bad("a dot names an unknown, valueless or doubly dotted field");
				goto fail;
			}
			out->f[fi].dot = dot;
		}
	}
	for (int i = 0; i < t->nfields; i++)
		if (has_val[i] && !out->f[i].dot.c) {
			rc = fs_err(FIELDSYNC_EINVAL, "record: field %s has no dot", t->fields[i].name);
			goto fail;
		}
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "s");
	if (s && !cJSON_IsArray(s)) {
		rc = bad("\"s\" is not an array");
		goto fail;
	}
	for (const cJSON *e = s ? s->child : NULL; e; e = e->next) {
		const cJSON *fn = cJSON_GetArrayItem(e, 0);
		int fi = cJSON_IsString(fn) ? exact_field(t, fn->valuestring) : -1;
		struct fs_dot dot;
		if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 5 || fi < 0 || !out->f[fi].dot.c) {
			rc = bad("a sibling is not [field, replica, counter, hlc, value] of a dotted field");
			goto fail;
		}
		if ((rc = decode_dot(e, 1, &dot)))
			goto fail;
		if (!fs_vv_covers(&out->vv, &dot) || fs_dot_same(&dot, &out->f[fi].dot)) {
			rc = bad("a sibling dot is beyond the version vector or repeats the winner");
			goto fail;
		}
		struct fs_fstate *fs = &out->f[fi];
		if (fs->nsib >= 64) {
			rc = bad("too many siblings");
			goto fail;
		}
		struct fs_sib *ns = realloc(fs->sib, (size_t)(fs->nsib + 1) * sizeof *ns);
		if (!ns) {
			rc = fs_err(FIELDSYNC_ENOMEM, "out of memory");
			goto fail;
		}
		fs->sib = ns;
		memset(&fs->sib[fs->nsib], 0, sizeof *ns);
		fs->sib[fs->nsib].dot = dot;
		fs->nsib++;
		if ((rc = decode_val(&t->fields[fi], cJSON_GetArrayItem(e, 4), &fs->sib[fs->nsib - 1].v)))
			goto fail;
	}
	return 0;
fail:
	fs_rec_release(out);
	return rc;
}

/* ---- gzip ---- */

int fs_gzip(const void *in, size_t n, int level, char **out, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return fs_err(FIELDSYNC_ENOMEM, "zlib init failed");
	size_t cap = deflateBound(&z, (uLong)n);
	char *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&z);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)cap;
	int zr = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		return fs_err(FIELDSYNC_EIO, "gzip failed");
	}
	*out = buf;
	*outlen = cap - z.avail_out;
	return 0;
}

int fs_gunzip(const void *in, size_t n, size_t max, char **out, size_t *outlen)
{
	z_stream z;
	struct fs_buf b;
	char chunk[65536];
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return fs_err(FIELDSYNC_ENOMEM, "zlib init failed");
	fs_buf_init(&b, max);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	int zr, rc = 0;
	do {
		z.next_out = (Bytef *)chunk;
		z.avail_out = sizeof chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rc = fs_err(FIELDSYNC_EINVAL, "corrupt gzip data");
			break;
		}
		if ((rc = fs_buf_add(&b, chunk, sizeof chunk - z.avail_out)))
			break;	/* ELIMIT: the bomb stops here */
		if (zr != Z_STREAM_END && z.avail_in == 0 && z.avail_out != 0) {
			rc = fs_err(FIELDSYNC_EINVAL, "truncated gzip data");
			break;
		}
	} while (zr != Z_STREAM_END);
	inflateEnd(&z);
	if (rc) {
		fs_buf_release(&b);
		return rc;
	}
	*outlen = b.len;
	*out = fs_buf_detach(&b);
	return 0;
}
