#!/bin/sh
# Sync end to end: real fieldsyncd on loopback, real stores, the CLI.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

count() { sql "$1" "$2"; }

test_expect_success 'HQ starts; reps enrol; health answers' '
	hq_start &&
	enroll anna a.db MOW-1 && enroll boris b.db MOW-1 && enroll vera v.db SPB-1 &&
	curl -sf "$HQ_URL/v1/health" | jq -e ".status == \"ok\" and .v == 1" >/dev/null &&
	"$FSD" --db "$HQ_DB" --json rep list | jq -e "length == 3" >/dev/null
'

test_expect_success 'init is refused on an enrolled store without --force' '
	tok=$("$FSD" --db "$HQ_DB" rep token anna 2>/dev/null) &&
	test_status 11 "$FS" --db a.db init --server "$HQ_URL" --token "$tok" 2>err &&
	grep -q "already enrolled" err &&
	"$FS" --db a.db init --server "$HQ_URL" --token "$tok" --force >/dev/null
'

test_expect_success 'a used or unknown enrolment token is refused' '
	tok=$("$FSD" --db "$HQ_DB" rep token anna 2>/dev/null) &&
	"$FS" --db x.db init --server "$HQ_URL" --token "$tok" >/dev/null &&
	test_status 8 "$FS" --db y.db init --server "$HQ_URL" --token "$tok" 2>err &&
	test_status 8 "$FS" --db y.db init --server "$HQ_URL" --token 0000000000000000000000000000000000 2>err
'

test_expect_success 'an enrolment whose answer was lost can be repeated with the same nonce only' '
	tok=$("$FSD" --db "$HQ_DB" rep token anna 2>/dev/null) &&
	printf "{\"v\":1,\"token\":\"%s\",\"nonce\":\"%s\"}" "$tok" 0123456789abcdef0123456789abcdef >e1.json &&
	printf "{\"v\":1,\"token\":\"%s\",\"nonce\":\"%s\"}" "$tok" fedcba9876543210fedcba9876543210 >e2.json &&
	curl -sf -X POST --data-binary @e1.json "$HQ_URL/v1/enroll" >r1 &&
	curl -sf -X POST --data-binary @e1.json "$HQ_URL/v1/enroll" >r2 &&
	test "$(jq -r .replica_id r1)" = "$(jq -r .replica_id r2)" &&
	test "$(jq -r .device_token r1)" = "$(jq -r .device_token r2)" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X POST --data-binary @e2.json "$HQ_URL/v1/enroll")" = 403 &&
	printf "{\"v\":1}" >pull.json &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $(jq -r .device_token r1)" \
		-X POST --data-binary @pull.json "$HQ_URL/v1/pull")" = 200
'

test_expect_success 'HQ customers reach the reps of their territory only' '
	C=$("$FSD" --db "$HQ_DB" customer add --name "Acme" --territory MOW-1 --code AC-1 --grade B) &&
	echo "$C" >cid &&
	"$FSD" --db "$HQ_DB" customer add --name "Nevsky" --territory SPB-1 --code NV-1 >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null && "$FS" --db v.db sync >/dev/null &&
	test "$(field a.db AC-1 name)" = Acme && test "$(field b.db AC-1 name)" = Acme &&
	! "$FS" --db a.db customer show NV-1 2>/dev/null &&
	test "$(field v.db NV-1 name)" = Nevsky && ! "$FS" --db v.db customer show AC-1 2>/dev/null
'

test_expect_success 'offline visits reach HQ; push is idempotent; nothing doubles' '
	for i in 1 2 3; do "$FS" --db a.db visit log AC-1 --outcome "visit $i" --order "Tea:$i:2.50" >/dev/null; done &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(count "$HQ_DB" "select count(*) from visit")" = 3 &&
	test "$(count "$HQ_DB" "select count(*) from order_line")" = 3 &&
	cp a.db a.bak && cp a.db-wal a.bak-wal 2>/dev/null; true &&
	sqlite3 a.db "insert into changelog(tbl, id) select '\''visit'\'', id from visit" &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(count "$HQ_DB" "select count(*) from visit")" = 3 &&
	test "$(count a.db "select count(*) from changelog")" = 0
'

test_expect_success 'concurrent edits of different fields both survive everywhere' '
	"$FS" --db a.db customer edit AC-1 --city Moscow >/dev/null &&
	"$FS" --db b.db customer edit AC-1 --grade A >/dev/null &&
	"$FSD" --db "$HQ_DB" customer edit AC-1 --notes "HQ note" >/dev/null &&
	for s in a b a; do "$FS" --db $s.db sync >/dev/null || return 1; done &&
	for s in a b; do
		test "$(field $s.db AC-1 city)" = Moscow && test "$(field $s.db AC-1 grade)" = A &&
		test "$(field $s.db AC-1 notes)" = "HQ note" || return 1
	done &&
	"$FSD" --db "$HQ_DB" --json customer show AC-1 | jq -e ".city == \"Moscow\" and .grade == \"A\" and .open_conflicts == 0"
