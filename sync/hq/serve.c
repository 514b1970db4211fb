/* serve.c - `fieldsyncd serve`: the sync server until SIGTERM or SIGINT. */
#include "daemon.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "router.h"
#include "settings.h"
#include "server.h"
#include "util.h"

/* ---- serve ---- */

int fsd_cmd_serve(struct kit_args *o)
{
	struct hq_server_opts so = { 0 };
	struct hq_limits lim = { 1000, 5000, 1000, 0 };
	const char *port_file = NULL, *v;
	int k, gc_hours = 24;
	so.listen = "127.0.0.1:8080";
	/* the configuration file first; options given here override it */
	if (fsd_conf.listen)
		so.listen = fsd_conf.listen;
	so.threads = fsd_conf.threads;
	so.log_json = fsd_conf.log_json == 1;
	so.max_body = (size_t)fsd_conf.max_body;
	so.tls_cert = fsd_conf.tls_cert;
	so.tls_key = fsd_conf.tls_key;
	so.tls_priorities = fsd_conf.tls_priorities;
	so.header_timeout_s = fsd_conf.header_timeout;
	so.body_grace_s = fsd_conf.body_timeout;
	so.body_min_rate = fsd_conf.body_min_rate;
	so.max_buffered = (size_t)fsd_conf.max_buffered;
	so.max_conns_per_ip = fsd_conf.max_conns_per_ip;
	if (fsd_conf.batch)
		lim.max_batch = fsd_conf.batch;
	if (fsd_conf.page)
		lim.def_page = fsd_conf.page;
	static const char *const known[] = { "listen", "threads", "log-format", "port-file", "batch", "page",
					     "max-body", "timeout", "tls-cert", "tls-key", "tls-priorities",
					     "header-timeout", "body-timeout", "body-min-rate", "max-conns-per-ip",
					     "max-buffered", "gc-every", NULL };
	while ((k = kit_next(o)) > 0) {
		int is = 0;
		for (int i = 0; k == 1 && known[i]; i++)
			is |= kit_is(o, known[i]);
		if (!is)
			return kit_unknown(o);
		if (!(v = kit_value(o)))
			return 2;
		if (kit_is(o, "listen"))
			so.listen = v;
		else if (kit_is(o, "threads"))
			so.threads = atoi(v);
		else if (kit_is(o, "log-format") && strcmp(v, "json") && strcmp(v, "text"))
			return fsd_usage_err("serve: --log-format is text or json, not '%s'", v);
		else if (kit_is(o, "log-format"))
			so.log_json = !strcmp(v, "json");
		else if (kit_is(o, "port-file"))
			port_file = v;
		else if (kit_is(o, "batch"))
			lim.max_batch = atoi(v);
		else if (kit_is(o, "page"))
			lim.def_page = atoi(v);
		else if (kit_is(o, "max-body"))
			so.max_body = (size_t)strtoull(v, NULL, 10);
		else if (kit_is(o, "timeout"))
			so.timeout_s = atoi(v);
		else if (kit_is(o, "tls-cert"))
			so.tls_cert = v;
		else if (kit_is(o, "tls-key"))
			so.tls_key = v;
		else if (kit_is(o, "tls-priorities"))
			so.tls_priorities = v;
		else if (kit_is(o, "header-timeout") || kit_is(o, "body-timeout") ||
			 kit_is(o, "body-min-rate") || kit_is(o, "max-conns-per-ip")) {
			int64_t n;
			int rate = kit_is(o, "body-min-rate"), ip = kit_is(o, "max-conns-per-ip");
			int64_t hi = rate ? 1000000000 : ip ? 65535 : 3600;
			if (fs_parse_int(v, &n) || n < 1 || n > hi)
				return fsd_usage_err("serve: --%s is a whole number 1-%lld, not '%s'", o->opt, (long long)hi, v);
			*(rate ? &so.body_min_rate : ip ? &so.max_conns_per_ip :
			  kit_is(o, "header-timeout") ? &so.header_timeout_s : &so.body_grace_s) = (int)n;
		} else if (kit_is(o, "max-buffered")) {
			int64_t n;
			if (fs_parse_int(v, &n) || n < (1 << 20) || n > ((int64_t)1 << 36))
				return fsd_usage_err("serve: --max-buffered is bytes, %d-%lld, not '%s'", 1 << 20,
						 (long long)1 << 36, v);
			so.max_buffered = (size_t)n;
		}
		else if (kit_is(o, "gc-every")) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || end == v || n < 0 || n > 8760)
				return fsd_usage_err("serve: --gc-every is hours, 0-8760 (0: never), not '%s'", v);
			gc_hours = (int)n;
		}
	}
	if (o->bad)
		return 2;
	if (so.threads < 0 || so.threads > 256 || lim.max_batch < 1 || lim.def_page < 1 ||
	    lim.def_page > lim.max_page || so.timeout_s < 0 || so.timeout_s > 3600)
		return fsd_usage_err("serve: --threads 1-256, --batch >= 1, --page 1-%d, --timeout 1-3600",
				 lim.max_page);
	fsd_log_json = so.log_json;
	/* a key that every local user can read is no longer private: refuse
	 * to serve with it before anything else */
	if (so.tls_key && (k = hq_server_check_key(so.tls_key)))
		return fsd_fail(k);
	struct hq *h;
	/* several servers may share a PostgreSQL store; an SQLite file is locked
	 * shared against a restore under way */
	int lockfd = -1, rc = fsd_is_file_store() ? hq_store_lock(fsd_db_path, 0, &lockfd) : 0;
	if (rc)
		return fsd_fail(rc);
	if ((rc = fsd_open_hq(&h))) {
		close(lockfd);
		return rc;
	}
	const char *hold = getenv("FIELDSYNCD_TEST_HOLD_MS");
	lim.hold_ms = hold ? atoi(hold) : 0;
	hq_set_limits(h, &lim);
	if (fsd_conf.retention_years) {
		/* the file wins at every start: `setting set retention-years` lasts until the next one */
		char years[16];
		snprintf(years, sizeof years, "%d", fsd_conf.retention_years);
		if ((rc = hq_setting_set(h, "retention_years", years))) {
			hq_close(h);
			close(lockfd);
			return fsd_fail(rc);
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
		return fsd_fail(rc);
	}
	int port = hq_server_port(srv);
	hq_log(fsd_log_json, "info", "listening on %s (port %d%s), version %s, HQ replica %s, %s store %s%s%s",
	       so.listen, port,
	       so.tls_cert ? ", HTTPS" : "", FIELDSYNC_VERSION, hq_replica_id(h), hq_be(h)->name, fsd_shown_db(), fsd_conf.path[0] ? ", config " : "",
	       fsd_conf.path);
	/* a clock pushed far ahead before HQ checked clocks: say so at start,
	 * where an administrator looks, not only in the refusals that follow
	 * (one row read: a start does not scan the records) */
	int64_t was;
	if (hq_clock_beyond(h, &was)) {
		char at[32];
		fs_iso_utc(fs_hlc_ms(was < FS_HLC_MAX ? was : FS_HLC_MAX), at);
		hq_log(fsd_log_json, "warning", "HQ's clock (at %s) is beyond the clock bound: HQ refuses its own"
		       " writes until 'fieldsyncd repair clock' is run", at);
	}
	if (fsd_conf.retention_years)
		hq_log(fsd_log_json, "info", "retention_years = %d from the configuration written to the settings:"
		       " devices purge ordinary visits older than %d years", fsd_conf.retention_years,
		       fsd_conf.retention_years);
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0)
			hq_log(fsd_log_json, "error", "cannot write %s: %s", port_file, strerror(errno));
	}
	/* garbage collection every gc_hours, on the server's own clock */
	int sig;
	while ((sig = hq_server_wait_signal_for(gc_hours * 3600)) == 0) {
		struct fieldsync_rows *r = NULL;
		int64_t tomb = 0, ev = 0, wait = 0;
		if ((rc = hq_gc(h, 0, &r))) {
			hq_log(fsd_log_json, "error", "garbage collection failed: %s", fs_errmsg_get());
			continue;
		}
		for (int i = 0; i < r->nrow; i++) {
			tomb += atoll(fs_rows_cell(r, i, 4));
			ev += atoll(fs_rows_cell(r, i, 5));
			wait += atoll(fs_rows_cell(r, i, 6));
		}
		hq_log(fsd_log_json, "info", "garbage collection: %lld tombstones and %lld evictions removed, %lld waiting"
		       " for devices", (long long)tomb, (long long)ev, (long long)wait);
		fs_rows_free(r);
	}
	hq_log(fsd_log_json, "info", "signal %d, finishing requests in flight", sig);
	hq_server_stop(srv);
	hq_close(h);
	close(lockfd);
	hq_log(fsd_log_json, "info", "stopped");
	return 0;
}

/* ---- reps and devices ---- */

