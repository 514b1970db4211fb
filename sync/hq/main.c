/*
 * main.c - `fieldsyncd`: the HQ server and its admin commands.
 * Admin commands work on the store whether or not the server runs (SQLite
 * in WAL mode takes one writer at a time; readers never block).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "fieldsync.h"
#include "hq.h"
#include "hq_report.h"
#include "ops.h"
#include "router.h"
#include "server.h"
#include "util.h"
#include "web.h"

static const char *db_path;
static int json;
static int csv;			/* --csv: CSV for listings */
static struct hq_conf conf;	/* the configuration file (ops.h) */
static int log_json;		/* serve --log-format json: messages as JSON lines too */

static int fail(int rc)
{
	const char *m = fs_errmsg_get();
	hq_log(log_json, "error", "%s", m && *m ? m : fieldsync_strerror(rc));
	return fieldsync_exit_code(rc);
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fieldsyncd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'fieldsyncd --help')\n");
	return 2;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: fieldsyncd [--db STORE] [--json] COMMAND [ARGS]\n\n"
		"HQ for fieldsync: the sync server and the administration of reps, devices\n"
		"and the customer archive.\n\n"
		"Commands:\n"
		"  init                       create the HQ store\n"
		"  migrate                    create or upgrade the HQ store's schema\n"
		"  serve [--listen ADDR:PORT] [--threads N] [--log-format text|json]\n"
		"        [--port-file FILE] [--batch N] [--page N] [--max-body BYTES]\n"
		"        [--timeout SECONDS] [--header-timeout SECONDS] [--body-timeout SECONDS]\n"
		"        [--body-min-rate BYTES_PER_S] [--max-buffered BYTES] [--max-conns-per-ip N]\n"
		"        [--tls-cert PEM --tls-key PEM] [--tls-priorities GNUTLS_PRIORITIES]\n"
		"        [--gc-every HOURS]\n"
		"                             run the sync server until SIGTERM/SIGINT\n"
		"  gc [--dry-run]             remove tombstones and evictions every device in\n"
		"                             their territory has (devices silent for lapse-days\n"
		"                             are not waited for: they resync when they return)\n"
		"  backup FILE                a consistent copy of the store, taken online\n"
		"  repair clock [--dry-run]   HQ's clock back to the system time after it was pushed\n"
		"                             beyond clock-ahead-minutes, and the writes stamped\n"
		"                             beyond it restamped (devices take them at their sync)\n"
		"  restore FILE [--no-keep]   replace the store by a backup (server stopped; the\n"
		"                             replaced one is kept as STORE.pre-restore-TIME)\n"
		"  rep add NAME --territory T1[,T2...]   create a rep; prints a one-time enrolment token\n"
		"  rep token NAME             another enrolment token (a new device for the rep)\n"
		"  rep move NAME --territory T1[,T2...]  change a rep's territories\n"
		"  rep revoke NAME [--wipe]   refuse the rep's devices (--wipe: flag them for erasure)\n"
		"  rep list                   reps, territories, devices, last successful sync\n"
		"  device list                every enrolled device\n"
		"  customer add|edit|show|list|delete    as in fieldsync, as HQ's own writes\n"
		"  customer import FILE.csv [--dry-run]  customers from CSV, all or nothing, by code\n"
		"  export customers|visits|money [--from D] [--to D] [--bom] [FILE]   CSV out\n"
		"  conflicts [--all]          open conflicts (--all: resolved ones too)\n"
		"  conflicts resolve ID --keep winner|loser\n"
		"  quarantine                 writes HQ refused, with the reason\n"
		"  admin add NAME             a dashboard administrator (/admin/); prints a password once\n"
		"  admin reset NAME           a new password (ends the admin's sessions)\n"
		"  admin remove NAME | admin list | admin log (decisions taken in the dashboard)\n"
		"  setting set due-days A=7,B=14,C=30,VIP=7,none=30   grade visit intervals (devices\n"
		"                             receive them with their next sync; \"\" = defaults)\n"
		"  setting set retention-years N   devices purge ordinary visits older than N years\n"
		"                             (1-100, default 3; disputed records stay)\n"
		"  setting set lapse-days N   a device silent for N days (1-3650, default 90) is not\n"
		"                             waited for by tombstone garbage collection (HQ only)\n"
		"  setting set clock-ahead-minutes N   refuse writes stamped more than N minutes ahead\n"
		"                             of HQ's clock (1-43200, default 1440); devices get it\n"
		"  setting show               every setting, its source and whether devices get it\n"
		"  dispute visit|payment|customer ID [--clear]   flag a record as disputed (kept\n"
		"                             forever everywhere), or lift the flag; syncs\n"
		"  report visits [--by rep|territory] --month YYYY-MM   planned vs done\n"
		"  report customers [--by grade|nature|status|territory|size]   composition\n"
		"  report money [--by grade|customer|open] [--month YYYY-MM] [--territory T]\n"
		"  report overdue [--territory T] [--date YYYY-MM-DD]   customers past their interval\n\n"
		"Global options:\n"
		"  --db STORE   SQLite file, or a PostgreSQL URL (postgres://USER@HOST/DB) or\n"
		"               connection string ('host=H dbname=DB'); default: $FIELDSYNCD_DB,\n"
		"               the configuration's db, or ./fieldsync-hq.db\n"
		"  --config FILE  key = value settings (default: $FIELDSYNCD_CONFIG, or\n"
		"               " HQ_CONF_DEFAULT " if it exists); options override it\n"
		"  --json       JSON output for listings\n"
		"  --csv        CSV output for listings (RFC 4180)\n\n"
		"Exit codes: 0 ok, 2 invalid input, 3 not found, 5 store I/O, 6 store from a newer version,\n"
		"10 busy (restore while a server runs on the store).\n");
}

