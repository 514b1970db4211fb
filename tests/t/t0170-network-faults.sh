#!/bin/bash
# Network faults between the agents and fieldsyncd: every device reaches HQ
# only through tools/faultproxy, which drops requests, resets and truncates
# replies mid-body, stalls past the client's timeout, garbles replies, and
# sends requests twice or replays old ones. The agents retry, never apply a
# cut or garbled page, and converge with HQ: nothing lost, nothing doubled.
# FIELDSYNC_NETFAULT_ROUNDS (default 8).
. "$(dirname "$0")/../lib.sh"
rounds=${FIELDSYNC_NETFAULT_ROUNDS:-8}
seed=${FIELDSYNC_SEED:-11}
export FIELDSYNC_TIMEOUT_MS=1000 FIELDSYNC_RETRIES=6 FIELDSYNC_RETRY_MS=20 FIELDSYNC_BATCH=5 FIELDSYNC_PAGE=7

# proxy_start NAME ARGS...: a faultproxy in front of HQ; sets PX_URL.
proxy_start() {
	_name=$1; shift
	rm -f "$TRASH/$_name.port"
	"$TOOLS/faultproxy" --upstream "127.0.0.1:$HQ_PORT" --port-file "$TRASH/$_name.port" \
		--log "$TRASH/$_name.log" "$@" &
	test_at_exit "kill $! 2>/dev/null"
	_n=0
	while [ ! -s "$TRASH/$_name.port" ]; do
		_n=$((_n + 1)); [ $_n -lt 100 ] || return 1; sleep 0.05
	done
	PX_URL="http://127.0.0.1:$(cat "$TRASH/$_name.port")"
}

# through STORE URL: point an enrolled store at another address (the proxy)
through() {
	sql "$1" "update meta set value = '$2' where key = 'server_url'"
}

test_expect_success 'HQ, the faulty proxy, three devices of one territory behind it' '
	hq_start &&
	proxy_start px --seed "$seed" --rate 0.35 --stall-ms 1500 &&
	for d in a b c; do
		enroll rep$d $d.db T1 && through $d.db "$PX_URL" || return 1
	done
'

# sync_retry STORE: sync until it succeeds (at most 8 runs); counts the failures
fails=0
sync_retry() {
	for _i in 1 2 3 4 5 6 7 8; do
		"$FS" --db "$1" sync >/dev/null 2>>"$TRASH/sync.err" && return 0
		fails=$((fails + 1))
	done
	return 1
}

created=0
for r in $(seq 1 "$rounds"); do
	test_expect_success "round $r: edits on every device, syncs through the faults" '
		for d in a b c; do
			c=$("$FS" --db $d.db customer add --name "C $d $r" --territory T1 --phone "+41 $r") &&
			created=$((created + 1)) &&
			"$FS" --db $d.db visit log "$c" --outcome "visit $d $r" --order "Tea:$r:1.50" >/dev/null || return 1
			# an edit of a record another device created: concurrent edits
			o=$("$FS" --db $d.db --json customer list | jq -r ".[$(rand 3)].id // empty")
			if [ -n "$o" ]; then
				"$FS" --db $d.db customer edit "$o" --notes "$d in round $r" >/dev/null || return 1
			fi
		done
		for d in a b c; do sync_retry $d.db || { echo "$d.db did not get through"; tail -3 "$TRASH/sync.err"; return 1; }; done
	'
done

test_expect_success 'every fault kind happened (the client retried through them)' '
	for f in drop reset truncate stall dup replay garble; do
		n=$(grep -c " $f " px.log) && test "$n" -ge 1 || { echo "no $f in $(wc -l <px.log) requests"; return 1; }
	done &&
	echo "requests $(wc -l <px.log), faults $(grep -vc " pass " px.log), sync runs that failed $fails" >figures
'
echo "# $(cat figures 2>/dev/null)"

test_expect_success 'after two more rounds of syncs, every device equals HQ' '
	for i in 1 2; do for d in a b c; do sync_retry $d.db || return 1; done; done &&
	content "$HQ_DB" T1 >hq.content &&
	for d in a b c; do
		test "$(sql $d.db "pragma integrity_check")" = ok &&
		content $d.db T1 >$d.content && cmp -s hq.content $d.content ||
			{ echo "$d differs from HQ"; diff hq.content $d.content | head; return 1; }
	done
'

test_expect_success 'nothing lost, nothing doubled' '
	test "$(sql "$HQ_DB" "select count(*) from customer")" = "$created" &&
	test "$(sql "$HQ_DB" "select count(*) from visit")" = "$created" &&
	test "$(sql "$HQ_DB" "select count(*) from order_line")" = "$created" &&
	test "$(sql "$HQ_DB" "select count(*) from (select name from customer group by name having count(*) > 1)")" = 0 &&
	for d in a b c; do test "$("$FS" --db $d.db --json status | jq .pending)" = 0 || return 1; done
'

test_expect_success 'every reply cut or garbled: a new device applies nothing at all' '
	proxy_start cut --seed "$seed" --rate 1 --faults reset,truncate,garble &&
	enroll repd d.db T1 && through d.db "$PX_URL" &&
	store_dump d.db >before &&
	! "$FS" --db d.db sync >/dev/null 2>err &&
	store_dump d.db >after && cmp -s before after &&
	test "$(grep -c " pass " cut.log)" = 0 && test "$(wc -l <cut.log)" -ge 2
'

test_done