'

test_expect_success 'the same field: one winner everywhere, a conflict record at HQ and on both devices' '
	"$FS" --db a.db customer edit AC-1 --phone 111 >/dev/null &&
	"$FS" --db b.db customer edit AC-1 --phone 222 >/dev/null &&
	for s in a b a; do "$FS" --db $s.db sync >/dev/null || return 1; done &&
	wa=$(field a.db AC-1 phone) && wb=$(field b.db AC-1 phone) &&
	wh=$("$FSD" --db "$HQ_DB" --json customer show AC-1 | jq -r .phone) &&
	test "$wa" = "$wb" && test "$wa" = "$wh" &&
	for s in a b; do "$FS" --db $s.db --json conflicts | jq -e "length == 1 and .[0].field == \"phone\"" >/dev/null || return 1; done &&
	"$FSD" --db "$HQ_DB" --json conflicts | jq -e "length == 1" >/dev/null &&
	loser=$("$FS" --db a.db --json conflicts | jq -r ".[0].other") &&
	test "$loser" != "$wa" && { test "$loser" = 111 || test "$loser" = 222; }
'

test_expect_success 'resolving keeps the chosen value everywhere and closes the conflict' '
	k=$("$FS" --db a.db --json conflicts | jq -r ".[0].id") &&
	other=$("$FS" --db a.db --json conflicts | jq -r ".[0].other") &&
	"$FS" --db a.db conflicts resolve "$k" --keep loser >/dev/null &&
	for s in a b; do "$FS" --db $s.db sync >/dev/null || return 1; done &&
	test "$(field a.db AC-1 phone)" = "$other" && test "$(field b.db AC-1 phone)" = "$other" &&
	"$FS" --db b.db --json conflicts | jq -e "length == 0" >/dev/null &&
	"$FSD" --db "$HQ_DB" --json conflicts | jq -e "length == 0" >/dev/null &&
	"$FS" --db b.db --json conflicts --all | jq -e ".[0].status == \"resolved\" and (.[0].resolution | test(\"kept loser\"))" >/dev/null
'

test_expect_success 'a resolved conflict cannot be reopened from HQ' '
	k=$("$FSD" --db "$HQ_DB" --json conflicts --all | jq -r ".[0].id") &&
	test_status 11 "$FSD" --db "$HQ_DB" conflicts resolve "$k" --keep loser 2>err &&
	grep -q "already resolved" err
'

test_expect_success 'a customer outside the rep'"'"'s territories is refused on the device at once' '
	test_status 2 "$FS" --db a.db customer add --name Intruder --territory SPB-1 2>err &&
	grep -q "territory: .SPB-1. is not one of this rep.s territories (MOW-1)" err &&
	c=$("$FS" --db a.db --json customer list | jq -r "map(select(.territory == \"MOW-1\")) | .[0].id") &&
	test_status 2 "$FS" --db a.db customer edit "$c" --territory SPB-1 2>/dev/null &&
	"$FS" --db a.db --json status | jq -e ".pending == 0" >/dev/null
'

test_expect_success 'a push outside the rep'"'"'s scope is rejected, quarantined on both sides, writes nothing' '
	before=$(count "$HQ_DB" "select count(*) from customer") &&
	# a device that does not check (an older release): its list of territories gone
	sqlite3 a.db "delete from meta where key = '\''territories'\''" &&
	"$FS" --db a.db customer add --name Intruder --territory SPB-1 >/dev/null &&
	test_status 1 "$FS" --db a.db sync >/dev/null 2>&1 &&
	test "$(count "$HQ_DB" "select count(*) from customer")" = "$before" &&
	"$FS" --db a.db --json quarantine | jq -e "length == 1 and (.[0].reason | test(\"territory\"))" >/dev/null &&
	"$FSD" --db "$HQ_DB" --json quarantine | jq -e "map(select(.rep == \"anna\")) | length == 1" >/dev/null &&
	"$FS" --db a.db --json status | jq -e ".pending == 0 and .quarantined == 1" >/dev/null
'

test_expect_success 'a record id from another territory cannot be written' '
	nv=$(count "$HQ_DB" "select id from customer where code = '\''NV-1'\''") &&
	"$FS" --db a.db customer add --name Decoy --territory MOW-1 >/dev/null &&
	sqlite3 a.db "update customer set id = '\''$nv'\'' where name = '\''Decoy'\''; update changelog set id = '\''$nv'\'' where id not in (select id from customer)" &&
	"$FS" --db a.db sync >/dev/null 2>&1; test "$(count "$HQ_DB" "select name from customer where id = '\''$nv'\''")" = Nevsky &&
	"$FSD" --db "$HQ_DB" --json quarantine | jq -e "map(select(.rec_id == \"$nv\")) | length == 1" >/dev/null
'