/* ---- tiny option scanner: --name value / --name=value / words ---- */
struct opts {
	int argc, i;
	char **argv;
	char name[64];
	const char *inl, *word;
};

static int next(struct opts *o)
{
	o->inl = o->word = NULL;
	if (o->i >= o->argc)
		return 0;
	const char *s = o->argv[o->i++];
	if (s[0] == '-' && s[1] == '-' && s[2]) {
		const char *eq = strchr(s + 2, '=');
		size_t n = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
		if (n >= sizeof o->name)
			n = sizeof o->name - 1;
		memcpy(o->name, s + 2, n);
		o->name[n] = '\0';
		o->inl = eq ? eq + 1 : NULL;
		if (!strcmp(o->name, "json") && !eq) {
			json = 1;
			return next(o);
		}
		if (!strcmp(o->name, "csv") && !eq) {
			csv = 1;
			return next(o);
		}
		return 1;
	}
	o->word = s;
	return 2;
}

static const char *value(struct opts *o)
{
	if (o->inl)
		return o->inl;
	if (o->i >= o->argc) {
		usage_err("--%s needs a value", o->name);
		return NULL;
	}
	return o->argv[o->i++];
}

/* The store as printed: a PostgreSQL password is never shown. */
static const char *shown_db(void)
{
	static char b[1024];
	const char *p = db_path, *at, *colon, *pw;
	if ((p = strstr(db_path, "://")) && (at = strchr(p + 3, '@')) && (colon = memchr(p + 3, ':', at - p - 3))) {
		snprintf(b, sizeof b, "%.*s:***%s", (int)(colon - db_path), db_path, at);
		return b;
	}
	if ((pw = strstr(db_path, "password="))) {
		const char *end = pw + strcspn(pw, " ");
		snprintf(b, sizeof b, "%.*spassword=***%s", (int)(pw - db_path), db_path, end);
		return b;
	}
	return db_path;
}

/* An SQLite file, not a PostgreSQL database. */
static int is_file_store(void)
{
	return hq_backend_for(db_path) == &hq_backend_sqlite;
}

static int no_dump(const char *cmd)
{
	return fail(fs_err(FIELDSYNC_EINVAL, "%s: a PostgreSQL store is saved and restored with pg_dump and"
			   " pg_restore (see docs/scale.md)", cmd));
}

static int open_hq(struct hq **h)
{
	int rc = hq_open(db_path, h);
	return rc ? fail(rc) : 0;
}

static int print_rows(struct fieldsync_rows *r, const char *cols)
{
	int rc = fieldsync_rows_print(r, stdout, json ? FIELDSYNC_FMT_JSON : csv ? FIELDSYNC_FMT_CSV : FIELDSYNC_FMT_TABLE,
				      json ? NULL : cols);
	fs_rows_free(r);
	return rc ? fail(rc) : 0;
}

/* ---- serve ---- */

