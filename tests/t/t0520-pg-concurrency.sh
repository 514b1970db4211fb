#!/bin/sh
# HQ on PostgreSQL under concurrent writers: three fieldsyncd processes over
# one database, one of them slow to commit (it holds each push transaction
# open for FIELDSYNCD_TEST_HOLD_MS). The change feed must never let a pull
# cursor pass a row committed late, and pushes of the same record through
# two servers at once must merge with no lost update.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20
HOLD=${FIELDSYNC_PG_HOLD_MS:-300}

test_expect_success 'three servers over one PostgreSQL database, one slow to commit' '
	pg_start && HQ_DB=$(pg_db concurrency) && "$FSD" --db "$HQ_DB" migrate >/dev/null &&
	HQ_PID="" HQ_URLS="" &&
	export FIELDSYNCD_TEST_HOLD_MS=$HOLD && _hq_start_one 1 && unset FIELDSYNCD_TEST_HOLD_MS &&
	_hq_start_one 2 && _hq_start_one 3 && HQ_URL=${HQ_URLS%% *} &&
	enroll slow s.db T1 && enroll fast f.db T1 && enroll reader r.db T1 &&
	test "$(sql s.db "select value from meta where key = '\''server_url'\''")" != \
	     "$(sql f.db "select value from meta where key = '\''server_url'\''")"
'

test_expect_success 'slow and fast transactions interleave; a reader pulling all along misses nothing' '
	(for r in 1 2 3 4 5 6; do
		for k in 1 2 3; do "$FS" --db s.db customer add --name "slow $r.$k" --territory T1 >/dev/null; done
		"$FS" --db s.db sync >/dev/null || exit 1
	done) & slow=$!
	(for r in $(seq 1 24); do
		"$FS" --db f.db customer add --name "fast $r" --territory T1 >/dev/null &&
		"$FS" --db f.db sync >/dev/null || exit 1
	done) & fast=$!
	: >seen
	while kill -0 $slow 2>/dev/null || kill -0 $fast 2>/dev/null; do
		FIELDSYNC_PAGE=3 "$FS" --db r.db sync >/dev/null 2>>reader.err
		sql r.db "select count(*) from customer" >>seen
	done
	wait $slow && wait $fast &&
	FIELDSYNC_PAGE=3 "$FS" --db r.db sync >/dev/null &&
	sql "$HQ_DB" "select id from customer order by id" >hq.ids &&
	sql r.db "select id from customer order by id" >r.ids &&
	test "$(wc -l <hq.ids)" -eq 42 && cmp hq.ids r.ids &&
	# the reader did pull while the writers were at work
	awk "\$1 > 0 && \$1 < 42 { n++ } END { exit !(n >= 2) }" seen &&
	# and fast commits did land between slow ones (sequence order = commit order)
	test "$(sql "$HQ_DB" "select count(*) from (select origin, lag(origin) over (order by seq) p
		from customer) x where p <> origin")" -ge 4
'

test_expect_success 'every sequence number is used once and the feed order is the commit order' '
	test "$(sql "$HQ_DB" "select count(distinct seq) = count(*) and max(seq) = (select seq from hq_seq)
		from (select seq from customer union all select seq from evictions) x")" = t
'

test_expect_success 'the same record pushed through two servers at once: no lost update' '
	"$FSD" --db "$HQ_DB" customer add --name Hot --territory T1 --code HOT >/dev/null &&
	"$FS" --db s.db sync >/dev/null && "$FS" --db f.db sync >/dev/null &&
	for k in 1 2 3 4 5 6; do
		"$FS" --db s.db customer edit HOT --phone "p$k" --notes "slow $k" >/dev/null &&
		"$FS" --db f.db customer edit HOT --city "c$k" --notes "fast $k" >/dev/null &&
		{ "$FS" --db s.db sync >/dev/null & a=$!; "$FS" --db f.db sync >/dev/null & b=$!;
		  wait $a && wait $b; } &&
		"$FSD" --db "$HQ_DB" --json customer show HOT >hot.json &&
		jq -e --arg p "p$k" --arg c "c$k" ".phone == \$p and .city == \$c" hot.json >/dev/null || {
			cat hot.json; return 1; }
	done &&
	for s in s f s f; do "$FS" --db $s.db sync >/dev/null || return 1; done &&
	test "$(field s.db HOT phone)" = p6 && test "$(field f.db HOT city)" = c6 &&
	test "$(field s.db HOT notes)" = "$(field f.db HOT notes)" &&
	# the notes clashed; no losing value went missing: each is a conflict record
	test "$("$FSD" --db "$HQ_DB" --json conflicts --all | jq "map(select(.field == \"notes\")) | length")" -ge 1
'

test_expect_success 'migrate from three hosts at once on a fresh database: one schema, all succeed' '
	DB2=$(pg_db fresh) || return 1
	"$FSD" --db "$DB2" migrate >m1 2>&1 & p1=$!
	"$FSD" --db "$DB2" migrate >m2 2>&1 & p2=$!
	"$FSD" --db "$DB2" migrate >m3 2>&1 & p3=$!
	wait $p1 && wait $p2 && wait $p3 &&
	test "$(sql "$DB2" "select count(*) from hq_meta where key = '\''replica_id'\''")" = 1 &&
	test "$(cat m1 m2 m3 | sed -n "s/.*replica \([0-9a-f]*\).*/\1/p" | sort -u | wc -l)" = 1
'

test_done
