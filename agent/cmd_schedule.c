/*
 * cmd_schedule.c - `fieldsync schedule install|status|remove|run`: the
 * nightly sync "on the prescribed schedule".
 *
 * install writes a systemd user service + timer (or prints a crontab line
 * with --cron) whose command is `fieldsync --db STORE schedule run`. The
 * run takes a lock (flock on STORE.schedule-lock: a second run finds it held and
 * leaves), waits a random part of --jitter (cron has no randomised delay of
 * its own), then syncs; a network failure is retried with exponential
 * backoff (--attempts, --delay-ms doubling each time). Every run appends its
 * outcome to a log file ($XDG_STATE_HOME/fieldsync/sync.log by default).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

#define UNIT "fieldsync-sync"

static const char help[] =
	"usage: fieldsync schedule install [--at HH:MM] [--jitter DURATION] [--cron] [--enable]\n"
	"       fieldsync schedule status\n"
	"       fieldsync schedule remove\n"
	"       fieldsync schedule run [--attempts N] [--delay-ms MS] [--jitter DURATION] [--log FILE]\n\n"
	"install  writes a systemd user service and timer (" UNIT ".service, .timer) into\n"
	"         $XDG_CONFIG_HOME/systemd/user that run `schedule run` every day at --at\n"
	"         (default 02:00) plus a random delay up to --jitter (default 30m; 90s, 2h);\n"
	"         --enable also runs systemctl --user daemon-reload and enable --now.\n"
	"         --cron prints a crontab line instead and writes nothing.\n"
	"status   what is installed, when it runs, the last scheduled run, the last sync.\n"
	"remove   disables (if enabled) and deletes the two unit files.\n"
	"run      what the timer runs: one sync under a lock (a second run at the same\n"
	"         time does nothing), retried on network failure --attempts times\n"
	"         (default 5) after --delay-ms (default 60000), doubling; each run is\n"
	"         logged to --log (default $XDG_STATE_HOME/fieldsync/sync.log).\n";

/* "30m", "90s", "2h", "45" (seconds) into seconds; -1 if not a duration. */
static long duration(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	long mul = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : -1;
	if (mul < 0 || v > 86400 / mul)
		return -1;
	return v * mul;
}

static int at_time(const char *s, int *h, int *m)
{
	char extra;
	return s && strlen(s) == 5 && sscanf(s, "%2d:%2d%c", h, m, &extra) == 2 && *h >= 0 && *h < 24 &&
	       *m >= 0 && *m < 60 && s[2] == ':';
}

/* The directory of base-dir variable `var` (else $HOME/fallback) + sub. */
static int xdg_dir(const char *var, const char *fallback, const char *sub, char *out, size_t n)
{
	const char *v = getenv(var), *home = getenv("HOME");
	int k = v && *v ? snprintf(out, n, "%s/%s", v, sub) :
		home && *home ? snprintf(out, n, "%s/%s/%s", home, fallback, sub) : -1;
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int bad = mkdir(path, 0700) && errno != EEXIST;
		*p = '/';
		if (bad)
			return -1;
	}
	return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

/* Absolute paths of this program and of the store. */
static int paths(struct cli *c, char exe[PATH_MAX], char db[PATH_MAX])
{
	char given[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX - 1);
	if (n <= 0) {
		fprintf(stderr, "fieldsync: cannot find my own path: %s\n", strerror(errno));
		return 5;
	}
	exe[n] = '\0';
	if (c->db)
		snprintf(given, sizeof given, "%s", c->db);
	else if (fieldsync_default_path(given, sizeof given))
		return cli_fail(FIELDSYNC_EINVAL);
	if (!realpath(given, db)) {
		fprintf(stderr, "fieldsync: no store at %s (run 'fieldsync init' first)\n", given);
		return 3;
	}
	return 0;
}

static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *fp = fopen(tmp, "w");
	if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0) {
		fprintf(stderr, "fieldsync: cannot write %s: %s\n", tmp, strerror(errno));
		return 5;
	}
	if (rename(tmp, path)) {
		fprintf(stderr, "fieldsync: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return 5;
	}
	return 0;
}

static int unit_paths(char dir[PATH_MAX], char svc[PATH_MAX + 32], char tmr[PATH_MAX + 32], char wants[PATH_MAX + 64])
{
	if (xdg_dir("XDG_CONFIG_HOME", ".config", "systemd/user", dir, PATH_MAX)) {
		fprintf(stderr, "fieldsync: neither XDG_CONFIG_HOME nor HOME is set\n");
		return 2;
	}
	snprintf(svc, PATH_MAX + 32, "%s/" UNIT ".service", dir);
	snprintf(tmr, PATH_MAX + 32, "%s/" UNIT ".timer", dir);
	snprintf(wants, PATH_MAX + 64, "%s/timers.target.wants/" UNIT ".timer", dir);
	return 0;
}

