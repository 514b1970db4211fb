#!/bin/sh
# A rolling upgrade of HQ over PostgreSQL: the release's fieldsyncd serves
# one database; this fieldsyncd migrates it while the old one keeps serving,
# then both serve it at the same time, as two nodes behind a load balancer
# do mid-upgrade. Devices of both generations sync through one and the
# other in turn, edit the same records concurrently (pushed through the two
# servers at once), log visits with orders and payments, clash on a field,
# see a customer move; new devices enrol through either server. Every
# device converges with the database. Once migrated, the database is
# administered with this fieldsyncd: the release's refuses it if the
# schema is newer than its own (or still works if it did not change), and
# so does a retired old node that is started again.
. "$(dirname "$0")/lib.sh"

A() { "$FS_OLD" --db a.db "$@"; }	# anna, MOW-1, the release's agent
B() { "$FS" --db b.db "$@"; }		# boris, MOW-1, this agent
V() { "$FS_OLD" --db v.db "$@"; }	# vera, SPB-1, the release's agent
hq_old() { "$FSD_OLD" --db "$HQ_DB" "$@"; }	# admin before the upgrade
hq_new() { "$FSD" --db "$HQ_DB" "$@"; }		# and from its start on
# through SERVER DEVICE...: each device's next sync goes to that server
through() {
	eval "_url=\$${1}_URL"
	shift
	for _d in "$@"; do point "$_d.db" "$_url" || return 1; done
}
sync_all() {
	for _d in "$@"; do
		case $_d in
		a|v|c) synced "$FS_OLD" $_d.db ;;
		b|d) synced "$FS" $_d.db ;;
		esac || return 1
	done
}

test_expect_success 'the release'"'"'s fieldsyncd serves a PostgreSQL database to old and new agents' '
	pg_start && HQ_DB=$(pg_db hq) &&
	hq_old migrate >/dev/null && serve o "$FSD_OLD" "$HQ_DB" &&
	join "$FS_OLD" "$FSD_OLD" "$o_URL" anna a.db MOW-1 &&
	join "$FS" "$FSD_OLD" "$o_URL" boris b.db MOW-1 &&
	join "$FS_OLD" "$FSD_OLD" "$o_URL" vera v.db SPB-1 &&
	hq_old customer add --name Acme --territory MOW-1 --code AC-1 --lat 55.7601 --lon 37.6189 >/dev/null &&
	hq_old customer add --name Nevsky --territory SPB-1 --code NV-1 >/dev/null &&
	A customer add --name "Kedr Opt" --territory MOW-1 --code KD-2 >/dev/null &&
	sync_all a b v a &&
	test "$(cfield "$FS" b.db KD-2 name)" = "Kedr Opt" && test "$(cfield "$FS_OLD" v.db NV-1 name)" = Nevsky
'

test_expect_success 'this fieldsyncd migrates the database while the old one serves; both serve it' '
	sql "$HQ_DB" "select value from hq_meta where key = '\''schema'\''" >schema.old &&
	hq_new migrate >/dev/null &&
	sql "$HQ_DB" "select value from hq_meta where key = '\''schema'\''" >schema.new &&
	test "$(cat schema.old)" -le "$(cat schema.new)" &&
	serve n "$FSD" "$HQ_DB" &&
	ho=$(about o) && hn=$(about n) &&
	test "$(echo "$ho" | jq -r .replica)" = "$(echo "$hn" | jq -r .replica)" &&
	test "$(echo "$ho" | jq -r .version)" = "$("$FSD_OLD" --version | cut -d" " -f2)" &&
	test "$(echo "$hn" | jq -r .version)" = "$("$FSD" --version | cut -d" " -f2)" &&
	echo "$hn" | jq -e ".store == \"postgres\"" >/dev/null
'

round=0
for via in "n o n" "o n o" "n n o" "o o n"; do
	round=$((round + 1))
	set -- $via
	va=$1 vb=$2 vv=$3
	test_expect_success "round $round: anna through $va, boris through $vb, vera through $vv; visits, orders, payments, edits" '
		through $va a && through $vb b && through $vv v &&
		A visit log AC-1 --outcome "anna round $round" --order "Tea:$round:2.50" --collected $round >/dev/null &&
		B visit log KD-2 --outcome "boris round $round" --order "Coffee:$round:4.00" --receivable 4 >/dev/null &&
		V visit log NV-1 --outcome "vera round $round" --collected 1.50 >/dev/null &&
		A customer edit KD-2 --notes "anna $round" >/dev/null &&
		B customer edit AC-1 --city "City $round" >/dev/null &&
		hq_new customer edit NV-1 --notes "HQ $round" >/dev/null &&
		sync_all a b v a b &&
		test "$(cfield "$FS" b.db KD-2 notes)" = "anna $round" &&
		test "$(cfield "$FS_OLD" a.db AC-1 city)" = "City $round" &&
		test "$(cfield "$FS_OLD" v.db NV-1 notes)" = "HQ $round" &&
		test "$(sql "$HQ_DB" "select count(*) from visit where outcome like '\''% round $round'\''")" = 3
	'