static int cmd_serve(struct opts *o)
{
	struct hq_server_opts so = { 0 };
	struct hq_limits lim = { 1000, 5000, 1000, 0 };
	const char *port_file = NULL, *v;
	int k, gc_hours = 24;
	so.listen = "127.0.0.1:8080";
	/* the configuration file first; options given here override it */
	if (conf.listen)
		so.listen = conf.listen;
	so.threads = conf.threads;
	so.log_json = conf.log_json == 1;
	so.max_body = (size_t)conf.max_body;
	so.tls_cert = conf.tls_cert;
	so.tls_key = conf.tls_key;
	so.tls_priorities = conf.tls_priorities;
	so.header_timeout_s = conf.header_timeout;
	so.body_grace_s = conf.body_timeout;
	so.body_min_rate = conf.body_min_rate;
	so.max_buffered = (size_t)conf.max_buffered;
	so.max_conns_per_ip = conf.max_conns_per_ip;
	if (conf.batch)
		lim.max_batch = conf.batch;
	if (conf.page)
		lim.def_page = conf.page;
	while ((k = next(o)) > 0) {
		if (k == 2)
			return usage_err("serve: unexpected argument '%s'", o->word);
		if (!(v = value(o)))
			return 2;
		if (!strcmp(o->name, "listen"))
			so.listen = v;
		else if (!strcmp(o->name, "threads"))
			so.threads = atoi(v);
		else if (!strcmp(o->name, "log-format") && strcmp(v, "json") && strcmp(v, "text"))
			return usage_err("serve: --log-format is text or json, not '%s'", v);
		else if (!strcmp(o->name, "log-format"))
			so.log_json = !strcmp(v, "json");
		else if (!strcmp(o->name, "port-file"))
			port_file = v;
		else if (!strcmp(o->name, "batch"))
			lim.max_batch = atoi(v);
		else if (!strcmp(o->name, "page"))
			lim.def_page = atoi(v);
		else if (!strcmp(o->name, "max-body"))
			so.max_body = (size_t)strtoull(v, NULL, 10);
		else if (!strcmp(o->name, "timeout"))
			so.timeout_s = atoi(v);
		else if (!strcmp(o->name, "tls-cert"))
			so.tls_cert = v;
		else if (!strcmp(o->name, "tls-key"))
			so.tls_key = v;
		else if (!strcmp(o->name, "tls-priorities"))
			so.tls_priorities = v;
		else if (!strcmp(o->name, "header-timeout") || !strcmp(o->name, "body-timeout") ||
			 !strcmp(o->name, "body-min-rate") || !strcmp(o->name, "max-conns-per-ip")) {
			int64_t n;
			int rate = !strcmp(o->name, "body-min-rate"), ip = !strcmp(o->name, "max-conns-per-ip");
			int64_t hi = rate ? 1000000000 : ip ? 65535 : 3600;
			if (fs_parse_int(v, &n) || n < 1 || n > hi)
				return usage_err("serve: --%s is a whole number 1-%lld, not '%s'", o->name, (long long)hi, v);
			*(rate ? &so.body_min_rate : ip ? &so.max_conns_per_ip :
			  !strcmp(o->name, "header-timeout") ? &so.header_timeout_s : &so.body_grace_s) = (int)n;
		} else if (!strcmp(o->name, "max-buffered")) {
			int64_t n;
			if (fs_parse_int(v, &n) || n < (1 << 20) || n > ((int64_t)1 << 36))
				return usage_err("serve: --max-buffered is bytes, %d-%lld, not '%s'", 1 << 20,
						 (long long)1 << 36, v);
			so.max_buffered = (size_t)n;
		}
		else if (!strcmp(o->name, "gc-every")) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || end == v || n < 0 || n > 8760)
				return usage_err("serve: --gc-every is hours, 0-8760 (0: never), not '%s'", v);
			gc_hours = (int)n;
		} else
			return usage_err("serve: unknown option --%s", o->name);
	}
	if (so.threads < 0 || so.threads > 256 || lim.max_batch < 1 || lim.def_page < 1 ||
	    lim.def_page > lim.max_page || so.timeout_s < 0 || so.timeout_s > 3600)
		return usage_err("serve: --threads 1-256, --batch >= 1, --page 1-%d, --timeout 1-3600",
				 lim.max_page);
	log_json = so.log_json;
	/* a key that every local user can read is no longer private: refuse
	 * to serve with it before anything else */
	if (so.tls_key && (k = hq_server_check_key(so.tls_key)))
		return fail(k);
	struct hq *h;
	/* several servers may share a PostgreSQL store; an SQLite file is locked
	 * shared against a restore under way */
	int lockfd = -1, rc = is_file_store() ? hq_store_lock(db_path, 0, &lockfd) : 0;
	if (rc)
		return fail(rc);
	if ((rc = open_hq(&h))) {
		close(lockfd);
		return rc;
	}
	const char *hold = getenv("FIELDSYNCD_TEST_HOLD_MS");
	lim.hold_ms = hold ? atoi(hold) : 0;
	hq_set_limits(h, &lim);
	if (conf.retention_years) {
		/* the file wins at every start: `setting set retention-years` lasts until the next one */
		char years[16];
		snprintf(years, sizeof years, "%d", conf.retention_years);
		if ((rc = hq_setting_set(h, "retention_years", years))) {
			hq_close(h);
			close(lockfd);
			return fail(rc);
		}
	}
	/* only hq_server_wait_signal() sees SIGTERM/SIGINT: block them before threads start */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	so.handler = hq_handle;
	so.admit = hq_admit;
	so.ctx = h;
	struct hq_server *srv;
	if ((rc = hq_server_start(&so, &srv))) {
		hq_close(h);
		close(lockfd);
		return fail(rc);
	}
	int port = hq_server_port(srv);
	hq_log(log_json, "info", "listening on %s (port %d%s), version %s, HQ replica %s, %s store %s%s%s",
	       so.listen, port,
	       so.tls_cert ? ", HTTPS" : "", FIELDSYNC_VERSION, hq_replica_id(h), hq_be(h)->name, shown_db(), conf.path[0] ? ", config " : "",
	       conf.path);
	/* a clock pushed far ahead before HQ checked clocks: say so at start,
	 * where an administrator looks, not only in the refusals that follow */
	long ahead = 0;
	int64_t was = 0;
	if (hq_repair_clock(h, 1, &ahead, &was) == 0 && (was || ahead)) {
		char at[32] = "";
		if (was)
			fs_iso_utc(fs_hlc_ms(was < FS_HLC_MAX ? was : FS_HLC_MAX), at);
		hq_log(log_json, "warning", "HQ's clock%s%s%s is beyond the clock bound and %ld record(s) are stamped"
		       " ahead of it: HQ refuses its own writes until 'fieldsyncd repair clock' is run",
		       was ? " (at " : "", at, was ? ")" : "", ahead);
	}
	if (conf.retention_years)
		hq_log(log_json, "info", "retention_years = %d from the configuration written to the settings:"
		       " devices purge ordinary visits older than %d years", conf.retention_years,
		       conf.retention_years);
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0)
			hq_log(log_json, "error", "cannot write %s: %s", port_file, strerror(errno));
	}
	/* garbage collection every gc_hours, on the server's own clock */
	int sig;
	while ((sig = hq_server_wait_signal_for(gc_hours * 3600)) == 0) {
		struct fieldsync_rows *r = NULL;
		int64_t tomb = 0, ev = 0, wait = 0;
		if ((rc = hq_gc(h, 0, &r))) {
			hq_log(log_json, "error", "garbage collection failed: %s", fs_errmsg_get());
			continue;
		}
		for (int i = 0; i < r->nrow; i++) {
			tomb += atoll(fs_rows_cell(r, i, 4));
			ev += atoll(fs_rows_cell(r, i, 5));
			wait += atoll(fs_rows_cell(r, i, 6));
		}
		hq_log(log_json, "info", "garbage collection: %lld tombstones and %lld evictions removed, %lld waiting"
		       " for devices", (long long)tomb, (long long)ev, (long long)wait);
		fs_rows_free(r);
	}
	hq_log(log_json, "info", "signal %d, finishing requests in flight", sig);
	hq_server_stop(srv);
	hq_close(h);
	close(lockfd);
	hq_log(log_json, "info", "stopped");
	return 0;
}

/* ---- reps and devices ---- */

