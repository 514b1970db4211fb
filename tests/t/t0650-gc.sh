#!/bin/bash
# Tombstone garbage collection at HQ: a tombstone goes only once every
# device in its territory has acknowledged it; a device silent for longer
# than lapse-days is not waited for, and when it returns it resyncs its
# territory instead of bringing deleted records back. Disputed records are
# kept.
. "$(dirname "$0")/../lib.sh"

# live STORE: the codes of the live customers a replica shows, sorted
live() {
	if [ "$1" = "$HQ_DB" ]; then "$FSD" --db "$1" --json customer list; else "$FS" --db "$1" --json customer list; fi |
		jq -r '.[].code' | sort | tr '\n' ' '
}
# state: what garbage collection could change at HQ
state() {
	sql "$HQ_DB" "select count(*) from customer; select count(*) from evictions; select count(*) from gc_horizon;
		select count(*) from device_acks"
}
# gcval FILE TERRITORY COLUMN: a figure of `fieldsyncd --json gc` output
gcval() {
	jq -r --arg t "$2" --arg c "$3" '.[] | select(.territory == $t) | .[$c] // ""' "$1"
}
rows() {
	sql "$HQ_DB" "select count(*) from customer where code = '$1'"
}

test_expect_success 'HQ starts; three devices of one rep hold the same customers' '
	hq_start &&
	enroll anna a.db T1 && enroll anna b.db T1 && enroll anna c.db T1 &&
	for c in AL-1 GONE-1 OLD-1 OLD-2 MOV-1; do
		"$FS" --db a.db customer add --name "Customer $c" --code $c --territory T1 >/dev/null || return 1
	done &&
	"$FSD" --db "$HQ_DB" customer add --name "Elsewhere" --code T2-1 --territory T2 >/dev/null &&
	"$FS" --db a.db visit log AL-1 --outcome "before the collection" >/dev/null &&
	for s in a.db b.db c.db; do "$FS" --db $s sync >/dev/null || return 1; done &&
	test "$(live c.db)" = "AL-1 GONE-1 MOV-1 OLD-1 OLD-2 " &&
	sql "$HQ_DB" "select author_rep || '\''/'\'' || author_device from visit" >authors.before &&
	test "$(cat authors.before)" = "anna/$(sql a.db "select value from meta where key = '\''replica_id'\''")"
'

test_expect_success 'a tombstone stays while a device in its territory has not acknowledged it' '
	"$FS" --db a.db customer delete GONE-1 >/dev/null &&
	"$FS" --db a.db sync >/dev/null && "$FS" --db a.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" --json gc >gc1.json &&
	test "$(gcval gc1.json T1 devices)" = 3 &&
	test "$(gcval gc1.json T1 tombstones_purged)" = 0 &&
	test "$(gcval gc1.json T1 waiting)" = 1 &&
	test "$(rows GONE-1)" = 1 &&
	test "$(sql "$HQ_DB" "select count(*) from gc_horizon")" = 0
'

test_expect_success 'once every device has it, it goes; the devices carry on without a resync' '
	for s in b.db c.db a.db b.db c.db; do "$FS" --db $s sync >/dev/null || return 1; done &&
	"$FSD" --db "$HQ_DB" --json gc >gc2.json &&
	test "$(gcval gc2.json T1 tombstones_purged)" = 1 &&
	test "$(gcval gc2.json T1 waiting)" = 0 &&
	test "$(rows GONE-1)" = 0 &&
	h=$(sql "$HQ_DB" "select seq from gc_horizon where territory = '\''T1'\''") && test "$h" -gt 0 &&
	for s in a.db b.db c.db; do
		"$FS" --db $s --json sync >s.json || return 1
		test "$(jq -r .resynced s.json)" = 0 || return 1
		! "$FS" --db $s customer show GONE-1 >/dev/null 2>&1 || return 1
	done &&
	test "$(live "$HQ_DB")" = "AL-1 MOV-1 OLD-1 OLD-2 T2-1 "
'

test_expect_success 'a device silent past lapse-days is not waited for; --dry-run changes nothing' '
	"$FS" --db c.db customer edit OLD-1 --notes "edited while away" >/dev/null &&
	"$FS" --db c.db customer add --name "Made while away" --code NEWC-1 --territory T1 >/dev/null &&
	"$FS" --db a.db customer delete OLD-1 >/dev/null && "$FS" --db a.db customer delete OLD-2 >/dev/null &&
	"$FS" --db a.db customer add --name "Added meanwhile" --code NEW-1 --territory T1 >/dev/null &&
	"$FSD" --db "$HQ_DB" customer edit MOV-1 --territory T2 >/dev/null &&
	for s in a.db b.db a.db b.db; do "$FS" --db $s sync >/dev/null || return 1; done &&
	"$FSD" --db "$HQ_DB" --json gc >gc3.json &&
	test "$(gcval gc3.json T1 tombstones_purged)" = 0 && test "$(gcval gc3.json T1 waiting)" = 2 &&
	crid=$(sql c.db "select value from meta where key = '\''replica_id'\''") &&
	sql "$HQ_DB" "update devices set last_seen = '\''2020-01-01T00:00:00Z'\'' where id = '\''$crid'\''" &&
	"$FSD" --db "$HQ_DB" setting set lapse-days 30 >/dev/null &&
	state >before && "$FSD" --db "$HQ_DB" --json gc --dry-run >dry.json && state >after &&
	cmp before after &&
	test "$(gcval dry.json T1 tombstones_purged)" = 2 &&
	"$FSD" --db "$HQ_DB" --json gc >gc4.json &&
	test "$(gcval gc4.json T1 devices)" = 2 && test "$(gcval gc4.json T1 lapsed)" = 1 &&
	test "$(gcval gc4.json T1 tombstones_purged)" = 2 &&
	test "$(gcval gc4.json T1 evictions_purged)" = 1 &&
	test "$(rows OLD-1) $(rows OLD-2)" = "0 0"