/* A value as one systemd/cron word: paths with spaces are quoted. */
static void quoted(char *out, size_t n, const char *s)
{
	if (strpbrk(s, " \t\"\\%$"))
		snprintf(out, n, "\"%s\"", s);
	else
		snprintf(out, n, "%s", s);
}

static int install(struct cli *c, const char *at, const char *jitter, int cron, int enable)
{
	int h, m, rc;
	long jit = duration(jitter ? jitter : "30m");
	char exe[PATH_MAX], db[PATH_MAX], qe[PATH_MAX + 4], qd[PATH_MAX + 4];
	if (!at_time(at ? at : "02:00", &h, &m))
		return cli_usage("schedule", "--at: '%s' is not a time HH:MM", at);
	if (jit < 0)
		return cli_usage("schedule", "--jitter: '%s' is not a duration (90s, 30m, 2h; at most 24h)", jitter);
	if ((rc = paths(c, exe, db)))
		return rc;
	quoted(qe, sizeof qe, exe);
	quoted(qd, sizeof qd, db);
	if (cron) {
		printf("%d %d * * * %s --db %s schedule run --jitter %ld\n", m, h, qe, qd, jit);
		return 0;
	}
	char dir[PATH_MAX], svc[PATH_MAX + 32], tmr[PATH_MAX + 32], wants[PATH_MAX + 64], text[3 * PATH_MAX];
	if ((rc = unit_paths(dir, svc, tmr, wants)))
		return rc;
	if (mkdirs(dir)) {
		fprintf(stderr, "fieldsync: cannot create %s: %s\n", dir, strerror(errno));
		return 5;
	}
	snprintf(text, sizeof text,
		 "# written by `fieldsync schedule install`; `fieldsync schedule remove` deletes it\n"
		 "[Unit]\n"
		 "Description=fieldsync: sync the sales ledger with HQ\n"
		 "Wants=network-online.target\n"
		 "After=network-online.target\n\n"
		 "[Service]\n"
		 "Type=oneshot\n"
		 "ExecStart=%s --db %s schedule run\n"
		 "Nice=10\n", qe, qd);
	if ((rc = write_file(svc, text)))
		return rc;
	snprintf(text, sizeof text,
		 "# written by `fieldsync schedule install`; `fieldsync schedule remove` deletes it\n"
		 "[Unit]\n"
		 "Description=fieldsync: nightly sync with HQ\n\n"
		 "[Timer]\n"
		 "OnCalendar=*-*-* %02d:%02d:00\n"
		 "RandomizedDelaySec=%ld\n"
		 "Persistent=true\n\n"
		 "[Install]\n"
		 "WantedBy=timers.target\n", h, m, jit);
	if ((rc = write_file(tmr, text)))
		return rc;
	printf("wrote %s\nwrote %s\n", svc, tmr);
	if (enable) {
		if (system("systemctl --user daemon-reload") != 0 ||
		    system("systemctl --user enable --now " UNIT ".timer") != 0) {
			fprintf(stderr, "fieldsync: systemctl --user failed; the unit files are written\n");
			return 1;
		}
		printf("enabled " UNIT ".timer\n");
	} else {
		printf("to start it: systemctl --user daemon-reload && systemctl --user enable --now " UNIT ".timer\n");
	}
	return 0;
}

static int remove_units(void)
{
	char dir[PATH_MAX], svc[PATH_MAX + 32], tmr[PATH_MAX + 32], wants[PATH_MAX + 64];
	int rc = unit_paths(dir, svc, tmr, wants), n = 0;
	struct stat st;
	if (rc)
		return rc;
	if (lstat(wants, &st) == 0 && system("systemctl --user disable --now " UNIT ".timer") != 0)
		fprintf(stderr, "fieldsync: systemctl --user disable failed; removing the files anyway\n");
	const char *files[] = { wants, tmr, svc };
	for (int i = 0; i < 3; i++) {
		if (unlink(files[i]) == 0) {
			if (i)
				printf("removed %s\n", files[i]);
			n += i > 0;
		} else if (errno != ENOENT) {
			fprintf(stderr, "fieldsync: cannot remove %s: %s\n", files[i], strerror(errno));
			return 5;
		}
	}
	if (!n)
		printf("nothing installed in %s\n", dir);
	return 0;
}

