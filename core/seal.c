/*
 * seal.c - sealing of sensitive values at rest (see seal.h).
 */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reg.h"
#include "util.h"

#define NONCE crypto_secretbox_NONCEBYTES
#define MAC crypto_secretbox_MACBYTES
/* the column reader unseals into per-thread scratch buffers, one per slot */
#define SLOTS (FS_MAX_FIELDS + 16)

/* Open connections with a key: the column reader only sees a statement. */
#define MAX_KEYED 16
static struct {
	sqlite3 *db;
	unsigned char key[crypto_secretbox_KEYBYTES];
} keyed[MAX_KEYED];
static pthread_mutex_t keyed_mu = PTHREAD_MUTEX_INITIALIZER;

static _Thread_local char *scratch[SLOTS];

int fs_seal_col(const struct fs_table *t, int col)
{
	if (col >= 1 && col <= t->nfields)
		return (t->fields[col - 1].flags & FS_F_SENSITIVE) ||
		       (t == &fs_tbl_conflict && !strcmp(t->fields[col - 1].name, "value"));
	return col == t->nfields + 4;	/* sib: losing values of concurrent edits */
}

static int key_of(sqlite3 *db, unsigned char key[crypto_secretbox_KEYBYTES])
{
	int found = 0;
	pthread_mutex_lock(&keyed_mu);
	for (int i = 0; i < MAX_KEYED && !found; i++)
		if (keyed[i].db == db) {
			memcpy(key, keyed[i].key, crypto_secretbox_KEYBYTES);
			found = 1;
		}
	pthread_mutex_unlock(&keyed_mu);
	return found;
}

static int seal_raw(const unsigned char *key, char type, const void *p, size_t n, unsigned char **out, int *len)
{
	size_t plen = 1 + n, total = FS_SEAL_MAGIC_LEN + NONCE + MAC + plen;
	unsigned char *plain = malloc(plen), *b = malloc(total);
	if (!plain || !b || total > INT32_MAX) {
		free(plain);
		free(b);
		return fs_err(FIELDSYNC_ENOMEM, "out of memory");
	}
	plain[0] = (unsigned char)type;
	memcpy(plain + 1, p, n);
	memcpy(b, FS_SEAL_MAGIC, FS_SEAL_MAGIC_LEN);
	randombytes_buf(b + FS_SEAL_MAGIC_LEN, NONCE);
	crypto_secretbox_easy(b + FS_SEAL_MAGIC_LEN + NONCE, plain, plen, b + FS_SEAL_MAGIC_LEN, key);
	sodium_memzero(plain, plen);
	free(plain);
	*out = b;
	*len = (int)total;
	return 0;
}

static int seal_value(const unsigned char *key, int t, int64_t i, double r, const char *s, size_t slen,
		      unsigned char **out, int *len)
{
	unsigned char le[8];
	if (t == FS_V_INT) {
		for (int k = 0; k < 8; k++)
			le[k] = (unsigned char)((uint64_t)i >> (8 * k));
		return seal_raw(key, 'i', le, 8, out, len);
	}
	if (t == FS_V_REAL)
		return seal_raw(key, 'r', &r, sizeof r, out, len);
	return seal_raw(key, 't', s, slen, out, len);
}

int fs_seal_val(const struct fs_store *s, const struct fs_val *v, unsigned char **out, int *len)
{
	return seal_value(s->key, v->t, v->i, v->r, v->s, v->t == FS_V_TEXT ? strlen(v->s) : 0, out, len);
}

static int is_sealed(const void *p, int n)
{
	return p && n >= (int)(FS_SEAL_MAGIC_LEN + NONCE + MAC + 1) && !memcmp(p, FS_SEAL_MAGIC, FS_SEAL_MAGIC_LEN);
}

/* Opens a sealed blob into a malloc'd buffer (type byte first, then the
 * payload and a NUL); NULL when the key does not open it. */
static unsigned char *open_blob(const unsigned char *key, const unsigned char *b, int n, size_t *plen)
{
	size_t clen = (size_t)n - FS_SEAL_MAGIC_LEN - NONCE;
	unsigned char *plain = malloc(clen - MAC + 1);
	if (!plain)
		return NULL;
	if (crypto_secretbox_open_easy(plain, b + FS_SEAL_MAGIC_LEN + NONCE, clen, b + FS_SEAL_MAGIC_LEN, key)) {
		free(plain);
		return NULL;
	}
	*plen = clen - MAC;
	plain[*plen] = '\0';
	return plain;
}