'

test_expect_success 'the device that returns resyncs: deleted records do not come back, its new work arrives' '
	test_status 1 "$FS" --db c.db --json sync >c1.json 2>c1.err &&
	test "$(jq -r .resynced c1.json)" = 1 &&
	test "$(jq -r .rejected c1.json)" = 2 &&
	test "$(live c.db)" = "AL-1 NEW-1 NEWC-1 " &&
	test "$(rows OLD-1) $(rows OLD-2)" = "0 0" &&
	test "$(live "$HQ_DB")" = "AL-1 MOV-1 NEW-1 NEWC-1 T2-1 " &&
	"$FS" --db c.db --json quarantine >q.json &&
	jq -e "length == 2 and any(.[]; .tbl == \"customer\" and (.reason | test(\"deleted at HQ\")))" q.json >/dev/null &&
	jq -e "any(.[]; .tbl == \"change_log\" and (.reason | test(\"customer is unknown\")))" q.json >/dev/null &&
	"$FSD" --db "$HQ_DB" --json quarantine | jq -e "any(.[]; .reason | test(\"deleted at HQ\"))" >/dev/null &&
	"$FS" --db c.db --json sync >c2.json &&
	test "$(jq -r .resynced c2.json)" = 0 &&
	test "$(sql c.db "select count(*) from resync_mark")" = 0 &&
	test "$(sql c.db "select value from meta where key = '\''resync'\''")" = "" &&
	for s in a.db b.db; do
		"$FS" --db $s sync >/dev/null || return 1
		test "$(live $s)" = "AL-1 NEW-1 NEWC-1 " || return 1
	done
'

test_expect_success 'the resync keeps who did each visit: at HQ and on the returning device' '
	sql "$HQ_DB" "select author_rep || '\''/'\'' || author_device from visit" >authors.after &&
	diff -u authors.before authors.after &&
	test "$(sql c.db "select count(*) from visit where outcome = '\''before the collection'\''")" = 1 &&
	"$FSD" --db "$HQ_DB" --json report visits --by rep --month "$(date +%Y-%m)" |
		jq -e "map(select(.rep == \"anna\"))[0].done == 1" >/dev/null
'

test_expect_success 'without the resync the returning device would have kept them (the check can fail)' '
	test "$(sql a.db "select count(*) from customer where code in ('\''OLD-1'\'', '\''OLD-2'\'') and deleted = 1")" = 2 &&
	test "$(sql c.db "select count(*) from customer where code in ('\''OLD-1'\'', '\''OLD-2'\'', '\''MOV-1'\'')")" = 0
'

test_expect_success 'a disputed record is never collected' '
	"$FS" --db a.db customer add --name "In dispute" --code DIS-1 --territory T1 >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" dispute customer DIS-1 >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	"$FS" --db a.db customer delete DIS-1 >/dev/null &&
	for s in a.db b.db c.db a.db b.db c.db; do "$FS" --db $s sync >/dev/null || return 1; done &&
	"$FSD" --db "$HQ_DB" --json gc >gc5.json &&
	test "$(gcval gc5.json T1 kept)" = 1 &&
	test "$(rows DIS-1)" = 1
'

test_expect_success 'bad input: clear errors, exit 2' '
	test_status 2 "$FSD" --db "$HQ_DB" gc --bogus 2>err && grep -q "unknown option" err &&
	test_status 2 "$FSD" --db "$HQ_DB" gc now 2>err && grep -q "unexpected argument" err &&
	test_status 2 "$FSD" --db "$HQ_DB" serve --gc-every often 2>err && grep -q "gc-every" err &&
	test_status 2 "$FSD" --db "$HQ_DB" setting set lapse-days 0 2>err
'

test_expect_success 'HQ refuses a malformed resync or q in a request' '
	tok=$(sql a.db "select value from meta where key = '\''device_token'\''") &&
	code=$(curl -s -o r.json -w "%{http_code}" -H "Authorization: Bearer $tok" \
		--data "{\"v\":1,\"cursor\":{},\"resync\":{\"T1\":\"x\"}}" "$HQ_URL/v1/pull") &&
	test "$code" = 400 && jq -e .error r.json >/dev/null &&
	code=$(curl -s -o r.json -w "%{http_code}" -H "Authorization: Bearer $tok" \
		--data "{\"v\":1,\"cursor\":{},\"resync\":[1]}" "$HQ_URL/v1/pull") &&
	test "$code" = 400
'

test_expect_success 'a client that sends no resync member is never sent back to its first page' '
	tok=$(sql b.db "select value from meta where key = '\''device_token'\''") &&
	pull() {
		curl -s -H "Authorization: Bearer $tok" --data "{\"v\":1,\"limit\":1,\"cursor\":$1}" "$HQ_URL/v1/pull"
	} &&
	pull "{\"T1\":0}" >p1.json && jq -e ".resync.T1 > 0 and .more" p1.json >/dev/null &&
	c1=$(jq -c .cursor p1.json) && pull "$c1" >p2.json &&
	c2=$(jq -c .cursor p2.json) && test "$c1" != "$c2" &&
	jq -e "(.cursor.T1 | . < 0 and . < $(jq .cursor.T1 p1.json))" p2.json >/dev/null
'

test_done
