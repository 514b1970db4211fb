#!/bin/sh
# fieldsyncd backup (online, while devices sync) and restore (a new HQ
# replica id; devices push what HQ lost and pull everything anew, so nothing
# is lost or skipped). See docs/operations.md.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=50 FIELDSYNC_RETRIES=8 FIELDSYNCD_CONFIG=
GEN="$TOOLS/gen"

# check_backup FILE: the checks every backup must pass; prints the number of
# loop visits it holds. A visit of the loop is written with its three order
# lines in one local transaction and pushed in one batch, so any state of
# HQ after a commit has exactly three lines per loop visit; and the change
# sequence counter moves in the same transaction as the rows it numbers.
check_backup() {
	test "$(sqlite3 "$1" "pragma integrity_check")" = ok || { echo "$1: integrity" >&2; return 1; }
	test "$(sqlite3 "$1" "pragma journal_mode")" = delete || { echo "$1: not standalone" >&2; return 1; }
	bad=$(sqlite3 "$1" "select count(*) from visit v where v.outcome like 'loop %' and
		(select count(*) from order_line l where l.visit_id = v.id) <> 3") || return 1
	test "$bad" = 0 || { echo "$1: $bad loop visits without their 3 order lines" >&2; return 1; }
	orphans=$(sqlite3 "$1" "select count(*) from order_line l where l.product like 'loop-%' and
		not exists (select 1 from visit v where v.id = l.visit_id)") || return 1
	test "$orphans" = 0 || { echo "$1: $orphans order lines without their visit" >&2; return 1; }
	top=$(sqlite3 "$1" "select max(s) from (select max(seq) s from customer union all select max(seq) from contact
		union all select max(seq) from visit union all select max(seq) from order_line
		union all select max(seq) from payment union all select max(seq) from conflict union all select max(seq) from change_log
		union all select max(seq) from evictions)") || return 1
	test "$(sqlite3 "$1" "select seq from hq_seq")" = "$top" || { echo "$1: hq_seq is not the top seq $top" >&2; return 1; }
	test "$(sqlite3 "$1" "select value from hq_meta where key = 'schema'")" = 5 || return 1
	sqlite3 "$1" "select count(*) from visit where outcome like 'loop %'"
}

# loop STORE CUSTOMER: log a visit with three order lines and sync, until
# the file "stop" appears (at most 300 rounds); failures go to loop.err
loop() {
	_i=0
	while [ ! -e stop ] && [ $_i -lt 300 ]; do
		_i=$((_i + 1))
		"$FS" --db "$1" visit log "$2" --outcome "loop $1 $_i" --order "loop-a:1:1.00" \
			--order "loop-b:2:1.50" --order "loop-c:3:2.00" >/dev/null 2>>loop.err ||
			echo "visit log $1 $_i failed" >>loop.err
		"$FS" --db "$1" sync >/dev/null 2>>loop.err || echo "sync $1 $_i failed: $?" >>loop.err
	done
	echo "$_i" >"rounds.$1"
}

test_expect_success 'setup: HQ with a few thousand records, two reps syncing' '
	hq_start &&
	enroll anna a.db MOW-1,MOW-2 && enroll boris b.db MOW-1 &&
	"$GEN" --db a.db --territory MOW-1,MOW-2 --customers 200 --contacts 300 --visits 1500 --plans 0 --quiet &&
	for c in AC-1 BM-2 MV-3; do
		"$FSD" --db "$HQ_DB" customer add --name "Customer $c" --territory MOW-1 --code "$c" >/dev/null || return 1
	done &&
	"$FSD" --db "$HQ_DB" customer add --name "Kazan Trade" --territory MOW-2 --code KZ-4 >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null && "$FS" --db a.db sync >/dev/null &&
	test "$(sql "$HQ_DB" "select count(*) from visit")" -ge 1000
'

test_expect_success 'backups taken while two devices log visits and sync are consistent snapshots' '
	rm -f stop loop.err && : >loop.err &&
	loop a.db AC-1 &
	la=$!
	loop b.db BM-2 &
	lb=$!
	test_at_exit "touch $TRASH/stop; kill $la $lb 2>/dev/null" &&
	sleep 1 &&
	for i in 1 2 3 4 5 6; do
		"$FSD" --db "$HQ_DB" backup "bk$i.db" >/dev/null || { touch stop; return 1; }
		sleep 0.4
	done &&
	touch stop && wait $la && wait $lb &&
	if test -s loop.err; then cat loop.err; return 1; fi &&
	test "$(cat rounds.a.db)" -ge 3 && test "$(cat rounds.b.db)" -ge 3 &&
	for i in 1 2 3 4 5 6; do check_backup "bk$i.db" >"n$i" || return 1; done &&
	cat n1 n2 n3 n4 n5 n6 | sort -u >counts &&
	test "$(wc -l <counts)" -ge 2 &&
	test "$(sort -n counts | head -n 1)" -ge 1 &&
	! test -e bk1.db.tmp
'

test_expect_success 'the check fails on a copy that is not a consistent snapshot' '
	cp bk6.db torn.db &&
	sqlite3 torn.db "delete from order_line where rowid = (select min(l.rowid) from order_line l
		join visit v on v.id = l.visit_id where v.outcome like '"'"'loop %'"'"')" &&
	! check_backup torn.db 2>err >/dev/null && grep -q "without their 3 order lines" err &&
	cp bk6.db torn2.db &&
	sqlite3 torn2.db "update hq_seq set seq = seq - 1" &&
	! check_backup torn2.db 2>err >/dev/null && grep -q "not the top seq" err
'

test_expect_success 'backup refuses the store itself and a missing store' '
	test_status 2 "$FSD" --db "$HQ_DB" backup "$HQ_DB" 2>err &&
	test_status 3 "$FSD" --db nowhere.db backup x.db 2>err &&
	! test -e x.db
'

test_expect_success 'after the backup: pushes, an admin edit, a move, a new device' '
	"$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" backup base.db >/dev/null &&
	check_backup base.db >/dev/null &&
	sql "$HQ_DB" "select value from hq_meta where key = '"'"'replica_id'"'"'" >old_id &&
	"$FS" --db a.db visit log AC-1 --outcome "after the backup" --order "late:1:9.99" >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" customer edit BM-2 --notes "edited at HQ after the backup" >/dev/null &&
	"$FSD" --db "$HQ_DB" customer edit MV-3 --territory SPB-1 >/dev/null &&
	vt=$("$FSD" --db "$HQ_DB" rep add vera --territory MOW-2 2>/dev/null) &&
	"$FS" --db v.db init --server "$HQ_URL" --token "$vt" >/dev/null &&
	"$FS" --db v.db sync >/dev/null &&
	"$FS" --db v.db visit log KZ-4 --outcome "vera after the backup" >/dev/null &&
	"$FS" --db v.db sync >/dev/null &&
	for i in 1 2 3 4 5; do "$FS" --db b.db visit log BM-2 --outcome "boris late $i" >/dev/null || return 1; done &&
	"$FS" --db b.db sync >/dev/null && "$FS" --db a.db sync >/dev/null && "$FS" --db b.db sync >/dev/null &&
	test "$(field a.db BM-2 notes)" = "edited at HQ after the backup" &&
	! "$FS" --db b.db customer show MV-3 >/dev/null 2>&1 &&
	test "$(sql "$HQ_DB" "select count(*) from visit where outcome = '"'"'after the backup'"'"'")" = 1
'

test_expect_success 'restore is refused while a server runs on the store; nothing changes' '
	test_status 10 "$FSD" --db "$HQ_DB" restore base.db 2>err &&
	grep -q "server is running" err &&
	test "$(sql "$HQ_DB" "select value from hq_meta where key = '"'"'replica_id'"'"'")" = "$(cat old_id)" &&
	test "$(sql "$HQ_DB" "select count(*) from visit where outcome = '"'"'after the backup'"'"'")" = 1
'

test_expect_success 'restore checks the backup first: junk or a non-HQ file changes nothing' '
	hq_stop &&
	printf "not a database at all" >junk.db &&
	test_status 2 "$FSD" --db "$HQ_DB" restore junk.db 2>err && grep -q "not an SQLite file" err &&
	sqlite3 other.db "create table t (x)" &&
	test_status 2 "$FSD" --db "$HQ_DB" restore other.db 2>err && grep -q "not an HQ store" err &&
	test_status 3 "$FSD" --db "$HQ_DB" restore missing.db 2>err &&
	test "$(sql "$HQ_DB" "select value from hq_meta where key = '"'"'replica_id'"'"'")" = "$(cat old_id)"
'

test_expect_success 'restore: the backup comes back under a new HQ replica id; the old store is kept' '
	"$FSD" --db "$HQ_DB" restore base.db >out 2>err &&
	grep -q "restored" out &&
	kept=$(sed -n "s/.*kept as //p" err) && test -f "$kept" &&
	test "$(sqlite3 "$kept" "select count(*) from visit where outcome = '"'"'after the backup'"'"'")" = 1 &&
	new_id=$(sql "$HQ_DB" "select value from hq_meta where key = '"'"'replica_id'"'"'") &&
	test "$new_id" != "$(cat old_id)" && echo "$new_id" >new_id &&
	test "$(sql "$HQ_DB" "select value from hq_meta where key = '"'"'replica_ids_before'"'"'")" = "$(cat old_id)" &&
	test "$(sql "$HQ_DB" "pragma integrity_check")" = ok &&
	test "$(sql "$HQ_DB" "select count(*) from visit where outcome = '"'"'after the backup'"'"'")" = 0 &&
	test "$(sql "$HQ_DB" "select territory from customer where code = '"'"'MV-3'"'"'")" = MOW-1
'

test_expect_success 'HQ writes after the restore get sequence numbers the devices already passed' '
	hq_start "$HQ_DB" &&
	"$FSD" --db "$HQ_DB" customer add --name "New after restore" --territory MOW-1 --code NEW-1 >/dev/null &&
	q=$(sql "$HQ_DB" "select seq from customer where code = '"'"'NEW-1'"'"'") &&
	ca=$(sql a.db "select value from meta where key = '"'"'cursor'"'"'" | jq ".\"MOW-1\"") &&
	cb=$(sql b.db "select value from meta where key = '"'"'cursor'"'"'" | jq ".\"MOW-1\"") &&
	echo "NEW-1 seq $q, cursors a $ca b $cb" &&
	test "$q" -le "$ca" && test "$q" -le "$cb"
'

test_expect_success 'a device starts over: HQ gets back what it lost, the device misses nothing' '
	"$FS" --db a.db sync >out &&
	test "$(sql a.db "select value from meta where key = '"'"'hq_id'"'"'")" = "$(cat new_id)" &&
	test "$(field a.db NEW-1 name)" = "New after restore" &&
	test "$(sql "$HQ_DB" "select count(*) from visit where outcome = '"'"'after the backup'"'"'")" = 1 &&
	test "$(sql "$HQ_DB" "select count(*) from order_line where product = '"'"'late'"'"'")" = 1 &&
	test "$(field a.db MV-3 territory)" = MOW-1 &&
	"$FS" --db b.db sync >/dev/null &&
	test "$(field b.db NEW-1 name)" = "New after restore" &&
	test "$(field b.db MV-3 territory)" = MOW-1 &&
	test "$(sql "$HQ_DB" "select count(*) from visit where outcome like '"'"'boris late %'"'"'")" = 5 &&
	test "$(sql "$HQ_DB" "select notes from customer where code = '"'"'BM-2'"'"'")" = "edited at HQ after the backup"
'

test_expect_success 'a device enrolled after the backup is refused until it enrols again; its data comes back' '
	test_status 8 "$FS" --db v.db sync 2>err &&
	grep -q "unknown device token" err &&
	vt=$("$FSD" --db "$HQ_DB" rep add vera --territory MOW-2 2>/dev/null) &&
	"$FS" --db v.db init --force --server "$HQ_URL" --token "$vt" >/dev/null &&
	"$FS" --db v.db sync >/dev/null &&
	test "$(sql "$HQ_DB" "select count(*) from visit where outcome = '"'"'vera after the backup'"'"'")" = 1
'

test_expect_success 'HQ and every device converge; nothing doubled' '
	for s in a.db b.db v.db a.db b.db v.db; do "$FS" --db $s sync >/dev/null || return 1; done &&
	content "$HQ_DB" MOW-1 >hq1 && content a.db MOW-1 >a1 && content b.db MOW-1 >b1 &&
	cmp hq1 a1 && cmp hq1 b1 &&
	content "$HQ_DB" MOW-2 >hq2 && content a.db MOW-2 >a2 && content v.db MOW-2 >v2 &&
	cmp hq2 a2 && cmp hq2 v2 &&
	test "$(sql "$HQ_DB" "select count(*) from visit where outcome = '"'"'after the backup'"'"'")" = 1 &&
	test "$(sql a.db "select count(*) from changelog")" = 0 &&
	test "$(sql "$HQ_DB" "select count(*) from (select id from visit group by id having count(*) > 1)")" = 0
'

test_expect_success 'a later sync is an ordinary one again' '
	"$FS" --db a.db --json sync >s.json &&
	test "$(jq -r .pushed s.json)" = 0 && test "$(jq -r .pulled s.json)" = 0
'

test_done