int fs_unseal_column(sqlite3_stmt *st, int c, int slot, struct fs_val *v)
{
	const unsigned char *b = sqlite3_column_blob(st, c);
	int n = sqlite3_column_bytes(st, c);
	unsigned char key[crypto_secretbox_KEYBYTES];
	if (!is_sealed(b, n) || slot < 0 || slot >= SLOTS)
		return 0;
	size_t plen = 0;
	unsigned char *plain = key_of(sqlite3_db_handle(st), key) ? open_blob(key, b, n, &plen) : NULL;
	sodium_memzero(key, sizeof key);
	memset(v, 0, sizeof *v);
	free(scratch[slot]);
	scratch[slot] = (char *)plain;
	if (!plain) {
		/* not openable: shown for what it is in listings; a record read
		 * (which a write could save back) fails on the -1 */
		v->t = FS_V_TEXT;
		v->s = "(sealed)";
		return -1;
	}
	if (plain[0] == 'i' && plen == 9) {
		uint64_t u = 0;
		for (int k = 0; k < 8; k++)
			u |= (uint64_t)plain[1 + k] << (8 * k);
		v->t = FS_V_INT;
		v->i = (int64_t)u;
	} else if (plain[0] == 'r' && plen == 1 + sizeof(double)) {
		v->t = FS_V_REAL;
		memcpy(&v->r, plain + 1, sizeof v->r);
	} else {
		v->t = FS_V_TEXT;
		v->s = (char *)plain + 1;
	}
	return 1;
}

void fs_seal_scratch_free(void)
{
	for (int i = 0; i < SLOTS; i++) {
		free(scratch[i]);
		scratch[i] = NULL;
	}
}

/* ---- SQL functions: fs_seal(x) and fs_unseal(x) ---- */

static void sql_unseal(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct fs_store *s = sqlite3_user_data(cx);
	(void)argc;
	const unsigned char *b = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || !is_sealed(b, n)) {
		sqlite3_result_value(cx, argv[0]);
		return;
	}
	size_t plen;
	unsigned char *plain = s->has_key ? open_blob(s->key, b, n, &plen) : NULL;
	if (!plain) {
		sqlite3_result_null(cx);
		return;
	}
	if (plain[0] == 'i' && plen == 9) {
		uint64_t u = 0;
		for (int k = 0; k < 8; k++)
			u |= (uint64_t)plain[1 + k] << (8 * k);
		sqlite3_result_int64(cx, (int64_t)u);
	} else if (plain[0] == 'r' && plen == 1 + sizeof(double)) {
		double r;
		memcpy(&r, plain + 1, sizeof r);
		sqlite3_result_double(cx, r);
	} else {
		sqlite3_result_text(cx, (char *)plain + 1, (int)plen - 1, SQLITE_TRANSIENT);
	}
	sodium_memzero(plain, plen);
	free(plain);
}

static void sql_seal(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct fs_store *s = sqlite3_user_data(cx);
	(void)argc;
	int t = sqlite3_value_type(argv[0]);
	const void *b = sqlite3_value_blob(argv[0]);
	if (!s->has_key || t == SQLITE_NULL || (t == SQLITE_BLOB && is_sealed(b, sqlite3_value_bytes(argv[0])))) {
		sqlite3_result_value(cx, argv[0]);
		return;
	}
	unsigned char *out;
	int len, rc;
	if (t == SQLITE_INTEGER)
		rc = seal_value(s->key, FS_V_INT, sqlite3_value_int64(argv[0]), 0, NULL, 0, &out, &len);
	else if (t == SQLITE_FLOAT)
		rc = seal_value(s->key, FS_V_REAL, 0, sqlite3_value_double(argv[0]), NULL, 0, &out, &len);
	else
		rc = seal_value(s->key, FS_V_TEXT, 0, 0, (const char *)sqlite3_value_text(argv[0]),
				(size_t)sqlite3_value_bytes(argv[0]), &out, &len);
	if (rc) {
		sqlite3_result_error_nomem(cx);
		return;
	}
	sqlite3_result_blob(cx, out, len, free);
}

/* ---- keys ---- */

/* The directories above `file`, each created 0700. */
static int mkdirs_for(const char *file)
{
	char *dup = strdup(file);
	int rc = dup ? fs_mkdirs(dirname(dup)) : FIELDSYNC_ENOMEM;
	free(dup);
	return rc;
}