static int cmd_rep(struct opts *o)
{
	const char *sub = o->i < o->argc ? o->argv[o->i++] : NULL, *name = NULL, *terr = NULL, *v;
	int wipe = 0, k;
	if (!sub)
		return usage_err("rep: add, token, move, revoke or list?");
	while ((k = next(o)) > 0) {
		if (k == 2) {
			if (name)
				return usage_err("rep %s: unexpected argument '%s'", sub, o->word);
			name = o->word;
		} else if (!strcmp(o->name, "territory") || !strcmp(o->name, "territories")) {
			if (!(v = value(o)))
				return 2;
			terr = v;
		} else if (!strcmp(o->name, "wipe") && !o->inl) {
			wipe = 1;
		} else {
			return usage_err("rep %s: unknown option --%s", sub, o->name);
		}
	}
	struct hq *h;
	char token[65];
	int rc;
	if (strcmp(sub, "list") && !name)
		return usage_err("rep %s: which rep?", sub);
	if ((!strcmp(sub, "add") || !strcmp(sub, "move")) && !terr)
		return usage_err("rep %s needs --territory T1[,T2...]", sub);
	if (strcmp(sub, "add") && strcmp(sub, "token") && strcmp(sub, "move") && strcmp(sub, "revoke") &&
	    strcmp(sub, "list"))
		return usage_err("rep: unknown subcommand '%s'", sub);
	if ((rc = open_hq(&h)))
		return rc;
	if (!strcmp(sub, "add") || !strcmp(sub, "token")) {
		rc = !strcmp(sub, "add") ? hq_rep_add(h, name, terr, token) : hq_rep_token(h, name, token);
		if (rc == 0) {
			if (json)
				printf("{\"rep\": \"%s\", \"enroll_token\": \"%s\", \"expires_days\": 7}\n", name, token);
			else
				printf("%s\n", token);
			fprintf(stderr, "fieldsyncd: enrolment token for %s (valid 7 days, once); on the device:\n"
				"  fieldsync init --server URL --token %s\n", name, token);
		}
	} else if (!strcmp(sub, "move")) {
		rc = hq_rep_move(h, name, terr);
	} else if (!strcmp(sub, "revoke")) {
		rc = hq_rep_revoke(h, name, wipe);
	} else {
		struct fieldsync_rows *r;
		rc = hq_rep_list(h, &r);
		if (rc == 0) {
			hq_close(h);
			return print_rows(r, NULL);
		}
	}
	hq_close(h);
	return rc ? fail(rc) : 0;
}

static int cmd_device(struct opts *o)
{
	const char *sub = o->i < o->argc ? o->argv[o->i++] : "list";
	struct hq *h;
	struct fieldsync_rows *r;
	int rc;
	while ((rc = next(o)) > 0)
		return usage_err("device: unexpected argument");
	if (strcmp(sub, "list"))
		return usage_err("device: unknown subcommand '%s'", sub);
	if ((rc = open_hq(&h)))
		return rc;
	rc = hq_device_list(h, &r);
	hq_close(h);
	return rc ? fail(rc) : print_rows(r, NULL);
}

/* ---- the archive ---- */

static int fields(struct opts *o, struct fs_chg *c, const char **key)
{
	int k;
	const char *v;
	while ((k = next(o)) > 0) {
		if (k == 2) {
			if (!key || *key)
				return usage_err("unexpected argument '%s'", o->word);
			*key = o->word;
			continue;
		}
		if (!(v = value(o)))
			return 2;
		int fi = fs_field_find(c->t, o->name);
		if (fi < 0 || (c->t->fields[fi].flags & FS_F_INTERNAL)) {
			fprintf(stderr, "fieldsyncd: unknown field '%s' for %s\n", o->name, c->t->name);
			return 2;
		}
		struct fs_val val = { 0 };
		int rc = *v ? fs_field_parse(&c->t->fields[fi], v, FS_PARSE_USER, &val) : 0;
		if (rc == 0)
			rc = fs_chg_set(c, fi, &val);
		fs_val_release(&val);
		if (rc)
			return fail(rc);
	}
	return 0;
}

static int cmd_customer_import(struct opts *o)
{
	const char *file = NULL;
	int dry = 0, k;
	while ((k = next(o)) > 0) {
		if (k == 2 && !file)
			file = o->word;
		else if (k == 1 && !strcmp(o->name, "dry-run") && !o->inl)
			dry = 1;
		else
			return usage_err("customer import FILE.csv [--dry-run]");
	}
	if (!file)
		return usage_err("customer import needs a FILE.csv (\"-\" for standard input)");
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = open_hq(&h);
	if (rc)
		return rc;
	rc = hq_import(h, file, dry, &r);
	hq_close(h);
	if (rc)
		return fail(rc);
	if (!json) {
		int n[3] = { 0 };
		for (int i = 0; i < r->nrow; i++) {
			const char *a = r->cells[(size_t)i * (size_t)r->ncol + 1];
			n[!strcmp(a, "created") ? 0 : !strcmp(a, "updated") ? 1 : 2]++;
		}
		fprintf(stderr, "fieldsyncd: %s%d created, %d updated, %d unchanged\n",
			dry ? "dry run, nothing written: " : "", n[0], n[1], n[2]);
	}
	return print_rows(r, NULL);
}