test_expect_success 'a customer moved to another territory is evicted with its visits and backfilled there' '
	"$FSD" --db "$HQ_DB" customer edit AC-1 --territory SPB-1 >/dev/null &&
	"$FS" --db b.db sync >/dev/null && "$FS" --db v.db sync >/dev/null &&
	! "$FS" --db b.db customer show AC-1 2>/dev/null &&
	test "$(count b.db "select count(*) from visit")" = 0 &&
	test "$(count b.db "select count(*) from order_line")" = 0 &&
	test "$(field v.db AC-1 name)" = Acme &&
	test "$(count v.db "select count(*) from visit")" = 3 &&
	test "$(count v.db "select count(*) from conflict")" = 1
'

test_expect_success 'unpushed edits of an evicted record are pushed first, never lost' '
	"$FSD" --db "$HQ_DB" customer edit AC-1 --territory MOW-1 >/dev/null &&
	"$FS" --db b.db sync >/dev/null &&
	"$FS" --db b.db customer edit AC-1 --website example.com >/dev/null &&
	"$FS" --db b.db customer edit AC-1 --website example.org >/dev/null &&
	"$FS" --db a.db customer edit AC-1 --city Tver >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(field a.db AC-1 website)" = "" &&
	"$FSD" --db "$HQ_DB" customer edit AC-1 --territory SPB-1 >/dev/null &&
	test_status 1 "$FS" --db b.db sync >/dev/null 2>&1 &&
	! "$FS" --db b.db customer show AC-1 2>/dev/null &&
	"$FSD" --db "$HQ_DB" --json quarantine |
		jq -e "map(select(.rep == \"boris\" and .tbl == \"customer\" and (.record | test(\"example.org\")))) | length == 1" >/dev/null &&
	"$FS" --db b.db --json quarantine | jq -e "map(select(.tbl == \"customer\" and (.record | test(\"example.org\")))) | length == 1" >/dev/null &&
	"$FS" --db b.db --json quarantine | jq -e "map(select(.tbl == \"change_log\")) | length == 2" >/dev/null
'

test_expect_success 'a rep moved to another territory loses the old one and gets the new one' '
	"$FSD" --db "$HQ_DB" rep move boris --territory SPB-1 &&
	"$FS" --db b.db sync >/dev/null &&
	test "$(field b.db NV-1 name)" = Nevsky && test "$(field b.db AC-1 name)" = Acme &&
	test "$(count b.db "select count(*) from customer where scope = '\''MOW-1'\''")" = 0 &&
	"$FS" --db b.db --json status | jq -e ".territories == \"SPB-1\"" >/dev/null
'

test_expect_success 'a device sending bigger batches than HQ takes halves them and gets through' '
	hq_stop && HQ_ARGS="--batch 4" hq_start "$HQ_DB" &&
	for i in 1 2 3 4 5 6 7 8 9; do "$FS" --db v.db customer add --name "Batch $i" --territory SPB-1 >/dev/null; done &&
	FIELDSYNC_BATCH=50 "$FS" --db v.db sync >/dev/null &&
	test "$(sql "$HQ_DB" "select count(*) from customer where name like '\''Batch %'\''")" = 9 &&
	hq_stop && hq_start "$HQ_DB"
'

test_expect_success 'a no-op sync is one request' '
	"$FS" --db v.db sync >/dev/null &&
	"$FS" --db v.db --json sync | jq -e ".requests == 1 and .pushed == 0 and .pulled == 0" >/dev/null
'

test_expect_success 'a second sync of the same store at the same time is refused' '
	(exec 9>v.db.sync-lock && flock 9 && exec sleep 3) & holder=$!
	sleep 0.2 &&
	test_status 10 "$FS" --db v.db sync 2>err; rc=$?
	kill $holder 2>/dev/null; wait $holder 2>/dev/null
	test $rc -eq 0 && grep -q "another sync" err
'

test_expect_success 'a revoked device gets 401 and its sync says so' '
	"$FSD" --db "$HQ_DB" rep revoke vera &&
	test_status 8 "$FS" --db v.db sync 2>err &&
	grep -q "revoked" err
'

test_expect_success 'server unreachable: clear message, non-zero, local work kept' '
	hq_stop &&
	"$FS" --db a.db customer add --name Offline --territory MOW-1 >/dev/null &&
	FIELDSYNC_RETRIES=1 test_status 7 "$FS" --db a.db sync 2>err &&
	grep -q "127.0.0.1" err &&
	"$FS" --db a.db --json status | jq -e ".pending == 1" >/dev/null &&
	hq_start "$HQ_DB" && sqlite3 a.db "update meta set value = '\''$HQ_URL'\'' where key = '\''server_url'\''" &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(count "$HQ_DB" "select count(*) from customer where name = '\''Offline'\''")" = 1
'

test_expect_success 'the HQ log has one line per request' '
	grep -c "POST /v1/" "$TRASH/hq.log" >n && test "$(cat n)" -gt 20 &&
	! grep -qi "bearer\|device_token" "$TRASH/hq.log"
'

test_done
