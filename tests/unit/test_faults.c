/*
 * test_faults.c - I/O errors, allocation failures and power loss under the
 * agent store, through the public API.
 *
 * A VFS shim registered as SQLite's default wraps the real one and counts
 * every write, sync, truncate and delete. One local transaction (a new
 * customer, an edit of another, a visit report) runs again and again on a
 * fresh copy of the same store, with:
 *   io      the Nth operation failing with SQLITE_IOERR (every N in turn)
 *   power   the Nth operation and everything after it failing, then every
 *           file put back to what it held at its last xSync (unsynced
 *           writes lost, -shm gone): a power cut at each point in turn
 *   malloc  the Nth allocation of SQLite failing (SQLITE_CONFIG_MALLOC)
 * After each run the store is reopened without faults: PRAGMA
 * integrity_check says ok, and the records are exactly the state before
 * the transaction or after it, never a mix; after it whenever the commit
 * was reported successful. Failures come back as a fieldsync error code
 * with a message. FIELDSYNC_FAULT_STEP (default 1) tests every Nth point
 * only.
 *
 * The same three faults then hit a whole fieldsync_sync() (a real
 * fieldsyncd on loopback; the device has local records to push and HQ's to
 * pull) at 20 points spread over it (FIELDSYNC_FAULT_STEP overrides):
 * the store passes integrity_check, and a rerun without faults ends with
 * exactly the records of a sync that never failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fieldsync.h"
#include "hq.h"

enum mode { M_OFF, M_IO, M_POWER, M_MALLOC };

static char dir[256], base[300], work[300];
static sqlite3_vfs *real, shim;
static enum mode mode;
static long ops, fail_at, allocs, alloc_fail_at;
static int failed_any;

/* ---- durable state: what each file held at its last sync ---- */

#define MAX_FILES 8
static struct durable {
	char path[320];
	char *data;	/* NULL: the file did not exist durably */
	long n;
	int used;
} dur[MAX_FILES];

static char *slurp(const char *p, long *n)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)*n + 1);
	if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static struct durable *dur_find(const char *p, int add)
{
	for (int i = 0; i < MAX_FILES; i++)
		if (dur[i].used && !strcmp(dur[i].path, p))
			return &dur[i];
	if (!add)
		return NULL;
	for (int i = 0; i < MAX_FILES; i++)
		if (!dur[i].used) {
			dur[i].used = 1;
			snprintf(dur[i].path, sizeof dur[i].path, "%s", p);
			dur[i].data = slurp(p, &dur[i].n);	/* as found at first open */
			return &dur[i];
		}
	return NULL;
}

static void dur_snapshot(const char *p)
{
	struct durable *d = dur_find(p, 1);
	if (!d)
		return;
	free(d->data);
	d->data = slurp(p, &d->n);
}

static void dur_reset(void)
{
	for (int i = 0; i < MAX_FILES; i++) {
		free(dur[i].data);
		memset(&dur[i], 0, sizeof dur[i]);
	}
}

/* The power comes back: every file as of its last sync; -shm is rebuilt. */
static void power_restore(void)
{
	for (int i = 0; i < MAX_FILES; i++) {
		if (!dur[i].used)
			continue;
		size_t l = strlen(dur[i].path);
		if (l > 4 && !strcmp(dur[i].path + l - 4, "-shm")) {
			unlink(dur[i].path);
			continue;
		}
		if (!dur[i].data) {
			unlink(dur[i].path);
			continue;
		}
		FILE *f = fopen(dur[i].path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(dur[i].data, 1, (size_t)dur[i].n, f), (size_t)dur[i].n);
		fclose(f);
	}
}

/* ---- the shim ---- */

struct sfile {
	sqlite3_file base;
	char path[320];
	sqlite3_file *real;	/* follows this struct */
};

