#!/bin/bash
# kill -9 of fieldsyncd while devices push: what a device saw acknowledged
# is in the HQ store after the crash; after a restart every device
# converges with nothing doubled. FIELDSYNC_CRASH_TRIALS (default 24).
. "$(dirname "$0")/../lib.sh"
trials=${FIELDSYNC_CRASH_TRIALS:-24}
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_RETRIES=1 FIELDSYNC_BATCH=10

test_expect_success 'HQ starts' '
	hq_start
'

# acked STORE: records the device holds as pushed (no change-log entry)
# that HQ does not have. Must print nothing.
missing_at_hq() {
	q="attach '$1' as d;"
	for t in customer contact visit order_line payment; do
		q="$q select '$t', v.id from d.$t v where v.id not in (select id from d.changelog)
			and v.id not in (select id from main.$t);"
	done
	sql "$HQ_DB" "$q"
}

hits=0
for i in $(seq 1 "$trials"); do
	a=T$((2 * i - 1)) b=T$((2 * i))
	test_expect_success "kill -9 of fieldsyncd during two pushes, trial $i" '
		"$FSD" --db "$HQ_DB" rep add r$i --territory $a,$b >/dev/null 2>&1 &&
		for t in $a $b; do
			"$TOOLS/gen" --db d$t.db --territory $t --customers 15 --visits 120 --seed $i --quiet &&
			tok=$("$FSD" --db "$HQ_DB" rep token r$i 2>/dev/null) &&
			"$FS" --db d$t.db init --server "$HQ_URL" --token "$tok" >/dev/null || return 1
		done
		"$FS" --db d$a.db sync >/dev/null 2>&1 & p1=$!
		"$FS" --db d$b.db sync >/dev/null 2>&1 & p2=$!
		sleep "0.$(rand 2)$(rand 10)"
		kill -9 $HQ_PID 2>/dev/null && hits=$((hits + 1))
		wait $HQ_PID $p1 $p2 2>/dev/null
		m=$(missing_at_hq d$a.db; missing_at_hq d$b.db)
		if [ -n "$m" ]; then echo "acknowledged but not at HQ:"; echo "$m" | head; return 1; fi
		test "$(sql "$HQ_DB" "pragma integrity_check")" = ok &&
		hq_start "$HQ_DB" &&
		"$FS" --db d$a.db sync >/dev/null && "$FS" --db d$b.db sync >/dev/null &&
		for t in $a $b; do
			content d$t.db $t >dev.txt && content "$HQ_DB" $t >hq.txt &&
			{ cmp -s dev.txt hq.txt || { echo "$t differs"; diff dev.txt hq.txt | head -5; return 1; }; } &&
			test "$(sql d$t.db "select count(*) from visit where scope = '\''$t'\''")" = \
			     "$(sql "$HQ_DB" "select count(*) from visit where scope = '\''$t'\''")" || return 1
		done
	'
done

test_expect_success "the kills hit a running server ($hits of $trials)" '
	test "$hits" -eq "$trials" &&
	test "$(grep -o "fieldsyncd: listening" "$TRASH/hq.log" | wc -l)" -eq $((trials + 1))
'

test_done
