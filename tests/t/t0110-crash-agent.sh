#!/bin/bash
# kill -9 of the agent at random points of a sync: a rerun converges, every
# acknowledged record is at HQ, nothing is doubled. FIELDSYNC_CRASH_TRIALS
# sets the number of kills (default 60).
. "$(dirname "$0")/../lib.sh"
trials=${FIELDSYNC_CRASH_TRIALS:-60}
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_BATCH=7 FIELDSYNC_PAGE=9

test_expect_success 'HQ with a territory of generated data' '
	hq_start &&
	"$TOOLS/gen" --db seed.db --territory T1 --customers 60 --visits 300 --plans 4 --quiet &&
	enroll seeder seed.db T1 && "$FS" --db seed.db sync >/dev/null &&
	enroll anna a.db T1
'

logged=0
killed_mid=0
for i in $(seq 1 "$trials"); do
	test_expect_success "kill -9 at a random point of sync, trial $i" '
		c=$(sql a.db "select id from customer order by random() limit 1") || return 1
		if [ -n "$c" ]; then
			"$FS" --db a.db customer edit "$c" --notes "trial $i" >/dev/null &&
			"$FS" --db a.db visit log "$c" --outcome "crash trial $i" --order "Tea:$i:1.50" >/dev/null ||
				return 1
			logged=$((logged + 1))
		fi
		h=$(sql "$HQ_DB" "select id from customer order by random() limit 1") &&
		"$FSD" --db "$HQ_DB" customer edit "$h" --city "City $i" >/dev/null || return 1
		# give the sync enough to do that the kill lands inside it: a full
		# re-pull or a re-push of 200 records (both idempotent by design)
		if [ $((i % 2)) -eq 0 ]; then
			sql a.db "update meta set value = '\''{}'\'' where key = '\''cursor'\''"
		else
			sql a.db "insert into changelog(tbl, id) select '\''visit'\'', id from visit order by random() limit 200"
		fi
		"$FS" --db a.db sync >/dev/null 2>&1 &
		pid=$!
		sleep "0.$(rand 3)$(rand 10)"
		kill -9 $pid 2>/dev/null && killed_mid=$((killed_mid + 1))
		wait $pid 2>/dev/null
		test "$(sql a.db "pragma integrity_check")" = ok
	'
	if [ $((i % 20)) -eq 0 ] || [ "$i" -eq "$trials" ]; then
		test_expect_success "after $i kills a full sync converges" '
			"$FS" --db a.db sync >/dev/null && "$FS" --db seed.db sync >/dev/null &&
			"$FS" --db a.db sync >/dev/null &&
			content a.db T1 >dev.txt && content "$HQ_DB" T1 >hq.txt &&
			{ cmp -s dev.txt hq.txt || { diff dev.txt hq.txt | head; return 1; }; } &&
			v=$(sql "$HQ_DB" "select count(*) from visit where outcome like '\''crash trial %'\''") &&
			o=$(sql "$HQ_DB" "select count(*) from order_line where product = '\''Tea'\''") &&
			echo "logged $logged, HQ has $v visits and $o order lines" &&
			test "$v" = "$logged" && test "$o" = "$logged" &&
			test "$(sql a.db "select count(*) from changelog")" = 0
		'
	fi
done

test_expect_success "a fresh device pulls exactly what HQ has" '
	enroll boris b.db T1 && "$FS" --db b.db sync >/dev/null &&
	content b.db T1 >b.txt && content "$HQ_DB" T1 >hq.txt && cmp -s b.txt hq.txt
'

test_expect_success "most kills landed inside a running sync ($killed_mid of $trials)" '
	test "$killed_mid" -ge $((trials / 2))
'

test_done