/* 1 when this operation fails */
static int tick(void)
{
	if (mode != M_IO && mode != M_POWER)
		return 0;
	ops++;
	if (fail_at && (ops == fail_at || (mode == M_POWER && ops > fail_at))) {
		failed_any = 1;
		return 1;
	}
	return 0;
}

#define REAL(f) (((struct sfile *)(f))->real)

static int s_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
	return rc;
}
static int s_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int s_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return tick() ? SQLITE_IOERR_WRITE : REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int s_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return tick() ? SQLITE_IOERR_TRUNCATE : REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int s_sync(sqlite3_file *f, int flags)
{
	if (tick())
		return SQLITE_IOERR_FSYNC;
	int rc = REAL(f)->pMethods->xSync(REAL(f), flags);
	if (rc == SQLITE_OK)
		dur_snapshot(((struct sfile *)f)->path);
	return rc;
}
static int s_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int s_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int s_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int s_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int s_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int s_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int s_dev(sqlite3_file *f)
{
	/* no atomic-write or safe-append promises: the worst case */
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)) &
	       ~(SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL |
		 SQLITE_IOCAP_POWERSAFE_OVERWRITE | SQLITE_IOCAP_BATCH_ATOMIC);
}
static int s_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int s_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void s_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int s_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods s_methods = {
	2, s_close, s_read, s_write, s_truncate, s_sync, s_size, s_lock, s_unlock, s_check, s_fcntl, s_sector,
	s_dev, s_shmmap, s_shmlock, s_shmbarrier, s_shmunmap, NULL, NULL
};

static int s_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct sfile *sf = (struct sfile *)f;
	(void)v;
	sf->real = (sqlite3_file *)(sf + 1);
	snprintf(sf->path, sizeof sf->path, "%s", name ? name : "");
	if (name && (mode == M_POWER))
		(void)dur_find(name, 1);	/* its state before this open is durable */
	int rc = real->xOpen(real, name, sf->real, flags, out);
	f->pMethods = rc == SQLITE_OK ? &s_methods : NULL;
	return rc;
}

static int s_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	if (tick())
		return SQLITE_IOERR_DELETE;
	int rc = real->xDelete(real, name, sync);
	if (rc == SQLITE_OK && mode == M_POWER) {
		struct durable *d = dur_find(name, 1);
		if (d) {	/* a deletion counts as durable (SQLite syncs the directory when it matters) */
			free(d->data);
			d->data = NULL;
		}
	}
	return rc;
}

static int s_access(sqlite3_vfs *v, const char *n, int fl, int *out)
{
	(void)v;
	return real->xAccess(real, n, fl, out);
}
static int s_full(sqlite3_vfs *v, const char *n, int len, char *out)
{
	(void)v;
	return real->xFullPathname(real, n, len, out);
}
static void *s_dlopen(sqlite3_vfs *v, const char *n)
{
	(void)v;
	return real->xDlOpen(real, n);
}
static void s_dlerr(sqlite3_vfs *v, int n, char *m)
{
	(void)v;
	real->xDlError(real, n, m);
}
static void (*s_dlsym(sqlite3_vfs *v, void *h, const char *s))(void)
{
	(void)v;
	return real->xDlSym(real, h, s);
}
static void s_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	real->xDlClose(real, h);
}
static int s_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real->xRandomness(real, n, out);
}
static int s_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return real->xSleep(real, us);
}
static int s_time(sqlite3_vfs *v, double *t)
{
	(void)v;
	return real->xCurrentTime(real, t);
}
static int s_lasterr(sqlite3_vfs *v, int n, char *m)
{
	(void)v;
	return real->xGetLastError ? real->xGetLastError(real, n, m) : 0;
}
static int s_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
	(void)v;
	return real->xCurrentTimeInt64(real, t);
}

/* ---- malloc hooks ---- */

static sqlite3_mem_methods real_mem;