static int cmd_export(struct opts *o)
{
	const char *what = NULL, *file = NULL, *from = NULL, *to = NULL, *v;
	int bom = 0, k;
	while ((k = next(o)) > 0) {
		if (k == 2) {
			if (!what)
				what = o->word;
			else if (!file)
				file = o->word;
			else
				return usage_err("export: unexpected argument '%s'", o->word);
		} else if (!strcmp(o->name, "bom") && !o->inl) {
			bom = 1;
		} else if (!strcmp(o->name, "from") || !strcmp(o->name, "to")) {
			if (!(v = value(o)))
				return 2;
			*(o->name[0] == 'f' ? &from : &to) = v;
		} else {
			return usage_err("export: unknown option --%s", o->name);
		}
	}
	if (!what)
		return usage_err("export customers|visits|money [--from D] [--to D] [--bom] [FILE]");
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = open_hq(&h);
	if (rc)
		return rc;
	rc = hq_export(h, what, from, to, &r);
	hq_close(h);
	if (rc)
		return fail(rc);
	FILE *fp = file && strcmp(file, "-") ? fopen(file, "wb") : stdout;
	if (!fp) {
		fs_rows_free(r);
		return fail(fs_err(FIELDSYNC_EIO, "cannot write %s: %s", file, strerror(errno)));
	}
	rc = fieldsync_rows_print(r, fp, FIELDSYNC_FMT_CSV | (bom ? FIELDSYNC_FMT_BOM : 0), NULL);
	if (fp != stdout && fclose(fp) != 0 && !rc)
		rc = fs_err(FIELDSYNC_EIO, "writing %s failed", file);
	fs_rows_free(r);
	return rc ? fail(rc) : 0;
}

static int cmd_customer(struct opts *o)
{
	const char *sub = o->i < o->argc ? o->argv[o->i++] : NULL, *key = NULL;
	const struct fs_table *t = &fs_tbl_customer;
	struct fs_chg c;
	struct hq *h;
	char id[33];
	int rc;
	if (!sub)
		return usage_err("customer: add, edit, show, list or delete?");
	fs_chg_init(&c, t);
	if (!strcmp(sub, "import"))
		return cmd_customer_import(o);
	if (!strcmp(sub, "list")) {
		const char *filters[64], *search = NULL, *v;
		char buf[64][320];
		int n = 0, k;
		while ((k = next(o)) > 0) {
			if (k == 2 || n == 63)
				return usage_err("customer list: unexpected argument");
			if (!(v = value(o)))
				return 2;
			if (!strcmp(o->name, "search")) {
				search = v;
				continue;
			}
			snprintf(buf[n], sizeof buf[n], "%s=%s", o->name, v);
			filters[n] = buf[n];
			n++;
		}
		filters[n] = NULL;
		struct fieldsync_rows *r;
		if ((rc = open_hq(&h)))
			return rc;
		rc = hq_list(h, t, filters, search, &r);
		hq_close(h);
		return rc ? fail(rc) : print_rows(r, "id,code,name,territory,route_seq,grade,status,city,phone");
	}
	int adding = !strcmp(sub, "add");
	if (!adding && strcmp(sub, "edit") && strcmp(sub, "show") && strcmp(sub, "delete"))
		return usage_err("customer: unknown subcommand '%s'", sub);
	if ((rc = fields(o, &c, adding ? NULL : &key))) {
		fs_chg_release(&c);
		return rc;
	}
	if (!adding && !key) {
		fs_chg_release(&c);
		return usage_err("customer %s: which customer?", sub);
	}
	if (!strcmp(sub, "edit") && fs_chg_count(&c) == 0) {
		fs_chg_release(&c);
		return usage_err("customer edit needs at least one --FIELD VALUE");
	}
	if ((rc = open_hq(&h))) {
		fs_chg_release(&c);
		return rc;
	}
	if (!adding)
		rc = hq_lookup(h, t, key, id);
	if (rc == 0 && !strcmp(sub, "show")) {
		struct fieldsync_rows *r;
		rc = hq_show(h, t, id, &r);
		if (rc == 0) {
			fieldsync_rows_print(r, stdout, json ? FIELDSYNC_FMT_OBJECT : FIELDSYNC_FMT_RECORD, NULL);
			fs_rows_free(r);
		}
	} else if (rc == 0) {
		if (!strcmp(sub, "delete")) {
			struct fs_val one = { 0 };
			fs_val_set_int(&one, 1);
			fs_chg_set(&c, t->deleted_field, &one);
		}
		rc = hq_write(h, &c, adding ? NULL : id, id);
		if (rc == 0)
			printf(json ? "{\"id\": \"%s\"}\n" : "%s\n", id);
	}
	hq_close(h);
	fs_chg_release(&c);
	return rc ? fail(rc) : 0;
}

static int cmd_conflicts(struct opts *o)
{
	const char *sub = NULL, *id = NULL, *keep = NULL;
	int all = 0, k;
	struct hq *h;
	while ((k = next(o)) > 0) {
		if (k == 2) {
			if (!sub)
				sub = o->word;
			else if (!id)
				id = o->word;
			else
				return usage_err("conflicts: unexpected argument '%s'", o->word);
		} else if (!strcmp(o->name, "all") && !o->inl) {
			all = 1;
		} else if (!strcmp(o->name, "keep")) {
			if (!(keep = value(o)))
				return 2;
		} else {
			return usage_err("conflicts: unknown option --%s", o->name);
		}
	}
	if (sub && strcmp(sub, "resolve"))
		return usage_err("conflicts: unknown subcommand '%s'", sub);
	if (sub && (!id || !keep || (strcmp(keep, "winner") && strcmp(keep, "loser"))))
		return usage_err("conflicts resolve ID --keep winner|loser");
	int rc = open_hq(&h);
	if (rc)
		return rc;
	if (sub) {
		char cid[33];
		rc = hq_lookup(h, &fs_tbl_conflict, id, cid);
		if (rc == 0)
			rc = hq_resolve(h, cid, !strcmp(keep, "loser"));
		if (rc == 0)
			printf(json ? "{\"resolved\": \"%s\"}\n" : "resolved %s\n", cid);
		hq_close(h);
		return rc ? fail(rc) : 0;
	}
	struct fieldsync_rows *r;
	rc = hq_conflict_list(h, all, &r);
	hq_close(h);
	return rc ? fail(rc) : print_rows(r, NULL);
}

