/* util.c - errors, bounded buffers, UTF-8, hex, ids, time and number parsing. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

static _Thread_local char errmsg[FS_ERRMSG_MAX];

int fs_verr(int rc, const char *fmt, va_list ap)
{
	vsnprintf(errmsg, sizeof errmsg, fmt, ap);
	return rc;
}

int fs_err(int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fs_verr(rc, fmt, ap);
	va_end(ap);
	return rc;
}

int fs_err_wrap(int rc, const char *fmt, ...)
{
	char inner[FS_ERRMSG_MAX], prefix[FS_ERRMSG_MAX], both[2 * FS_ERRMSG_MAX + 4];
	va_list ap;
	/* the detail is copied first: formatting a buffer into itself is undefined */
	memcpy(inner, errmsg, sizeof inner);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	snprintf(both, sizeof both, "%s: %s", prefix, inner);
	snprintf(errmsg, sizeof errmsg, "%.*s", (int)sizeof errmsg - 1, both);
	return rc;
}

const char *fs_errmsg_get(void)
{
	return errmsg;
}

void fs_err_clear(void)
{
	errmsg[0] = '\0';
}

FIELDSYNC_API const char *fieldsync_strerror(int rc)
{
	switch (rc) {
	case FIELDSYNC_OK: return "ok";
	case FIELDSYNC_EINVAL: return "invalid input";
	case FIELDSYNC_ENOTFOUND: return "not found";
	case FIELDSYNC_ENOMEM: return "out of memory";
	case FIELDSYNC_EIO: return "store or file I/O failure";
	case FIELDSYNC_ESCHEMA: return "store written by a newer version of fieldsync";
	case FIELDSYNC_ENET: return "server unreachable";
	case FIELDSYNC_EAUTH: return "not authorised (token refused or device revoked)";
	case FIELDSYNC_EPROTO: return "protocol error";
	case FIELDSYNC_EBUSY: return "busy (store locked or another sync running)";
	case FIELDSYNC_ESTATE: return "not possible in the current state";
	case FIELDSYNC_ELIMIT: return "limit exceeded";
	case FIELDSYNC_ESERVER: return "server error";
	case FIELDSYNC_ETIMEOUT: return "timed out";
	case FIELDSYNC_ECANCELED: return "canceled";
	case FIELDSYNC_EADDRINUSE: return "address in use";
	}
	return "unknown error";
}

FIELDSYNC_API int fieldsync_exit_code(int rc)
{
	if (rc >= 0)
		return rc;	/* already an exit status */
	return rc >= FIELDSYNC_EADDRINUSE ? 1 - rc : 1;
}

/* ---- bounded buffer ---- */

void fs_buf_init(struct fs_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : (size_t)1 << 30;
}

