#!/bin/bash
# Clock skew: devices whose clocks are hours off (libfaketime: one 6 h
# behind, one 9 h ahead, one right) edit the same records, concurrently and
# in causal chains, and sync in every order. They converge with HQ, all
# pick the same winners, and an edit made after seeing another wins over it
# even when its device's clock is 15 hours behind.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20
rounds=${FIELDSYNC_SKEW_ROUNDS:-6}

skew_a=-6h skew_b=+9h skew_c=+0
# at D ARGS: fieldsync on device D's clock
at() {
	_s=skew_$1; _d=$1; shift
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime -f "${!_s}" "$FS" --db "$_d.db" "$@"
}

test_expect_success 'three devices with skewed clocks, one customer' '
	hq_start &&
	for d in a b c; do
		tok=$("$FSD" --db "$HQ_DB" rep add rep$d --territory T1 2>/dev/null) &&
		at $d init --server "$HQ_URL" --token "$tok" >/dev/null || return 1
	done &&
	ahead=$(( $(faketime -f "$skew_b" date +%s) - $(date +%s) )) && test $ahead -ge $((9 * 3600 - 60)) &&
	behind=$(( $(date +%s) - $(faketime -f "$skew_a" date +%s) )) && test $behind -ge $((6 * 3600 - 60)) &&
	x=$(at c customer add --name "Skew Ltd" --territory T1) && echo "$x" >x &&
	for d in c a b; do at $d sync >/dev/null || return 1; done &&
	test "$(field a.db "$x" name)" = "Skew Ltd"
'
x=$(cat x)

test_expect_success 'a causal chain: the later edit wins though its clock is 15 h behind' '
	at b customer edit "$x" --notes "b, 9 h ahead, first" >/dev/null && at b sync >/dev/null &&
	at a sync >/dev/null && test "$(field a.db "$x" notes)" = "b, 9 h ahead, first" &&
	at a customer edit "$x" --notes "a, 6 h behind, after b" >/dev/null && at a sync >/dev/null &&
	for d in b c; do at $d sync >/dev/null || return 1; done &&
	for d in a b c; do
		test "$(field $d.db "$x" notes)" = "a, 6 h behind, after b" || { echo "$d: $(field $d.db "$x" notes)"; return 1; }
	done &&
	test "$(sql "$HQ_DB" "select notes from customer where id = '\''$x'\''")" = "a, 6 h behind, after b"
'

orders="abc bca cab acb cba bac"
for r in $(seq 1 "$rounds"); do
	test_expect_success "round $r: concurrent edits everywhere, syncs in order ${orders:$(( (r - 1) % 6 * 4 )):3}" '
		for d in a b c; do
			at $d customer edit "$x" --notes "$d round $r" --phone "+41 $r $d" >/dev/null &&
			at $d visit log "$x" --outcome "$d visit $r" >/dev/null || return 1
		done &&
		o=${orders:$(( (r - 1) % 6 * 4 )):3} &&
		for d in ${o:0:1} ${o:1:1} ${o:2:1}; do at $d sync >/dev/null || return 1; done
	'
done

test_expect_success 'after two more syncs each, every device equals HQ: same winners, same conflicts' '
	for i in 1 2; do for d in a b c; do at $d sync >/dev/null || return 1; done; done &&
	content "$HQ_DB" T1 >hq.content &&
	for d in a b c; do
		content $d.db T1 >$d.content && cmp -s hq.content $d.content ||
			{ echo "$d differs from HQ"; diff hq.content $d.content | head; return 1; }
	done &&
	w=$(field a.db "$x" notes) && test "$w" = "$(field b.db "$x" notes)" && test "$w" = "$(field c.db "$x" notes)" &&
	test "$(sql "$HQ_DB" "select count(*) from visit")" = $((3 * rounds))
'

test_done