done

test_expect_success 'the same record pushed through both servers at once: every edit survives, the clash is kept' '
	through o a && through n b &&
	for i in 1 2 3; do
		A customer edit AC-1 --region "Region $i" --phone "a$i" >/dev/null &&
		B customer edit AC-1 --website "site$i.example" --phone "b$i" >/dev/null || return 1
		A sync >a.out 2>&1 & pa=$!
		B sync >b.out 2>&1 & pb=$!
		wait $pa; ra=$?; wait $pb; rb=$?
		test $ra -eq 0 && test $rb -eq 0 || { cat a.out b.out; return 1; }
		sync_all a b a || return 1
		for d in "$FS_OLD a.db" "$FS b.db"; do
			set -- $d
			test "$(cfield "$1" "$2" AC-1 region)" = "Region $i" &&
			test "$(cfield "$1" "$2" AC-1 website)" = "site$i.example" || return 1
		done
		test "$(sql "$HQ_DB" "select count(*) from conflict where field = '\''phone'\''")" = $i || return 1
	done &&
	test "$(cfield "$FS_OLD" a.db AC-1 phone)" = "$(cfield "$FS" b.db AC-1 phone)"
'

test_expect_success 'resolved through one server, the clash closes on devices of the other' '
	through n a && through o b &&
	for k in $(B --json conflicts | jq -r ".[].id"); do B conflicts resolve "$k" --keep winner >/dev/null || return 1; done &&
	sync_all b a &&
	A --json conflicts | jq -e "length == 0" >/dev/null && hq_new --json conflicts | jq -e "length == 0" >/dev/null
'

test_expect_success 'a customer moved away and back while its devices sync through one server and the other' '
	through o a b && through n v &&
	hq_new customer edit KD-2 --territory SPB-1 >/dev/null &&
	sync_all a b v &&
	! A customer show KD-2 >/dev/null 2>&1 && ! B customer show KD-2 >/dev/null 2>&1 &&
	test "$(cfield "$FS_OLD" v.db KD-2 notes)" = "anna 4" &&
	test "$(sql v.db "select count(*) from visit where outcome like '\''boris round %'\''")" = 4 &&
	hq_new customer edit KD-2 --territory MOW-1 >/dev/null &&
	through n a b && through o v && sync_all v a b &&
	! V customer show KD-2 >/dev/null 2>&1 && test "$(cfield "$FS" b.db KD-2 name)" = "Kedr Opt"
'

test_expect_success 'new devices of either generation enrol through either server' '
	tc=$(hq_new rep add carl --territory MOW-1 2>/dev/null) && td=$(hq_new rep add dina --territory SPB-1 2>/dev/null) &&
	"$FS_OLD" --db c.db init --server "$o_URL" --token "$tc" >/dev/null &&
	"$FS" --db d.db init --server "$n_URL" --token "$td" >/dev/null &&
	sync_all c d &&
	test "$(sql c.db "select count(*) from visit where outcome like '\''anna round %'\''")" = 4 &&
	test "$(cfield "$FS" d.db NV-1 notes)" = "HQ 4"
'

test_expect_success 'every device holds exactly the database'"'"'s records of its territory' '
	through o a d && through n b c v &&
	sync_all a b c d v a b c d v &&
	converged "$HQ_DB" a.db MOW-1 && converged "$HQ_DB" b.db MOW-1 && converged "$HQ_DB" c.db MOW-1 &&
	converged "$HQ_DB" v.db SPB-1 && converged "$HQ_DB" d.db SPB-1 &&
	test "$(sql "$HQ_DB" "select count(*) from quarantine")" = 0 &&
	grep -q "POST /v1/push" o.log && grep -q "POST /v1/pull" o.log &&
	grep -q "POST /v1/push" n.log && grep -q "POST /v1/pull" n.log
'

test_expect_success 'the old node retired: it does not start, nor administer, on a newer schema; or still does on the same' '
	unserve o &&
	if [ "$(cat schema.old)" -lt "$(cat schema.new)" ]; then
		refused 6 "newer than this fieldsyncd" "$FSD_OLD" --db "$HQ_DB" serve --listen 127.0.0.1:0 &&
		refused 6 "newer than this fieldsyncd" hq_old rep list
	else
		hq_old --json rep list | jq -e "length == 5" >/dev/null &&
		serve o "$FSD_OLD" "$HQ_DB" && through o a && A customer edit AC-1 --grade C >/dev/null &&
		sync_all a && through n b && sync_all b && test "$(cfield "$FS" b.db AC-1 grade)" = C
	fi
'

test_done