static int cmd_quarantine(struct opts *o)
{
	struct hq *h;
	struct fieldsync_rows *r;
	int rc;
	while ((rc = next(o)) > 0)
		return usage_err("quarantine: unexpected argument");
	if ((rc = open_hq(&h)))
		return rc;
	rc = hq_quarantine_list(h, &r);
	hq_close(h);
	return rc ? fail(rc) : print_rows(r, "at,rep,device,tbl,rec_id,reason,decision");
}

/* ---- dashboard administrators (web.h) ---- */

static int cmd_admin(struct opts *o)
{
	const char *sub = o->i < o->argc ? o->argv[o->i++] : NULL, *name = NULL;
	char pw[HQ_ADMIN_PW_LEN];
	struct fieldsync_rows *r;
	struct hq *h;
	int k, rc;
	if (!sub)
		return usage_err("admin: add, reset, remove, list or log?");
	while ((k = next(o)) > 0) {
		if (k != 2 || name)
			return usage_err("admin %s: unexpected argument", sub);
		name = o->word;
	}
	int named = !strcmp(sub, "add") || !strcmp(sub, "reset") || !strcmp(sub, "remove");
	if (!named && strcmp(sub, "list") && strcmp(sub, "log"))
		return usage_err("admin: unknown subcommand '%s'", sub);
	if (named != (name != NULL))
		return usage_err(named ? "admin %s: which admin?" : "admin %s takes no name", sub);
	if ((rc = open_hq(&h)))
		return rc;
	if (!strcmp(sub, "add") || !strcmp(sub, "reset")) {
		rc = !strcmp(sub, "add") ? hq_admin_add(h, name, pw) : hq_admin_reset(h, name, pw);
		if (rc == 0) {
			if (json)
				printf("{\"admin\": \"%s\", \"password\": \"%s\"}\n", name, pw);
			else
				printf("%s\n", pw);
			sodium_memzero(pw, sizeof pw);
			fprintf(stderr, "fieldsyncd: password for %s (shown once; HQ keeps only its hash); sign in at\n"
				"  http(s)://HOST:PORT/admin/\n", name);
		}
	} else if (!strcmp(sub, "remove")) {
		rc = hq_admin_remove(h, name);
	} else {
		rc = !strcmp(sub, "list") ? hq_admin_list(h, &r) : hq_decision_list(h, &r);
		if (rc == 0) {
			hq_close(h);
			return print_rows(r, NULL);
		}
	}
	hq_close(h);
	return rc ? fail(rc) : 0;
}

/* ---- backup and restore (docs/operations.md) ---- */

static int one_file(struct opts *o, const char *cmd, const char **file, int *no_keep)
{
	int k;
	*file = NULL;
	while ((k = next(o)) > 0) {
		if (k == 2 && !*file)
			*file = o->word;
		else if (k == 1 && no_keep && !strcmp(o->name, "no-keep") && !o->inl)
			*no_keep = 1;
		else
			return usage_err(k == 2 ? "%s: unexpected argument '%s'" : "%s: unknown option --%s", cmd,
					 k == 2 ? o->word : o->name);
	}
	return *file ? 0 : usage_err("%s needs a FILE", cmd);
}

static int same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static void print_done(const char *what, const char *file, const char *extra_key, const char *extra)
{
	struct stat st;
	long long bytes = stat(file, &st) == 0 ? (long long)st.st_size : -1;
	if (json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, what, file);
		cJSON_AddStringToObject(j, "store", db_path);
		cJSON_AddNumberToObject(j, "bytes", (double)bytes);
		if (extra_key)
			cJSON_AddStringToObject(j, extra_key, extra ? extra : "");
		char *t = cJSON_PrintUnformatted(j);
		if (t)
			printf("%s\n", t);
		cJSON_free(t);
		cJSON_Delete(j);
	}
}

/* ---- settings and reports (hq_report.h) ---- */

static int cmd_setting(struct opts *o)
{
	const char *sub = o->i < o->argc ? o->argv[o->i++] : "show", *words[2] = { NULL, NULL };
	int k, n = 0;
	while ((k = next(o)) > 0) {
		if (k != 2 || n == 2)
			return usage_err("setting %s: unexpected argument", sub);
		words[n++] = o->word;
	}
	if (strcmp(sub, "show") && strcmp(sub, "set"))
		return usage_err("setting: set or show?");
	if (!strcmp(sub, "set") && n != 2)
		return usage_err("setting set KEY VALUE (due-days A=7,B=14,..., retention-years N, lapse-days N;"
				 " \"\" = the default)");
	if (!strcmp(sub, "show") && n)
		return usage_err("setting show takes no argument");
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = open_hq(&h);
	if (rc)
		return rc;
	if (!strcmp(sub, "set")) {
		char key[64];
		snprintf(key, sizeof key, "%s", words[0]);
		for (char *p = key; *p; p++)
			*p = *p == '-' ? '_' : *p;
		rc = hq_setting_set(h, key, words[1]);
	}
	if (rc == 0)
		rc = hq_settings(h, &r);
	hq_close(h);
	return rc ? fail(rc) : print_rows(r, NULL);
}

