#!/bin/bash
# A lost or stolen device: its files are private to the user, its token is
# never shown after init, and `rep revoke --wipe` makes it hand in what it
# has not synced and erase its replica at the next contact (not before).
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_RETRIES=1

test_expect_success 'HQ starts' '
	hq_start
'

test_expect_success 'the store is 0600 in a 0700 directory it creates, whatever the umask' '
	(umask 000 && tok=$("$FSD" --db "$HQ_DB" rep add pia --territory T1 2>/dev/null) &&
		"$FS" --db "$XDG_DATA_HOME/fs/deep/p.db" init --server "$HQ_URL" --token "$tok" >/dev/null &&
		"$FS" --db "$XDG_DATA_HOME/fs/deep/p.db" customer add --name Perm --territory T1 >/dev/null &&
		"$FS" --db "$XDG_DATA_HOME/fs/deep/p.db" sync >/dev/null) &&
	test "$(stat -c %a "$XDG_DATA_HOME/fs")" = 700 &&
	test "$(stat -c %a "$XDG_DATA_HOME/fs/deep")" = 700 &&
	for f in "$XDG_DATA_HOME"/fs/deep/*; do
		m=$(stat -c %a "$f") && { test "$m" = 600 || { echo "$f is $m"; return 1; }; }
	done &&
	ls "$XDG_DATA_HOME"/fs/deep | grep -q "p.db"
'

test_expect_success 'the device token appears in no output and no log after init' '
	tok=$("$FSD" --db "$HQ_DB" rep add tom --territory T2 2>/dev/null) &&
	"$FS" --db t.db init --server "$HQ_URL" --token "$tok" >init.out 2>&1 &&
	dtok=$(sql t.db "select value from meta where key = '\''device_token'\''") &&
	test ${#dtok} -ge 32 &&
	"$FS" --db t.db customer add --name Tee --territory T2 >>out 2>&1 &&
	for c in status "--json status" sync "--json sync" "customer list" quarantine conflicts; do
		"$FS" --db t.db $c >>out 2>&1 || return 1
	done &&
	"$FSD" --db "$HQ_DB" device list >>out 2>&1 && "$FSD" --db "$HQ_DB" --json device list >>out 2>&1 &&
	"$FSD" --db "$HQ_DB" rep list >>out 2>&1 &&
	test -s out &&
	! grep -F "$dtok" init.out out "$TRASH/hq.log" &&
	! grep -F "$tok" out "$TRASH/hq.log"
'

test_expect_success 'a device with work not yet synced' '
	enroll wes w.db T3 &&
	c=$("$FS" --db w.db customer add --name "Synced Ltd" --territory T3) &&
	"$FS" --db w.db sync >/dev/null &&
	for i in 1 2 3; do
		"$FS" --db w.db customer add --name "Unsynced Secret $i" --territory T3 --phone "+41 79 000 00 0$i" >/dev/null || return 1
	done &&
	"$FS" --db w.db visit log "$c" --outcome "Secret outcome" >/dev/null &&
	test "$("$FS" --db w.db --json status | jq ".pending")" = 4
'

test_expect_success 'revoke --wipe without network: nothing changes on the device' '
	"$FSD" --db "$HQ_DB" rep revoke wes --wipe &&
	hq_stop &&
	store_dump w.db >before &&
	test_status 7 "$FS" --db w.db sync 2>err &&
	store_dump w.db >after && cmp -s before after &&
	test "$("$FS" --db w.db customer list --json | jq length)" -ge 4
'

test_expect_success 'at the next contact it hands in its unsynced records, then wipes itself' '
	HQ_ARGS="--batch 2" &&	# smaller than the device sends: it must halve, never wipe what HQ did not keep
	hq_start "$HQ_DB" &&
	HQ_ARGS= &&
	test_status 8 "$FS" --db w.db sync 2>err &&
	grep -q "wiped" err && grep -q "4 unsynced records handed in" err &&
	test "$(sql "$HQ_DB" "select count(*) from quarantine where reason like '\''%erasure%'\''")" = 4 &&
	test "$(sql "$HQ_DB" "select count(*) from customer where name like '\''Unsynced%'\''")" = 0
'

test_expect_success 'the wiped store holds no record, no token, not even in free pages' '
	for t in customer contact visit order_line payment changelog conflict quarantine; do
		n=$(sql w.db "select count(*) from $t") && test "$n" = 0 || { echo "$t: $n rows"; return 1; }
	done &&
	test -z "$(sql w.db "select value from meta where key in ('\''device_token'\'', '\''server_url'\'')")" &&
	test -n "$(sql w.db "select value from meta where key = '\''wiped_at'\''")" &&
	test "$(sql w.db "pragma integrity_check")" = ok &&
	! cat w.db* | grep -a -q -e "Secret" -e "Synced Ltd" &&
	test "$("$FS" --db w.db --json customer list | jq length)" = 0 &&
	test_status 11 "$FS" --db w.db sync 2>err && grep -q "not enrolled" err
'

test_expect_success 'revoke without --wipe refuses the device but leaves its data' '
	enroll val v.db T4 && "$FS" --db v.db customer add --name "Keep me" --territory T4 >/dev/null &&
	"$FSD" --db "$HQ_DB" rep revoke val &&
	test_status 8 "$FS" --db v.db sync 2>err && ! grep -q wiped err &&
	test "$("$FS" --db v.db --json customer list | jq length)" = 1
'

test_done