/* The value of `key=` in a unit file, into out. */
static int unit_value(const char *path, const char *key, char *out, size_t n)
{
	FILE *fp = fopen(path, "r");
	char line[PATH_MAX * 2];
	size_t k = strlen(key);
	int found = 0;
	out[0] = '\0';
	while (fp && !found && fgets(line, sizeof line, fp))
		if (!strncmp(line, key, k) && line[k] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, n, "%s", line + k + 1);
			found = 1;
		}
	if (fp)
		fclose(fp);
	return found;
}

static int log_path(const char *given, char *out, size_t n)
{
	if (given) {
		snprintf(out, n, "%s", given);
		return 0;
	}
	return xdg_dir("XDG_STATE_HOME", ".local/state", "fieldsync/sync.log", out, n);
}

static int status(struct cli *c)
{
	char dir[PATH_MAX], svc[PATH_MAX + 32], tmr[PATH_MAX + 32], wants[PATH_MAX + 64];
	char when[128], delay[64], exec[PATH_MAX * 2], logp[PATH_MAX], last[1024] = "", sync_at[64] = "";
	struct stat st;
	int rc = unit_paths(dir, svc, tmr, wants);
	if (rc)
		return rc;
	int have = unit_value(tmr, "OnCalendar", when, sizeof when);
	unit_value(tmr, "RandomizedDelaySec", delay, sizeof delay);
	unit_value(svc, "ExecStart", exec, sizeof exec);
	int enabled = lstat(wants, &st) == 0;
	if (log_path(NULL, logp, sizeof logp) == 0) {
		FILE *fp = fopen(logp, "r");
		char line[1024];
		while (fp && fgets(line, sizeof line, fp))
			snprintf(last, sizeof last, "%s", line);
		if (fp)
			fclose(fp);
		last[strcspn(last, "\n")] = '\0';
	}
	fieldsync_rows *s = NULL;
	if (cli_open(c, 0) == 0 && fieldsync_status(c->s, &s) == 0) {
		const char *v = fieldsync_rows_value(s, 0, fieldsync_rows_find(s, "last_sync"));
		snprintf(sync_at, sizeof sync_at, "%s", v ? v : "");
	}
	fieldsync_rows_free(s);
	if (c->json) {
		printf("{\"installed\": %s, \"enabled\": %s, \"timer\": \"%s\", \"on_calendar\": \"%s\","
		       " \"randomized_delay_s\": %s, \"log\": \"%s\", \"last_sync\": %s%s%s}\n",
		       have ? "true" : "false", enabled ? "true" : "false", tmr, when, *delay ? delay : "null", logp,
		       *sync_at ? "\"" : "", *sync_at ? sync_at : "null", *sync_at ? "\"" : "");
		return 0;
	}
	if (have)
		printf("installed:  %s (%s)\nruns:       %s, plus up to %s s at random\ncommand:    %s\n", tmr,
		       enabled ? "enabled" : "not enabled: systemctl --user enable --now " UNIT ".timer", when,
		       *delay ? delay : "0", exec);
	else
		printf("installed:  no systemd timer in %s (a crontab line from --cron is not visible here)\n", dir);
	printf("log:        %s\nlast run:   %s\nlast sync:  %s\n", logp, *last ? last : "(none logged)",
	       *sync_at ? sync_at : "(never)");
	return 0;
}

/* ---- the scheduled run ---- */