/* fieldsyncd dispute visit|payment|customer ID [--clear]: HQ's own write of `disputed`. */
static int cmd_dispute(struct opts *o)
{
	const char *table = NULL, *key = NULL;
	int clear = 0, k;
	while ((k = next(o)) > 0) {
		if (k == 1 && !strcmp(o->name, "clear") && !o->inl)
			clear = 1;
		else if (k == 1)
			return usage_err("dispute: unknown option --%s", o->name);
		else if (!table)
			table = o->word;
		else if (!key)
			key = o->word;
		else
			return usage_err("dispute: unexpected argument '%s'", o->word);
	}
	if (!table || (strcmp(table, "visit") && strcmp(table, "payment") && strcmp(table, "customer")))
		return usage_err("dispute: '%s' is not visit, payment or customer", table ? table : "");
	if (!key)
		return usage_err("dispute %s: which %s? (an ID)", table, table);
	const struct fs_table *t = fs_table_find(table);
	struct fieldsync_rows *cur = NULL;
	struct hq *h;
	char id[33];
	int rc = open_hq(&h);
	if (rc)
		return rc;
	if ((rc = hq_lookup(h, t, key, id)) == 0)
		rc = hq_show(h, t, id, &cur);
	int was = 0;
	for (int c = 0; rc == 0 && c < cur->ncol; c++)
		if (!strcmp(cur->names[c], "disputed"))
			was = fs_rows_cell(cur, 0, c) && !strcmp(fs_rows_cell(cur, 0, c), "1");
	fs_rows_free(cur);
	if (rc == 0 && was != !clear) {
		struct fs_chg c;
		struct fs_val v = { 0 };
		fs_chg_init(&c, t);
		fs_val_set_int(&v, !clear);
		rc = fs_chg_set(&c, fs_field_find(t, "disputed"), &v);
		if (rc == 0)
			rc = hq_write(h, &c, id, NULL);
		fs_chg_release(&c);
	}
	hq_close(h);
	if (rc)
		return fail(rc);
	fieldsync_dispute_print(stdout, json, table, id, was, clear);
	return 0;
}

static int cmd_report(struct opts *o)
{
	const char *kind = o->i < o->argc ? o->argv[o->i++] : NULL, *v;
	const char *by = NULL, *month = NULL, *terr = NULL, *date = NULL;
	int k;
	if (!kind)
		return usage_err("report: visits, customers, money or overdue?");
	while ((k = next(o)) > 0) {
		if (k == 2)
			return usage_err("report %s: unexpected argument '%s'", kind, o->word);
		const char **dst = !strcmp(o->name, "by") ? &by : !strcmp(o->name, "month") ? &month :
				   !strcmp(o->name, "territory") ? &terr : !strcmp(o->name, "date") ? &date : NULL;
		if (!dst)
			return usage_err("report %s: unknown option --%s", kind, o->name);
		if (!(v = value(o)))
			return 2;
		*dst = v;
	}
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = open_hq(&h);
	if (rc)
		return rc;
	rc = hq_report(h, kind, by, month, terr, date, &r);
	hq_close(h);
	if (rc)
		return fail(rc);
	const char *cols = NULL;
	if (!strcmp(kind, "overdue"))
		cols = "customer,code,territory,grade,interval_days,last_done,days_since,overdue_days,next_planned";
	else if (!strcmp(kind, "money") && by && !strcmp(by, "open"))
		cols = "date,customer,grade,receivable,received,outstanding,visit_id";
	else if (!strcmp(kind, "money") && by && !strcmp(by, "customer"))
		cols = "customer,code,grade,territory,ordered,receivable,received,outstanding";
	return print_rows(r, cols);
}

/* ---- garbage collection (gc.c) ---- */

static int cmd_gc(struct opts *o)
{
	int k, dry = 0;
	while ((k = next(o)) > 0) {
		if (k == 2)
			return usage_err("gc: unexpected argument '%s'", o->word);
		if (!strcmp(o->name, "dry-run") && !o->inl)
			dry = 1;
		else
			return usage_err("gc: unknown option --%s", o->name);
	}
	struct hq *h;
	struct fieldsync_rows *r;
	int rc = open_hq(&h);
	if (rc)
		return rc;
	rc = hq_gc(h, dry, &r);
	hq_close(h);
	if (rc)
		return fail(rc);
	if (!json && !csv)
		printf("%s\n", dry ? "dry run: nothing was removed" : "garbage collection done");
	return print_rows(r, NULL);
}

static int cmd_repair(struct opts *o)
{
	int k, dry = 0, clock = 0;
	while ((k = next(o)) > 0) {
		if (k == 2 && !clock && !strcmp(o->word, "clock"))
			clock = 1;
		else if (k == 2)
			return usage_err("repair: unexpected argument '%s'", o->word);
		else if (!strcmp(o->name, "dry-run") && !o->inl)
			dry = 1;
		else
			return usage_err("repair: unknown option --%s", o->name);
	}
	if (!clock)
		return usage_err("repair: what to repair? (only 'clock' is known)");
	struct hq *h;
	long n = 0;
	int64_t was = 0;
	int rc = open_hq(&h);
	if (rc)
		return rc;
	rc = hq_repair_clock(h, dry, &n, &was);
	hq_close(h);
	if (rc)
		return fail(rc);
	char at[32] = "";
	if (was)
		fs_iso_utc(fs_hlc_ms(was < FS_HLC_MAX ? was : FS_HLC_MAX), at);
	if (json)
		printf("{\"records\": %ld, \"clock_was\": %s%s%s, \"dry_run\": %s}\n", n, was ? "\"" : "",
		       was ? at : "null", was ? "\"" : "", dry ? "true" : "false");
	else
		printf("%s%s%s%s %ld record%s\n", was ? "HQ clock set back from " : "", was ? at : "",
		       was ? "; " : "", dry ? "would restamp" : "restamped", n, n == 1 ? "" : "s");
	return 0;
}

