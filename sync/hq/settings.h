/*
 * settings.h - HQ's settings: those devices receive with every pull and
 * HQ's own. Below the sync endpoints (a pull reply carries them) and the
 * reports; knows only the store. See docs/ledger.md#hq-settings.
 */
#ifndef FS_HQ_SETTINGS_H
#define FS_HQ_SETTINGS_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "hq.h"

/*
 * HQ's settings, kept in hq_meta as "setting.KEY" (no row: the default):
 *
 *   key              typed as          devices  value                          default
 *   due_days         due-days          yes      grade intervals "A=7,B=14,..." (core/due.h)
 *   retention_years  retention-years   yes      1..100 years (core/retention.h) 3
 *   lapse_days       lapse-days        no       1..3650 days: a device not heard
 *                                               from for longer is not waited for
 *                                               by tombstone garbage collection  90
 *
 * Devices receive theirs with every pull reply (hq_settings_reply) and keep
 * each as "hq.KEY" in their meta.
 */
/* Set a setting by key or typed name ("retention_years" or
 * "retention-years"); the value is checked and stored in canonical form
 * (FIELDSYNC_EINVAL naming the setting and its range); NULL or "" restores
 * the default. */
int hq_setting_set(struct hq *h, const char *key, const char *value);
/* An integer setting ("retention_years", "lapse_days") into *out: HQ's
 * value, or its default when unset or unreadable. Read on db (in its
 * transaction, if one is open); db NULL: on a pooled connection taken and
 * given back here. Errors: FIELDSYNC_EINVAL (no such integer setting; *out
 * untouched), the backend's (*out is then the default). */
/* A setting's stored text into *out (malloc'd; NULL: unset, the default),
 * read on db. */
int hq_setting_get(struct hq *h, struct hq_db *db, const char *key, char **out);
int hq_setting_int(struct hq *h, struct hq_db *db, const char *key, int64_t *out);
/* Every setting: key (as typed), value, source ("HQ" or "default"),
 * to_devices ("yes" or "no"). */
int hq_settings(struct hq *h, struct fieldsync_rows **out);
/* HQ's grade visit intervals (the defaults until set). */
struct fs_due;
int hq_due_intervals(struct hq *h, struct fs_due *d);
/* The "settings" object of a pull reply, read on db (in its transaction). */
int hq_settings_reply(struct hq *h, struct hq_db *db, cJSON *out);

#endif
