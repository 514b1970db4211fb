/*
 * ops.h - what running fieldsyncd as a service needs besides HTTP: the
 * configuration file, the lock that keeps `restore` away from a running
 * server, and log lines in the server's format (text or one JSON object a
 * line). See docs/operations.md.
 *
 * The configuration file (default /etc/fieldsync/fieldsyncd.conf when it
 * exists; $FIELDSYNCD_CONFIG or `--config FILE` name another, an empty
 * $FIELDSYNCD_CONFIG none) holds `key = value` lines; `#` starts a comment
 * line, blank lines are ignored, a value may be wrapped in double quotes.
 * Keys (each at most once):
 *   listen           ADDR:PORT, "[v6]:PORT"         serve --listen
 *   db               the HQ store                    --db
 *   tls_cert         PEM certificate (chain)         serve --tls-cert
 *   tls_key          PEM private key                 serve --tls-key
 *   threads          1..256                          serve --threads
 *   log_format       text | json                     serve --log-format
 *   max_body         bytes, 1024..1073741824         serve --max-body
 *   batch            records per push, 1..100000     serve --batch
 *   page             records per pull page, 1..5000  serve --page
 *   tls_priorities   GnuTLS priority string          serve --tls-priorities
 *   header_timeout   seconds, 1..3600                serve --header-timeout
 *   body_timeout     seconds, 1..3600                serve --body-timeout
 *   body_min_rate    bytes/s, 1..1000000000          serve --body-min-rate
 *   max_buffered     bytes, 1048576..68719476736     serve --max-buffered
 *   max_conns_per_ip 1..65535                        serve --max-conns-per-ip
 *   retention_years  1..100: written to HQ's retention-years setting at
 *                    every `serve` start (devices purge ordinary visits
 *                    older than that; docs/ledger.md)
 * Command-line options override the file. Any unknown key, repeated key or
 * bad value refuses the whole file with "FILE:LINE: ..." (exit 2). The file
 * is read once at start: a change takes effect on the next start.
 */
#ifndef FS_HQ_OPS_H
#define FS_HQ_OPS_H

#define HQ_CONF_DEFAULT "/etc/fieldsync/fieldsyncd.conf"

struct hq_conf {
	char path[4096];	/* the file read, "" if none */
	char *listen, *db, *tls_cert, *tls_key, *tls_priorities;	/* NULL: not in the file */
	int threads;		/* 0: not set */
	int log_json;		/* -1: not set, 0 text, 1 json */
	long long max_body;	/* 0: not set */
	int batch, page;	/* 0: not set */
	int retention_years;	/* 0: not set */
	int header_timeout, body_timeout, body_min_rate, max_conns_per_ip;	/* 0: not set */
	long long max_buffered;	/* 0: not set */
};

/* Read the configuration. `path` is the --config value (NULL: none given);
 * then $FIELDSYNCD_CONFIG, then HQ_CONF_DEFAULT if it exists. A file named
 * explicitly must exist. Returns 0 (c filled; c->path "" when no file was
 * read) or FIELDSYNC_EINVAL with "FILE:LINE: what" in fs_errmsg_get(). */
int hq_conf_load(const char *path, struct hq_conf *c);
void hq_conf_release(struct hq_conf *c);

/* The store lock "<db>.serve-lock": `serve` holds it shared for its whole
 * life, `restore` exclusively. Non-blocking: FIELDSYNC_EBUSY if the other
 * side holds it. *fd gets the descriptor to close (releasing the lock). */
int hq_store_lock(const char *db, int exclusive, int *fd);

/* One log line to stderr: text "<ts> fieldsyncd: msg" or a JSON object
 * {"ts", "level", "msg"}; written in one piece. level: "info", "error". */
void hq_log(int json, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
