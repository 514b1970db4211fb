/*
 * seal.c - sealing a store at rest: the key from the environment, checking
 * it, sealing an unsealed store, and opening a store with its seal (see
 * seal.h). Above store.c: it opens the store and keeps its key in it; the
 * value format is in sealbox.c.
 */
#include "seal.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

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
	if (fs_seal_sql_functions(s) != SQLITE_OK)
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
	if (fs_seal_keyed_add(s)) {
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

/* Opening a store includes its seal: the plain open (store.c), then the
 * key from the environment (above). */
int fs_store_open(const char *path, unsigned flags, struct fs_store **out)
{
	struct fs_store *s;
	int rc = fs_store_open_plain(path, flags, &s);
	if (rc)
		return rc;
	if ((rc = fs_seal_open(s, (flags & FS_OPEN_READONLY) != 0))) {
		fs_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}
