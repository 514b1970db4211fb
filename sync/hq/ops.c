/* ops.c - fieldsyncd's configuration file, store lock and log lines (ops.h). */
#include "ops.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

void hq_conf_release(struct hq_conf *c)
{
	free(c->listen);
	free(c->db);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_priorities);
	memset(c, 0, sizeof *c);
	c->log_json = -1;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static int int_value(const char *v, long long lo, long long hi, long long *out)
{
	int64_t x;
	if (fs_parse_int(v, &x) || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

/* One `key = value` line; returns 0 or an error naming file and line. */
static int conf_line(struct hq_conf *c, const char *file, int line, char *key, char *v, unsigned *seen)
{
	static const char *const keys[] = { "listen", "db", "tls_cert", "tls_key", "tls_priorities", "threads",
		"log_format", "max_body", "batch", "page", "retention_years", "header_timeout", "body_timeout",
		"body_min_rate", "max_buffered", "max_conns_per_ip" };
	static const long long lo[] = { 0, 0, 0, 0, 0, 1, 0, 1024, 1, 1, 1, 1, 1, 1, 1LL << 20, 1 };
	static const long long hi[] = { 0, 0, 0, 0, 0, 256, 0, 1LL << 30, 100000, 5000, 100, 3600, 3600,
		1000000000, 1LL << 36, 65535 };
	int k = -1;
	for (int i = 0; i < (int)(sizeof keys / sizeof keys[0]); i++)
		if (!strcmp(key, keys[i]))
			k = i;
	if (k < 0)
		return fs_err(FIELDSYNC_EINVAL, "%s:%d: unknown key '%.64s' (known: listen, db, tls_cert, tls_key,"
			      " tls_priorities, threads, log_format, max_body, batch, page, retention_years,"
			      " header_timeout, body_timeout, body_min_rate, max_buffered, max_conns_per_ip)", file,
			      line, key);
	if (*seen & (1u << k))
		return fs_err(FIELDSYNC_EINVAL, "%s:%d: '%s' is set twice", file, line, key);
	*seen |= 1u << k;
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
	}
	if (!*v)
		return fs_err(FIELDSYNC_EINVAL, "%s:%d: '%s' has no value", file, line, key);
	if (k < 5) {
		char **dst[] = { &c->listen, &c->db, &c->tls_cert, &c->tls_key, &c->tls_priorities };
		if (!(*dst[k] = strdup(v)))
			return fs_err(FIELDSYNC_ENOMEM, "out of memory");
		return 0;
	}
	if (k == 6) {
		if (strcmp(v, "text") && strcmp(v, "json"))
			return fs_err(FIELDSYNC_EINVAL, "%s:%d: log_format: '%.64s' is not text or json", file, line, v);
		c->log_json = !strcmp(v, "json");
		return 0;
	}
	long long x;
	if (int_value(v, lo[k], hi[k], &x))
		return fs_err(FIELDSYNC_EINVAL, "%s:%d: %s: '%.64s' is not a whole number %lld..%lld", file, line, key,
			      v, lo[k], hi[k]);
	switch (k) {
	case 5: c->threads = (int)x; break;
	case 7: c->max_body = x; break;
	case 8: c->batch = (int)x; break;
	case 9: c->page = (int)x; break;
	case 10: c->retention_years = (int)x; break;
	case 11: c->header_timeout = (int)x; break;
	case 12: c->body_timeout = (int)x; break;
	case 13: c->body_min_rate = (int)x; break;
	case 14: c->max_buffered = x; break;
	default: c->max_conns_per_ip = (int)x; break;
	}
	return 0;
}

int hq_conf_load(const char *path, struct hq_conf *c)
{
	memset(c, 0, sizeof *c);
	c->log_json = -1;
	if (!path) {
		const char *e = getenv("FIELDSYNCD_CONFIG");
		if (e) {
			if (!*e)
				return 0;	/* set and empty: no file */
			path = e;	/* named explicitly: must exist */
		} else {
			path = HQ_CONF_DEFAULT;
			if (access(path, F_OK) != 0)
				return 0;
		}
	}
	FILE *f = fopen(path, "r");
	if (!f)
		return fs_err(FIELDSYNC_EINVAL, "cannot read the configuration %s: %s", path, strerror(errno));
	snprintf(c->path, sizeof c->path, "%s", path);
	char buf[8192];
	unsigned seen = 0;
	int line = 0, rc = 0;
	while (rc == 0 && fgets(buf, sizeof buf, f)) {
		line++;
		size_t n = strlen(buf);
		if (n == sizeof buf - 1 && buf[n - 1] != '\n') {
			rc = fs_err(FIELDSYNC_EINVAL, "%s:%d: line too long", path, line);
			break;
		}
		char *s = trim(buf);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = fs_err(FIELDSYNC_EINVAL, "%s:%d: expected 'key = value'", path, line);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *v = trim(eq + 1);
		if (!fs_utf8_valid(v, strlen(v)))
			rc = fs_err(FIELDSYNC_EINVAL, "%s:%d: not valid UTF-8", path, line);
		else
			rc = conf_line(c, path, line, key, v, &seen);
	}
	if (rc == 0 && ferror(f))
		rc = fs_err(FIELDSYNC_EINVAL, "cannot read the configuration %s", path);
	fclose(f);
	if (rc) {
		char keep[4096];
		snprintf(keep, sizeof keep, "%s", c->path);
		hq_conf_release(c);
		snprintf(c->path, sizeof c->path, "%s", keep);
	}
	return rc;
}

int hq_store_lock(const char *db, int exclusive, int *fd)
{
	char path[4200];
	*fd = -1;
	if (snprintf(path, sizeof path, "%s.serve-lock", db) >= (int)sizeof path)
		return fs_err(FIELDSYNC_EINVAL, "store path too long");
	int f = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (f < 0)
		return fs_err(FIELDSYNC_EIO, "cannot open %s: %s", path, strerror(errno));
	if (flock(f, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
		int e = errno;
		close(f);
		if (e == EWOULDBLOCK)
			return fs_err(FIELDSYNC_EBUSY, exclusive ? "a fieldsyncd server is running on %s: stop it first"
					       : "a restore of %s is under way", db);
		return fs_err(FIELDSYNC_EIO, "cannot lock %s: %s", path, strerror(e));
	}
	*fd = f;
	return 0;
}

void hq_log(int json, const char *level, const char *fmt, ...)
{
	char msg[1024], ts[32], line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *txt = NULL;
		if (o && cJSON_AddStringToObject(o, "ts", ts) && cJSON_AddStringToObject(o, "level", level) &&
		    cJSON_AddStringToObject(o, "msg", msg))
			txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (txt) {
			flockfile(stderr);
			fprintf(stderr, "%s\n", txt);
			fflush(stderr);
			funlockfile(stderr);
			cJSON_free(txt);
			return;
		}
	}
	snprintf(line, sizeof line, "fieldsyncd: %s", msg);
	flockfile(stderr);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	funlockfile(stderr);
}