static void *m_malloc(int n)
{
	if (mode == M_MALLOC && ++allocs == alloc_fail_at) {
		failed_any = 1;
		return NULL;
	}
	return real_mem.xMalloc(n);
}
static void *m_realloc(void *p, int n)
{
	if (mode == M_MALLOC && ++allocs == alloc_fail_at) {
		failed_any = 1;
		return NULL;
	}
	return real_mem.xRealloc(p, n);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/fs-faults-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(base, sizeof base, "%s/base.db", dir);
	snprintf(work, sizeof work, "%s/work.db", dir);
	static sqlite3_mem_methods mm;
	sqlite3_shutdown();
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK)
		return -1;
	mm = real_mem;
	mm.xMalloc = m_malloc;
	mm.xRealloc = m_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mm) != SQLITE_OK || sqlite3_initialize() != SQLITE_OK)
		return -1;
	real = sqlite3_vfs_find(NULL);
	shim = *real;
	shim.szOsFile = (int)sizeof(struct sfile) + real->szOsFile;
	shim.zName = "faulty";
	shim.pAppData = NULL;
	shim.xOpen = s_open;
	shim.xDelete = s_delete;
	shim.xAccess = s_access;
	shim.xFullPathname = s_full;
	shim.xDlOpen = s_dlopen;
	shim.xDlError = s_dlerr;
	shim.xDlSym = s_dlsym;
	shim.xDlClose = s_dlclose;
	shim.xRandomness = s_random;
	shim.xSleep = s_sleep;
	shim.xCurrentTime = s_time;
	shim.xGetLastError = s_lasterr;
	shim.xCurrentTimeInt64 = s_time64;
	shim.iVersion = 2;
	return sqlite3_vfs_register(&shim, 1) == SQLITE_OK ? 0 : -1;
}

static void stop_hq(void);

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	stop_hq();
	dur_reset();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

/* ---- the transaction under test, and what it leaves ---- */

static char edit_id[33], visit_cust[33];

static int set(fieldsync_rec *r, const char *f, const char *v)
{
	return fieldsync_rec_set(r, f, v);
}

/* One local transaction through the public API: 0 or the first error. */
static int the_txn(fieldsync_store *s, int *committed)
{
	fieldsync_rec *c = NULL, *e = NULL, *v = NULL;
	char id[33];
	int rc = fieldsync_begin(s);
	*committed = 0;
	if (rc)
		return rc;
	if ((rc = fieldsync_rec_new("customer", &c)) == 0 && (rc = set(c, "name", "New Ltd")) == 0 &&
	    (rc = set(c, "territory", "T1")) == 0 && (rc = set(c, "notes", "made in the transaction")) == 0)
		rc = fieldsync_insert(s, c, id);
	if (rc == 0 && (rc = fieldsync_rec_new("customer", &e)) == 0 && (rc = set(e, "notes", "edited")) == 0)
		rc = fieldsync_update(s, edit_id, e);
	if (rc == 0 && (rc = fieldsync_rec_new("visit", &v)) == 0 && (rc = set(v, "customer_id", visit_cust)) == 0 &&
	    (rc = set(v, "status", "done")) == 0 && (rc = set(v, "planned_date", "2026-11-23")) == 0 &&
	    (rc = set(v, "outcome", "ordered")) == 0)
		rc = fieldsync_insert(s, v, id);
	fieldsync_rec_free(c);
	fieldsync_rec_free(e);
	fieldsync_rec_free(v);
	if (rc == 0 && (rc = fieldsync_commit(s)) == 0)
		*committed = 1;
	if (rc && !*committed)
		fieldsync_rollback(s);
	return rc;
}

