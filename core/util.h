/*
 * util.h - small helpers shared by every module of the engine.
 *
 * Errors: every function in the engine returns 0 or a negative FIELDSYNC_E*
 * code. The human detail of the last failure ("grade: 'D' is not one of ...")
 * is kept per thread; fs_err() sets it and returns the code so that
 *     return fs_err(FIELDSYNC_EINVAL, "lat: %s is outside [-90, 90]", z);
 * reports and propagates in one line.
 */
#ifndef FS_UTIL_H
#define FS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include "fieldsync.h"

#define FS_ERRMSG_MAX 512

int fs_err(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fs_verr(int rc, const char *fmt, va_list ap);
/* Put a prefix in front of the current detail: "records[3]: <detail>". */
int fs_err_wrap(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *fs_errmsg_get(void);
void fs_err_clear(void);

/* Largest integer every JSON reader keeps exactly (2^53 - 1). */
#define FS_INT_MAX_EXACT 9007199254740991LL

/*
 * Growable byte buffer with a hard maximum (curl's dynbuf). `p` is always
 * NUL-terminated once anything was added; fs_buf_detach() hands the memory
 * to the caller. Adding beyond `max` fails with FIELDSYNC_ELIMIT and leaves
 * the buffer as it was.
 */
struct fs_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};
void fs_buf_init(struct fs_buf *b, size_t max);
void fs_buf_release(struct fs_buf *b);
void fs_buf_reset(struct fs_buf *b);
int fs_buf_add(struct fs_buf *b, const void *p, size_t n);
int fs_buf_adds(struct fs_buf *b, const char *s);
int fs_buf_addc(struct fs_buf *b, char c);
int fs_buf_printf(struct fs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *fs_buf_detach(struct fs_buf *b);

/* Strict UTF-8 (no overlongs, no surrogates, no NUL); 1 if valid. */
int fs_utf8_valid(const char *s, size_t n);
/* Number of code points (display width approximation). */
size_t fs_utf8_len(const char *s);

void fs_hex(const unsigned char *in, size_t n, char *out /* 2n+1 */);
int fs_unhex(const char *in, size_t n, unsigned char *out /* n/2 */);
void fs_random_id(char out[33]);
/* 1 if s is an id as fieldsync makes them: 32 lowercase hex digits. */
int fs_is_id(const char *s);

/* Wall clock in ms since the epoch (UTC). FIELDSYNC_NOW_MS overrides it for tests. */
int64_t fs_wall_ms(void);
/* "2026-11-23T09:30:00Z" (UTC, second precision) into out[21+]. */
void fs_iso_utc(int64_t ms, char out[32]);
/* Parse YYYY-MM-DD (a real calendar date); returns 0 or FIELDSYNC_EINVAL. */
int fs_parse_date(const char *s, int *y, int *m, int *d);
int fs_parse_hhmm(const char *s, int *h, int *mi);
/* Parse an ISO-8601 date-time: "YYYY-MM-DDTHH:MM[:SS][Z|+hh:mm]" or with a
 * space instead of T; without a zone it is local time. Result in ms UTC. */
int fs_parse_datetime(const char *s, int64_t *ms);
/* Days since 1970-01-01 for a civil date, and back. */
int64_t fs_days_from_civil(int y, int m, int d);
void fs_civil_from_days(int64_t z, int *y, int *m, int *d);
/* Today's date in local time as YYYY-MM-DD. */
void fs_today_local(char out[11]);

/* Parse a decimal amount with at most 2 decimals into minor units,
 * 0 <= x <= FS_INT_MAX_EXACT. */
int fs_parse_money(const char *s, int64_t *out);
void fs_fmt_money(int64_t v, char out[32]);
/* Parse a whole decimal integer (no junk, no overflow). */
int fs_parse_int(const char *s, int64_t *out);
int fs_parse_double(const char *s, double *out);

#endif