void fs_buf_release(struct fs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void fs_buf_reset(struct fs_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

int fs_buf_add(struct fs_buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return fs_err(FIELDSYNC_ELIMIT, "buffer limit of %zu bytes exceeded", b->max);
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		char *q = realloc(b->p, cap);
		if (!q)
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int fs_buf_adds(struct fs_buf *b, const char *s)
{
	return fs_buf_add(b, s, strlen(s));
}

int fs_buf_addc(struct fs_buf *b, char c)
{
	return fs_buf_add(b, &c, 1);
}

int fs_buf_printf(struct fs_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return fs_err(FIELDSYNC_EINVAL, "format error");
	if ((size_t)n < sizeof tmp)
		return fs_buf_add(b, tmp, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = fs_buf_add(b, big, (size_t)n);
	free(big);
	return rc;
}

char *fs_buf_detach(struct fs_buf *b)
{
	char *p = b->p;
	if (!p)
		p = calloc(1, 1);
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- UTF-8 ---- */

int fs_utf8_valid(const char *z, size_t n)
{
	const unsigned char *s = (const unsigned char *)z;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		int len;
		unsigned min;
		if ((c & 0xE0) == 0xC0) {
			len = 2; min = 0x80; c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3; min = 0x800; c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4; min = 0x10000; c &= 0x07;
		} else {
			return 0;
		}
		if (i + (size_t)len > n)
			return 0;
		for (int k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return 0;
		i += (size_t)len;
	}
	return 1;
}

size_t fs_utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* ---- hex and ids ---- */

void fs_hex(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int fs_unhex(const char *in, size_t n, unsigned char *out)
{
	if (n % 2)
		return FIELDSYNC_EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		int a = hexval((unsigned char)in[i]), b = hexval((unsigned char)in[i + 1]);
		if (a < 0 || b < 0)
			return FIELDSYNC_EINVAL;
		out[i / 2] = (unsigned char)(a << 4 | b);
	}
	return 0;
}

int fs_is_id(const char *s)
{
	size_t i = 0;
	for (; s && s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 32;
}

void fs_random_id(char out[33])
{
	unsigned char b[16];
	randombytes_buf(b, sizeof b);
	fs_hex(b, sizeof b, out);
}

/* ---- time ---- */

int64_t fs_wall_ms(void)
{
	const char *o = getenv("FIELDSYNC_NOW_MS");
	if (o && *o) {
		int64_t v;
		if (fs_parse_int(o, &v) == 0)
			return v;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Howard Hinnant's civil-date algorithms: exact for the proleptic Gregorian calendar. */
int64_t fs_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void fs_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

void fs_iso_utc(int64_t ms, char out[32])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int y, m, d;
	fs_civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int fs_parse_date(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return FIELDSYNC_EINVAL;
	if (digits(s, 4, y) || digits(s + 5, 2, m) || digits(s + 8, 2, d))
		return FIELDSYNC_EINVAL;
	if (*y < 1900 || *y > 2999 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return FIELDSYNC_EINVAL;
	return 0;
}

int fs_parse_hhmm(const char *s, int *h, int *mi)
{
	if (strlen(s) != 5 || s[2] != ':' || digits(s, 2, h) || digits(s + 3, 2, mi))
		return FIELDSYNC_EINVAL;
	if (*h > 23 || *mi > 59)
		return FIELDSYNC_EINVAL;
	return 0;
}

int fs_parse_datetime(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0;
	char date[11];
	size_t n = strlen(s);
	if (n < 16 || (s[10] != 'T' && s[10] != ' '))
		return FIELDSYNC_EINVAL;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (fs_parse_date(date, &y, &mo, &d))
		return FIELDSYNC_EINVAL;
	if (s[13] != ':' || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || h > 23 || mi > 59)
		return FIELDSYNC_EINVAL;
	const char *p = s + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &sec) || sec > 60)
			return FIELDSYNC_EINVAL;
		p += 3;
		if (*p == '.') { /* fractional seconds are accepted and dropped */
			p++;
			if (!isdigit((unsigned char)*p))
				return FIELDSYNC_EINVAL;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	int64_t base = (fs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
	if (*p == 'Z' && p[1] == '\0') {
		*ms = base * 1000;
		return 0;
	}
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || digits(p + 4, 2, &om) || oh > 14 || om > 59)
			return FIELDSYNC_EINVAL;
		int64_t off = oh * 3600 + om * 60;
		*ms = (*p == '+' ? base - off : base + off) * 1000;
		return 0;
	}
	if (*p != '\0')
		return FIELDSYNC_EINVAL;
	/* local time */
	struct tm tm = { 0 };
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return FIELDSYNC_EINVAL;
	*ms = (int64_t)t * 1000;
	return 0;
}

void fs_today_local(char out[11])
{
	time_t t = (time_t)(fs_wall_ms() / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- numbers ---- */

int fs_parse_int(const char *s, int64_t *out)
{
	if (!s || !*s)
		return FIELDSYNC_EINVAL;
	const char *p = s;
	int neg = 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return FIELDSYNC_EINVAL;
	uint64_t v = 0;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return FIELDSYNC_EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return FIELDSYNC_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > (uint64_t)INT64_MAX)
			return FIELDSYNC_EINVAL;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int fs_parse_double(const char *s, double *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return FIELDSYNC_EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return FIELDSYNC_EINVAL;
	/* strtod accepts hex and "inf"/"nan" spellings; only plain decimals here */
	for (const char *p = s; *p; p++)
		if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' || *p == 'e' || *p == 'E'))
			return FIELDSYNC_EINVAL;
	*out = v;
	return 0;
}

int fs_parse_money(const char *s, int64_t *out)
{
	if (!s || !*s)
		return FIELDSYNC_EINVAL;
	const char *p = s;
	uint64_t whole = 0;
	int nd = 0;
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (uint64_t)(*p++ - '0');
		if (whole > (uint64_t)FS_INT_MAX_EXACT)
			return FIELDSYNC_ELIMIT;
		nd++;
	}
	uint64_t frac = 0;
	int nf = 0;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (nf == 2)
				return FIELDSYNC_EINVAL;
			frac = frac * 10 + (uint64_t)(*p++ - '0');
			nf++;
		}
		if (nf == 0)
			return FIELDSYNC_EINVAL;
	}
	if (*p || nd == 0)
		return FIELDSYNC_EINVAL;
	if (nf == 1)
		frac *= 10;
	if (whole > ((uint64_t)FS_INT_MAX_EXACT - frac) / 100)
		return FIELDSYNC_ELIMIT;
	*out = (int64_t)(whole * 100 + frac);
	return 0;
}

void fs_fmt_money(int64_t v, char out[32])
{
	const char *sign = v < 0 ? "-" : "";
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	snprintf(out, 32, "%s%llu.%02llu", sign, (unsigned long long)(a / 100),
		 (unsigned long long)(a % 100));
}