/* The records as one string (sorted), read without faults. */
static char *state_of(const char *path, int *integrity_ok)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *out = calloc(1, 1 << 16);
	size_t n = 0;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	*integrity_ok = sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT 'c', name, coalesce(notes, '') FROM customer UNION ALL "
					    "SELECT 'v', customer_id, outcome FROM visit UNION ALL "
					    "SELECT 'l', tbl, count(*) FROM changelog GROUP BY tbl ORDER BY 1, 2, 3",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n += (size_t)snprintf(out + n, (1 << 16) - n, "%s|%s|%s\n", sqlite3_column_text(st, 0),
				      sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static void copy_file(const char *from, const char *to)
{
	long n;
	char *b = slurp(from, &n);
	assert_non_null(b);
	FILE *f = fopen(to, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(b);
}

static void fresh_work(void)
{
	char p[320];
	unlink(work);
	snprintf(p, sizeof p, "%s-wal", work);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", work);
	unlink(p);
	copy_file(base, work);
}

static char *before, *after;

/* The base store (checkpointed, no WAL) and the states before and after. */
static void prepare(void)
{
	fieldsync_store *s;
	fieldsync_rec *r;
	int committed, ok;
	mode = M_OFF;
	unlink(base);
	assert_int_equal(fieldsync_open(base, FIELDSYNC_OPEN_CREATE, &s), 0);
	for (int i = 0; i < 20; i++) {
		char name[32], id[33];
		snprintf(name, sizeof name, "Customer %02d", i);
		assert_int_equal(fieldsync_rec_new("customer", &r), 0);
		assert_int_equal(set(r, "name", name), 0);
		assert_int_equal(set(r, "territory", "T1"), 0);
		assert_int_equal(fieldsync_insert(s, r, id), 0);
		fieldsync_rec_free(r);
		if (i == 3)
			memcpy(edit_id, id, 33);
		if (i == 7)
			memcpy(visit_cust, id, 33);
	}
	fieldsync_close(s);	/* the last close checkpoints and removes the WAL */
	before = state_of(base, &ok);
	assert_true(ok);
	fresh_work();
	assert_int_equal(fieldsync_open(work, 0, &s), 0);
	assert_int_equal(the_txn(s, &committed), 0);
	fieldsync_close(s);
	after = state_of(work, &ok);
	assert_true(ok);
	assert_string_not_equal(before, after);
}

static long step(void)
{
	const char *v = getenv("FIELDSYNC_FAULT_STEP");
	long s = v ? atol(v) : 1;
	return s > 0 ? s : 1;
}

/* Runs the transaction with a fault at point n; checks what is left. */
static void trial(enum mode m, long n, long *clean_errors, long *committed_runs)
{
	fieldsync_store *s = NULL;
	int committed = 0, ok;
	fresh_work();
	dur_reset();
	ops = allocs = 0;
	failed_any = 0;
	fail_at = m == M_MALLOC ? 0 : n;
	alloc_fail_at = m == M_MALLOC ? n : 0;
	mode = m;
	int rc = fieldsync_open(work, 0, &s);
	if (rc == 0) {
		rc = the_txn(s, &committed);
		fieldsync_close(s);
	}
	if (rc) {
		/* a clean report: a fieldsync code and a message */
		assert_true(rc < 0);
		assert_true(fieldsync_errmsg()[0] != '\0');
		(*clean_errors)++;
	}
	mode = M_OFF;
	if (m == M_POWER)
		power_restore();
	*committed_runs += committed;
	char *now = state_of(work, &ok);
	if (!ok)
		fail_msg("%s fault at %ld: integrity_check failed", m == M_IO ? "io" : m == M_POWER ? "power" : "malloc",
			 n);
	if (strcmp(now, after) && (committed || strcmp(now, before)))
		fail_msg("%s fault at %ld (rc %d, committed %d): the records are neither the state before nor after:\n%s",
			 m == M_IO ? "io" : m == M_POWER ? "power" : "malloc", n, rc, committed, now);
	free(now);
}

static void run_mode(enum mode m, const char *name)
{
	long total, clean = 0, commits = 0, tried = 0;
	fieldsync_store *s;
	int committed;
	prepare();
	/* how many points there are: a run without faults, counted */
	fresh_work();
	ops = allocs = 0;
	fail_at = alloc_fail_at = 0;
	mode = m;
	assert_int_equal(fieldsync_open(work, 0, &s), 0);
	assert_int_equal(the_txn(s, &committed), 0);
	fieldsync_close(s);
	mode = M_OFF;
	total = m == M_MALLOC ? allocs : ops;
	assert_true(total > 0);
	for (long n = 1; n <= total; n += step(), tried++)
		trial(m, n, &clean, &commits);
	printf("# %s: %ld fault points of %ld tried, %ld clean errors, %ld runs committed before the fault\n", name,
	       tried, total, clean, commits);
	assert_true(clean > 0);
	free(before);
	free(after);
	before = after = NULL;
}

static void test_io_errors(void **state)
{
	(void)state;
	run_mode(M_IO, "io");
}

static void test_power_loss(void **state)
{
	(void)state;
	run_mode(M_POWER, "power");
}

static void test_malloc_failures(void **state)
{
	(void)state;
	run_mode(M_MALLOC, "malloc");
}

/* ---- faults during a sync ---- */

static pid_t server = -1;
static char hqpath[320], url[128], base2[320], work2[320];

static void start_hq(void)
{
	const char *b = getenv("FIELDSYNC_BUILD");
	char bin[512], portf[320], port[16] = "";
	snprintf(hqpath, sizeof hqpath, "%s/hq.db", dir);
	snprintf(portf, sizeof portf, "%s/port", dir);
	snprintf(bin, sizeof bin, "%s/fieldsyncd", b ? b : "build");
	assert_int_equal(hq_init(hqpath), 0);
	server = fork();
	if (server == 0) {
		char logf[320];
		snprintf(logf, sizeof logf, "%s/hq.log", dir);
		if (!freopen(logf, "w", stderr))
			_exit(127);
		execl(bin, "fieldsyncd", "--db", hqpath, "serve", "--listen", "127.0.0.1:0", "--port-file", portf,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && !port[0]; i++) {
		FILE *f = fopen(portf, "r");
		if (f) {
			if (!fgets(port, sizeof port, f))
				port[0] = '\0';
			fclose(f);
		}
		if (!port[0])
			usleep(25000);
	}
	assert_true(port[0] != '\0');
	port[strcspn(port, "\n")] = '\0';
	snprintf(url, sizeof url, "http://127.0.0.1:%s", port);
	setenv("FIELDSYNC_RETRY_MS", "5", 1);
	setenv("FIELDSYNC_RETRIES", "1", 1);
	setenv("FIELDSYNC_BATCH", "3", 1);
	setenv("FIELDSYNC_PAGE", "4", 1);
}

static void stop_hq(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	server = -1;
}

static void add_customers(fieldsync_store *s, const char *prefix, int n)
{
	for (int i = 0; i < n; i++) {
		fieldsync_rec *r;
		char name[48], id[33];
		snprintf(name, sizeof name, "%s %02d", prefix, i);
		assert_int_equal(fieldsync_rec_new("customer", &r), 0);
		assert_int_equal(set(r, "name", name), 0);
		assert_int_equal(set(r, "territory", "T1"), 0);
		assert_int_equal(set(r, "notes", prefix), 0);
		assert_int_equal(fieldsync_insert(s, r, id), 0);
		fieldsync_rec_free(r);
	}
}

static void copy_store(const char *from, const char *to)
{
	char p[340];
	unlink(to);
	snprintf(p, sizeof p, "%s-wal", to);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", to);
	unlink(p);
	copy_file(from, to);
}

static void sync_trials(enum mode m, const char *name, const char *want, long total)
{
	long st = getenv("FIELDSYNC_FAULT_STEP") ? step() : (total + 19) / 20, tried = 0, clean = 0, done = 0;
	for (long n = 1; n <= total; n += st, tried++) {
		fieldsync_store *s = NULL;
		int ok;
		copy_store(base2, work2);
		dur_reset();
		ops = allocs = 0;
		fail_at = m == M_MALLOC ? 0 : n;
		alloc_fail_at = m == M_MALLOC ? n : 0;
		mode = m;
		int rc = fieldsync_open(work2, 0, &s);
		if (rc == 0) {
			rc = fieldsync_sync(s, NULL, NULL, NULL);
			fieldsync_close(s);
		}
		mode = M_OFF;
		if (rc) {
			assert_true(rc < 0);
			if (!fieldsync_errmsg()[0]) fail_msg("sync, %s fault at %ld: rc %d without a message", name, n, rc);
			clean++;
		} else {
			done++;
		}
		if (m == M_POWER)
			power_restore();
		char *now = state_of(work2, &ok);
		if (!ok)
			fail_msg("sync, %s fault at %ld: integrity_check failed", name, n);
		free(now);
		/* the rerun converges */
		assert_int_equal(fieldsync_open(work2, 0, &s), 0);
		rc = fieldsync_sync(s, NULL, NULL, NULL);
		fieldsync_close(s);
		if (rc)
			fail_msg("sync, %s fault at %ld: the rerun failed: %s", name, n, fieldsync_errmsg());
		now = state_of(work2, &ok);
		if (strcmp(now, want))
			fail_msg("sync, %s fault at %ld: after a rerun the records differ:\n%s", name, n, now);
		free(now);
	}
	printf("# sync %s: %ld fault points of %ld tried, %ld clean errors, %ld syncs completed before the fault;"
	       " every rerun converged\n", name, tried, total, clean, done);
	assert_true(clean > 0);
}

static void test_sync_faults(void **state)
{
	(void)state;
	struct hq *h;
	char tok1[65], tok2[65];
	fieldsync_store *s;
	int ok;
	mode = M_OFF;
	start_hq();
	assert_int_equal(hq_open(hqpath, &h), 0);
	assert_int_equal(hq_rep_add(h, "rep", "T1", tok1), 0);
	assert_int_equal(hq_rep_add(h, "other", "T1", tok2), 0);
	hq_close(h);
	/* HQ's records, from another device */
	char other[320];
	snprintf(other, sizeof other, "%s/other.db", dir);
	assert_int_equal(fieldsync_open(other, FIELDSYNC_OPEN_CREATE, &s), 0);
	assert_int_equal(fieldsync_enroll(s, url, tok2, "other", 0), 0);
	add_customers(s, "From HQ", 12);
	assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	fieldsync_close(s);
	/* the device: enrolled, with local records waiting */
	snprintf(base2, sizeof base2, "%s/dev-base.db", dir);
	snprintf(work2, sizeof work2, "%s/dev.db", dir);
	assert_int_equal(fieldsync_open(base2, FIELDSYNC_OPEN_CREATE, &s), 0);
	assert_int_equal(fieldsync_enroll(s, url, tok1, "dev", 0), 0);
	add_customers(s, "Local", 7);
	fieldsync_close(s);
	/* a sync that nothing disturbs, counted */
	long n_ops, n_allocs;
	copy_store(base2, work2);
	ops = allocs = 0;
	fail_at = alloc_fail_at = 0;
	mode = M_IO;
	assert_int_equal(fieldsync_open(work2, 0, &s), 0);
	assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	fieldsync_close(s);
	n_ops = ops;
	mode = M_MALLOC;
	copy_store(base2, work2);
	assert_int_equal(fieldsync_open(work2, 0, &s), 0);
	assert_int_equal(fieldsync_sync(s, NULL, NULL, NULL), 0);
	fieldsync_close(s);
	n_allocs = allocs;
	mode = M_OFF;
	char *want = state_of(work2, &ok);
	assert_true(ok);
	assert_non_null(strstr(want, "From HQ 11"));
	sync_trials(M_IO, "io", want, n_ops);
	sync_trials(M_POWER, "power", want, n_ops);
	sync_trials(M_MALLOC, "malloc", want, n_allocs);
	free(want);
	stop_hq();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_power_loss),
		cmocka_unit_test(test_malloc_failures),
		cmocka_unit_test(test_sync_faults),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