static int key_from_file(const char *path, unsigned char key[crypto_secretbox_KEYBYTES], int create)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirs_for(path))
			return fs_err(FIELDSYNC_EIO, "key file %s: cannot create its directory", path);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			return fs_err(FIELDSYNC_EIO, "key file %s: %s", path, strerror(errno));
		randombytes_buf(key, crypto_secretbox_KEYBYTES);
		ssize_t w = write(fd, key, crypto_secretbox_KEYBYTES);
		int frc = fsync(fd);
		close(fd);
		if (w != crypto_secretbox_KEYBYTES || frc) {
			unlink(path);
			return fs_err(FIELDSYNC_EIO, "key file %s: cannot write it", path);
		}
		return 0;
	}
	if (fd < 0)
		return fs_err(FIELDSYNC_EAUTH, "key file %s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077)) {
		close(fd);
		return fs_err(FIELDSYNC_EAUTH, "key file %s is readable by others (mode %03o); chmod 600 it", path,
			      (unsigned)(sb.st_mode & 0777));
	}
	ssize_t r = read(fd, key, crypto_secretbox_KEYBYTES);
	close(fd);
	if (r != crypto_secretbox_KEYBYTES)
		return fs_err(FIELDSYNC_EAUTH, "key file %s is not a 32-byte key", path);
	return 0;
}

static int key_from_passphrase(struct fs_store *s, const char *pp, int readonly,
			       unsigned char key[crypto_secretbox_KEYBYTES], char buf[2 * crypto_pwhash_SALTBYTES + 1])
{
	unsigned char salt[crypto_pwhash_SALTBYTES];
	char *hex = NULL;
	int rc = fs_meta_get(s, "seal_salt", &hex);
	if (rc)
		return rc;
	size_t n = 0;
	if (hex && (sodium_hex2bin(salt, sizeof salt, hex, strlen(hex), NULL, &n, NULL) || n != sizeof salt)) {
		free(hex);
		return fs_err(FIELDSYNC_EIO, "store has a corrupt seal_salt");
	}
	if (!hex) {
		if (readonly) {
			free(hex);
			return fs_err(FIELDSYNC_ESTATE, "sealing starts at a read-write open");
		}
		randombytes_buf(salt, sizeof salt);
		sodium_bin2hex(buf, 2 * crypto_pwhash_SALTBYTES + 1, salt, sizeof salt);
		if ((rc = fs_meta_set(s, "seal_salt", buf)))
			return rc;
	}
	if (hex)
		snprintf(buf, 2 * crypto_pwhash_SALTBYTES + 1, "%s", hex);
	free(hex);
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pp, strlen(pp), salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_DEFAULT))
		return fs_err(FIELDSYNC_ENOMEM, "out of memory deriving the key from the passphrase");
	return 0;
}

/* Mark the store sealed and seal every sensitive value still in clear:
 * one transaction, so a store is never marked sealed and half in clear. */
static int seal_all(struct fs_store *s, const char *check, const char *salt)
{
	char *now = NULL, *now_salt = NULL;
	int rc = fs_store_begin(s);
	/* another process may have sealed it, or chosen another salt, since
	 * this one looked: then sealing here would lock the values away */
	if (rc == 0)
		rc = fs_meta_get(s, "seal_check", &now);
	if (rc == 0 && salt)
		rc = fs_meta_get(s, "seal_salt", &now_salt);
	if (rc == 0 && (now || (salt && (!now_salt || strcmp(now_salt, salt)))))
		rc = fs_err(FIELDSYNC_EBUSY, "another process sealed this store at the same time; open it again");
	free(now);
	free(now_salt);
	if (rc == 0)
		rc = fs_meta_set(s, "seal_check", check);
	for (int k = 0; rc == 0 && k < fs_ntables; k++) {
		const struct fs_table *t = fs_tables[k];
		for (int c = 1; rc == 0 && c < FS_ROW_COLS(t); c++) {
			if (!fs_seal_col(t, c))
				continue;
			const char *col = c <= t->nfields ? t->fields[c - 1].name : "sib";
			char *q = sqlite3_mprintf("UPDATE \"%w\" SET \"%w\" = fs_seal(\"%w\") WHERE \"%w\" IS NOT NULL",
						  t->name, col, col, col);
			int src = q ? sqlite3_exec(s->db, q, NULL, NULL, NULL) : SQLITE_NOMEM;
			sqlite3_free(q);
			if (src != SQLITE_OK)
				rc = fs_sqlite_err(s->db, src, "sealing the store");
		}
	}
	/* writes HQ refused, kept with their values */
	if (rc == 0 && sqlite3_exec(s->db, "UPDATE quarantine SET record = fs_seal(record)", NULL, NULL, NULL))
		rc = fs_sqlite_err(s->db, sqlite3_errcode(s->db), "sealing the store");
	/* and the secrets in meta (fs_meta_secret) */
	if (rc == 0 && sqlite3_exec(s->db, "UPDATE meta SET value = fs_seal(value) WHERE key = 'device_token'"
				    " AND value IS NOT NULL", NULL, NULL, NULL))
		rc = fs_sqlite_err(s->db, sqlite3_errcode(s->db), "sealing the store");
	if (rc == 0)
		return fs_store_commit(s);
	fs_store_rollback(s);
	return rc;
}

