/*
 * hq_int.h - what the files of HQ's replica share and nobody else sees:
 * the handle, the fixed queries, and the helpers of db.c, replica.c,
 * endpoints.c and router.c.
 */
#ifndef FS_HQ_INT_H
#define FS_HQ_INT_H

#include <pthread.h>
#include "hq.h"

#define POOL 32

struct hq {
	const struct hq_backend *be;
	char *conninfo;
	struct fs_rid self;
	char self_hex[33];
	struct hq_limits lim;
	pthread_mutex_t mu;
	struct hq_db *pool[POOL];
	int npool;
	/* statement texts, built once so that backends can cache by pointer */
	char *q_get[FS_MAX_TABLES], *q_lock[FS_MAX_TABLES], *q_put[FS_MAX_TABLES];
	char *q_feed[FS_MAX_TABLES], *q_kids[FS_MAX_TABLES], *q_scope[FS_MAX_TABLES];
	char *q_cut;
};


struct rec_ctx {
	const struct fs_table *t;
	struct fs_rec *out;
	int found, rc;
	int64_t seq;
	char origin[33];
};

/* db.c: row callbacks for a single integer or text column */
int hq_one_int(void *ctx, int ncol, const struct fs_val *v);
int hq_one_text(void *ctx, int ncol, const struct fs_val *v);

/* replica.c: the write path */
int hq_rec_get(struct hq *h, struct hq_db *db, const struct fs_table *t, const char *id, int lock,
	       struct fs_rec *out, struct rec_ctx *meta);
/* Authors (db.c author_schema): does table t carry them at HQ; the write
 * that makes record r its author's (NULL: none). */
int hq_authored(const struct fs_table *t);
const struct fs_dot *hq_author_dot(const struct fs_rec *r);
int hq_batch_begin(struct hq_db *db);
int hq_batch_end(struct hq *h, struct hq_db *db, int rc);
int hq_observe_hlc(struct hq *h, struct hq_db *db, int64_t hlc);
int hq_scope_of(struct hq *h, struct hq_db *db, const struct fs_rec *r, char scope[65]);
/* flags: HQ_STORE_NO_AUTHOR credits no one (the author columns keep what
 * they had): a write of another device than the pushing one. */
#define HQ_STORE_NO_AUTHOR 1
int hq_store_version(struct hq *h, struct hq_db *db, const struct fs_rec *old, const struct fs_rec *r,
		     const char *origin, int64_t *seq, int flags);

/* endpoints.c: what devices call, below HTTP */
int hq_quarantine(struct hq *h, struct hq_db *db, const struct hq_device *d, const struct fs_rec *r,
		  const char *reason);int hq_keep_for_review(struct hq *h, struct hq_db *db, const struct hq_device *d, const cJSON *records,
		       int *kept, int *stored);
void hq_touch_device(struct hq *h, struct hq_db *db, const struct hq_device *d, int synced, int pull,
		     const cJSON *body);
#endif