static int cmd_backup(struct opts *o)
{
	const char *file;
	int rc = one_file(o, "backup", &file, NULL);
	if (rc)
		return rc;
	if (!is_file_store())
		return no_dump("backup");
	if (same_file(file, db_path))
		return usage_err("backup: %s is the store itself", file);
	struct hq *h;
	if ((rc = open_hq(&h)))
		return rc;
	rc = hq_backup(h, file);
	hq_close(h);
	if (rc)
		return fail(rc);
	print_done("backup", file, NULL, NULL);
	if (!json)
		printf("backup of %s written to %s\n", db_path, file);
	return 0;
}

static int cmd_restore(struct opts *o)
{
	const char *file;
	int no_keep = 0, lockfd, rc = one_file(o, "restore", &file, &no_keep);
	char keep[4200] = "", old[33] = "", now[32], id[33];
	if (rc)
		return rc;
	if (!is_file_store())
		return no_dump("restore");
	if (same_file(file, db_path))
		return usage_err("restore: %s is the store itself", file);
	/* no server on the store while its content is replaced under it */
	if ((rc = hq_store_lock(db_path, 1, &lockfd)))
		return fail(rc);
	if (!no_keep && access(db_path, F_OK) == 0) {
		/* what is replaced stays at hand: STORE.pre-restore-<time> */
		struct hq *h;
		fs_iso_utc(fs_wall_ms(), now);
		for (char *p = now; *p; p++)
			if (*p == ':' || *p == '-')
				memmove(p, p + 1, strlen(p));
		snprintf(keep, sizeof keep, "%s.pre-restore-%s", db_path, now);
		rc = hq_open(db_path, &h);
		if (rc == 0) {
			snprintf(old, sizeof old, "%s", hq_replica_id(h));
			rc = hq_backup(h, keep);
			hq_close(h);
		}
		if (rc) {
			fs_err_wrap(rc, "cannot keep a copy of the current store (--no-keep replaces it without one)");
			close(lockfd);
			return fail(rc);
		}
	}
	rc = hq_restore(db_path, file, id);
	close(lockfd);
	if (rc)
		return fail(rc);
	print_done("restored", file, "replica_id", id);
	if (!json)
		printf("restored %s from %s; HQ replica id %s%s%s (devices send what they hold again and pull"
		       " everything anew on their next sync)\n", db_path, file, id, old[0] ? ", was " : "", old);
	if (keep[0])
		fprintf(stderr, "fieldsyncd: the replaced store is kept as %s\n", keep);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { argc, 1, argv, "", NULL, NULL };
	const char *db_flag = NULL, *config = NULL;
	db_path = getenv("FIELDSYNCD_DB");
	if (!db_path || !*db_path)
		db_path = NULL;
	for (; o.i < argc; o.i++) {
		const char *a = argv[o.i];
		if (!strcmp(a, "--db") && o.i + 1 < argc)
			db_flag = argv[++o.i];
		else if (!strncmp(a, "--db=", 5))
			db_flag = a + 5;
		else if (!strcmp(a, "--config") && o.i + 1 < argc)
			config = argv[++o.i];
		else if (!strncmp(a, "--config=", 9))
			config = a + 9;
		else if (!strcmp(a, "--json"))
			json = 1;
		else if (!strcmp(a, "--csv"))
			csv = 1;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("fieldsyncd %s\n", FIELDSYNC_VERSION);
			return 0;
		} else if (a[0] == '-')
			return usage_err("unknown option %s", a);
		else
			break;
	}
	if (o.i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[o.i++];
	for (int i = o.i; i < argc; i++)
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
	/* the store: --db, else $FIELDSYNCD_DB, else the configuration's db */
	int crc = hq_conf_load(config, &conf);
	if (crc)
		return fail(crc);
	db_path = db_flag ? db_flag : db_path ? db_path : conf.db ? conf.db : "fieldsync-hq.db";
	if (!strcmp(cmd, "init") || !strcmp(cmd, "migrate")) {
		int rc = hq_init(db_path);
		if (rc)
			return fail(rc);
		struct hq *h;
		if ((rc = open_hq(&h)))
			return rc;
		printf(json ? "{\"store\": \"%s\", \"replica_id\": \"%s\"}\n" : "HQ store %s ready, replica %s\n",
		       shown_db(), hq_replica_id(h));
		hq_close(h);
		return 0;
	}
	if (!strcmp(cmd, "serve"))
		return cmd_serve(&o);
	if (!strcmp(cmd, "rep"))
		return cmd_rep(&o);
	if (!strcmp(cmd, "device") || !strcmp(cmd, "devices"))
		return cmd_device(&o);
	if (!strcmp(cmd, "customer"))
		return cmd_customer(&o);
	if (!strcmp(cmd, "conflicts"))
		return cmd_conflicts(&o);
	if (!strcmp(cmd, "quarantine"))
		return cmd_quarantine(&o);
	if (!strcmp(cmd, "admin"))
		return cmd_admin(&o);
	if (!strcmp(cmd, "gc"))
		return cmd_gc(&o);
	if (!strcmp(cmd, "backup"))
		return cmd_backup(&o);
	if (!strcmp(cmd, "repair"))
		return cmd_repair(&o);
	if (!strcmp(cmd, "restore"))
		return cmd_restore(&o);
	if (!strcmp(cmd, "setting") || !strcmp(cmd, "settings"))
		return cmd_setting(&o);
	if (!strcmp(cmd, "dispute"))
		return cmd_dispute(&o);
	if (!strcmp(cmd, "report"))
		return cmd_report(&o);
	if (!strcmp(cmd, "export"))
		return cmd_export(&o);
	return usage_err("unknown command '%s'", cmd);
}