static FILE *runlog;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	FILE *to[2] = { runlog, stderr };
	for (int i = 0; i < 2; i++) {
		if (!to[i])
			continue;
		fprintf(to[i], "%s [%ld] ", ts, (long)getpid());
		va_start(ap, fmt);
		vfprintf(to[i], fmt, ap);
		va_end(ap);
		fputc('\n', to[i]);
		fflush(to[i]);
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int transient(int e)
{
	return e == FIELDSYNC_ENET || e == FIELDSYNC_ETIMEOUT || e == FIELDSYNC_ESERVER || e == FIELDSYNC_EBUSY;
}

static int run(struct cli *c, const char *attempts_s, const char *delay_s, const char *jitter, const char *logopt)
{
	char logp[PATH_MAX], lockp[PATH_MAX + 16], exe[PATH_MAX], db[PATH_MAX];
	long attempts = attempts_s ? strtol(attempts_s, NULL, 10) : 5;
	long delay = delay_s ? strtol(delay_s, NULL, 10) : 60000;
	long jit = jitter ? duration(jitter) : 0;
	int rc;
	if (attempts < 1 || attempts > 20)
		return cli_usage("schedule", "--attempts: 1..20");
	if (delay < 0 || delay > 3600000)
		return cli_usage("schedule", "--delay-ms: 0..3600000");
	if (jit < 0)
		return cli_usage("schedule", "--jitter: '%s' is not a duration", jitter);
	if ((rc = paths(c, exe, db)))
		return rc;
	if (log_path(logopt, logp, sizeof logp)) {
		fprintf(stderr, "fieldsync: no log path (set XDG_STATE_HOME or HOME, or give --log)\n");
		return 2;
	}
	char logdir[PATH_MAX];
	snprintf(logdir, sizeof logdir, "%s", logp);
	char *slash = strrchr(logdir, '/');
	if (slash && slash != logdir) {
		*slash = '\0';
		mkdirs(logdir);
	}
	if (!(runlog = fopen(logp, "a"))) {
		fprintf(stderr, "fieldsync: cannot open the log %s: %s\n", logp, strerror(errno));
		return 5;
	}
	/* never twice at once: the lock lives as long as this process */
	snprintf(lockp, sizeof lockp, "%s.schedule-lock", db);
	int fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		logline("cannot open the lock %s: %s", lockp, strerror(errno));
		fclose(runlog);
		return 5;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		logline("another scheduled sync is running (lock %s held); nothing done", lockp);
		close(fd);
		fclose(runlog);
		return 0;
	}
	if (jit > 0) {
		unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
		long wait = (long)(rand_r(&seed) % (jit + 1));
		logline("waiting %ld s (jitter up to %ld s)", wait, jit);
		sleep_ms(wait * 1000);
	}
	if ((rc = cli_open(c, 0))) {
		logline("cannot open the store %s", db);
		close(fd);
		fclose(runlog);
		return rc;
	}
	int e = 0;
	for (long k = 1; k <= attempts; k++) {
		fieldsync_rows *sum = NULL;
		e = fieldsync_sync(c->s, NULL, NULL, &sum);
#define V(n) (sum ? fieldsync_rows_value(sum, 0, fieldsync_rows_find(sum, n)) : "?")
		if (e == 0 || e == 1)
			logline("sync %s (attempt %ld): %s pushed, %s rejected, %s pulled in %s ms", e ? "done with rejected records"
				: "ok", k, V("pushed"), V("rejected"), V("pulled"), V("ms"));
#undef V
		fieldsync_rows_free(sum);
		if (e == 0 || e == 1 || !transient(e))
			break;
		if (k == attempts) {
			logline("attempt %ld failed: %s; giving up after %ld attempts", k, fieldsync_errmsg(), attempts);
			break;
		}
		logline("attempt %ld failed: %s; retrying in %ld ms", k, fieldsync_errmsg(), delay);
		sleep_ms(delay);
		delay = delay > 1800000 ? 3600000 : delay * 2;
	}
	if (e && e != 1 && !transient(e))
		logline("sync failed: %s (not retried)", fieldsync_errmsg());
	close(fd);
	fclose(runlog);
	runlog = NULL;
	return e == 1 ? 1 : e ? fieldsync_exit_code(e) : 0;
}

int cmd_schedule(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	const char *at = NULL, *jitter = NULL, *attempts = NULL, *delay = NULL, *logopt = NULL;
	int cron = 0, enable = 0, k;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	static const char *const subs[] = { "install", "status", "remove", "run", NULL };
	const char *sub = argv[1];
	int which = cli_pick("schedule", sub, subs);
	if (which < 0)
		return 2;
	int inst = which == 0, stat_ = which == 1, rem = which == 2, runs = which == 3;
	cli_args(&a, c, argc - 1, argv + 1);
	while ((k = kit_next(&a)) > 0) {
		if (k == 2)
			return cli_usage("schedule", "unexpected argument '%s'", a.word);
		if (kit_is(&a, "help")) {
			fputs(help, stdout);
			return 0;
		}
		if (inst && kit_is(&a, "cron")) {
			cron = 1;
			continue;
		}
		if (inst && kit_is(&a, "enable")) {
			enable = 1;
			continue;
		}
		const char **dst = inst && kit_is(&a, "at") ? &at : (inst || runs) && kit_is(&a, "jitter") ? &jitter :
				   runs && kit_is(&a, "attempts") ? &attempts : runs && kit_is(&a, "delay-ms") ? &delay :
				   runs && kit_is(&a, "log") ? &logopt : NULL;
		if (!dst)
			return kit_unknown(&a);
		if (!(*dst = kit_value(&a)))
			return 2;
	}
	if (a.bad)
		return 2;
	if (inst)
		return install(c, at, jitter, cron, enable);
	if (rem)
		return remove_units();
	if (stat_)
		return status(c);
	return run(c, attempts, delay, jitter, logopt);
}
