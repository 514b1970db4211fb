/* cmd_init.c - `fieldsync init`: enrol this store with HQ. */
#include <string.h>
#include <unistd.h>
#include "cli.h"

int cmd_init(struct cli *c, int argc, char **argv)
{
	struct kit_args a;
	const char *server = NULL, *token = NULL, *name = NULL, *retry = NULL;
	int flags = 0, k;
	cli_args(&a, c, argc, argv);
	while ((k = kit_next(&a)) > 0) {
		if (k == 1 && (kit_is(&a, "help") || kit_is(&a, "h"))) {
			printf("usage: fieldsync init --server URL --token TOKEN [--name DEVICE] [--force]\n"
			       "                      [--insecure] [--cacert FILE] [--retry-for SECONDS]\n\n"
			       "Enrols this store with HQ using a one-time token from `fieldsyncd rep add`.\n"
			       "The store gets its replica id and device token (kept in the store file,\n"
			       "mode 0600, never printed). An enrolled store is refused unless --force.\n"
			       "--cacert FILE trusts the CA certificate(s) in FILE for an https:// HQ with a\n"
			       "private CA or a self-signed certificate; the store keeps it for every sync.\n"
			       "A store enrolled over https:// refuses an http:// server (no encryption)\n"
			       "unless --insecure is given. An HQ that does not answer is tried again for\n"
			       "5 s (each retry shown on a terminal); --retry-for waits longer.\n");
			return 0;
		}
		if (k == 1 && kit_is(&a, "force") && !a.inl) {
			flags |= FIELDSYNC_ENROLL_FORCE;
			continue;
		}
		if (k == 1 && kit_is(&a, "insecure") && !a.inl) {
			flags |= FIELDSYNC_ENROLL_INSECURE;
			continue;
		}
		const char **dst = k != 1 ? NULL : kit_is(&a, "server") ? &server : kit_is(&a, "token") ? &token :
				   kit_is(&a, "name") ? &name : kit_is(&a, "retry-for") ? &retry : NULL;
		if (!dst)
			return kit_unknown(&a);
		if (!(*dst = kit_value(&a)))
			return 2;
	}
	if (a.bad)
		return 2;
	if (!server || !token)
		return cli_usage("init", "init needs --server URL and --token TOKEN");
	long retry_ms = 0;
	int rc = retry ? cli_retry_for(retry, &retry_ms) : 0;
	if (rc == 0)
		rc = cli_open(c, 1);
	if (rc)
		return rc;
	fieldsync_set_retry(c->s, retry_ms, isatty(2) ? cli_retry_notice : NULL, NULL);
	int e = fieldsync_enroll(c->s, server, token, name, flags);
	if (e)
		return cli_fail(e);
	fieldsync_rows *st;
	if (fieldsync_status(c->s, &st) == 0) {
		if (c->json)
			fieldsync_rows_print(st, stdout, FIELDSYNC_FMT_OBJECT, NULL);
		else
			printf("enrolled as %s (rep %s, territories %s)\n", fieldsync_replica_id(c->s),
			       fieldsync_rows_value(st, 0, fieldsync_rows_find(st, "rep")),
			       fieldsync_rows_value(st, 0, fieldsync_rows_find(st, "territories")));
		fieldsync_rows_free(st);
	}
	return 0;
}