int fs_seal_open(struct fs_store *s, int readonly)
{
	const char *kf = getenv("FIELDSYNC_KEY_FILE"), *pp = getenv("FIELDSYNC_PASSPHRASE");
	char *check = NULL, want[33];
	unsigned char key[crypto_secretbox_KEYBYTES], mac[16];
	int rc;
	if (sqlite3_create_function(s->db, "fs_unseal", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, s, sql_unseal, NULL,
				    NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "fs_seal", 1, SQLITE_UTF8, s, sql_seal, NULL, NULL) != SQLITE_OK)
		return fs_sqlite_err(s->db, sqlite3_errcode(s->db), "registering functions");
	if ((rc = fs_meta_get(s, "seal_check", &check)))
		return rc;
	if (kf && !*kf)
		kf = NULL;
	if (pp && !*pp)
		pp = NULL;
	if (!kf && !pp) {
		free(check);
		return check ? fs_err(FIELDSYNC_EAUTH, "this store is sealed: set FIELDSYNC_KEY_FILE or "
					"FIELDSYNC_PASSPHRASE") : 0;
	}
	if (!check && readonly)
		return 0;	/* sealing starts at a read-write open */
	char salt[2 * crypto_pwhash_SALTBYTES + 1] = "";
	rc = kf ? key_from_file(kf, key, !check) : key_from_passphrase(s, pp, readonly, key, salt);
	if (rc) {
		free(check);
		return rc;
	}
	crypto_generichash(mac, sizeof mac, (const unsigned char *)"fieldsync seal check 1", 22, key, sizeof key);
	sodium_bin2hex(want, sizeof want, mac, sizeof mac);
	if (check && strcmp(check, want)) {
		free(check);
		sodium_memzero(key, sizeof key);
		return fs_err(FIELDSYNC_EAUTH, "wrong key for this sealed store");
	}
	memcpy(s->key, key, sizeof key);
	sodium_memzero(key, sizeof key);
	s->has_key = 1;
	pthread_mutex_lock(&keyed_mu);
	int slot = -1;
	for (int i = 0; i < MAX_KEYED && slot < 0; i++)
		if (!keyed[i].db)
			slot = i;
	if (slot >= 0) {
		keyed[slot].db = s->db;
		memcpy(keyed[slot].key, s->key, sizeof s->key);
	}
	pthread_mutex_unlock(&keyed_mu);
	if (slot < 0) {
		free(check);
		return fs_err(FIELDSYNC_ELIMIT, "too many sealed stores open at once");
	}
	/* freed pages of a sealed store are zeroed: no clear value lingers */
	if (sqlite3_exec(s->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) != SQLITE_OK)
		rc = fs_sqlite_err(s->db, sqlite3_errcode(s->db), "sealing the store");
	if (rc == 0 && !check && (rc = seal_all(s, want, kf ? NULL : salt)) == 0 && !readonly)
		(void)sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	free(check);
	return rc;
}

void fs_seal_close(struct fs_store *s)
{
	pthread_mutex_lock(&keyed_mu);
	for (int i = 0; i < MAX_KEYED; i++)
		if (s->db && keyed[i].db == s->db) {
			sodium_memzero(keyed[i].key, sizeof keyed[i].key);
			keyed[i].db = NULL;
		}
	pthread_mutex_unlock(&keyed_mu);
	fs_seal_scratch_free();
	s->has_key = 0;
}
