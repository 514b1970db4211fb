# tests/upgrade/story.sh - a working week of a fleet, sourced by scenarios
# that choose its binaries (after sourcing lib.sh):
#   HQBIN              the fieldsyncd that serves HQ's SQLite store and runs its admin
#   A_AG, B_AG, V_AG   the agents of anna and boris (MOW-1) and vera (SPB-1)
# Customers, contacts, plans, visits with order lines and payments both
# ways; concurrent edits of different fields; one clash on the same field,
# resolved on a device; a delete; a customer moved to another territory,
# evicted from the first devices and arriving with its history on the
# other; at the end every device holds exactly HQ's records.

A() { "$A_AG" --db a.db "$@"; }
B() { "$B_AG" --db b.db "$@"; }
V() { "$V_AG" --db v.db "$@"; }
hq() { "$HQBIN" --db "$HQ_DB" "$@"; }
# version BIN: the version a binary says it is
version() { "$1" --version | awk '{print $2}'; }
count() { sql "$1" "$2"; }
sync_all() {
	for _d in "$@"; do
		case $_d in
		a) synced "$A_AG" a.db ;;
		b) synced "$B_AG" b.db ;;
		v) synced "$V_AG" v.db ;;
		esac || return 1
	done
}

test_expect_success "HQ ($(version "$HQBIN")) starts; reps enrol with their agents" '
	HQ_DB=$TRASH/hq.db &&
	hq init >/dev/null && serve hq "$HQBIN" "$HQ_DB" &&
	curl -sf "$hq_URL/v1/health" | jq -e ".status == \"ok\"" >/dev/null &&
	about hq | jq -e --arg v "$(version "$HQBIN")" ".version == \$v" >/dev/null &&
	join "$A_AG" "$HQBIN" "$hq_URL" anna a.db MOW-1 &&
	join "$B_AG" "$HQBIN" "$hq_URL" boris b.db MOW-1 &&
	join "$V_AG" "$HQBIN" "$hq_URL" vera v.db SPB-1 &&
	hq --json rep list | jq -e "length == 3 and all(.devices == 1)" >/dev/null
'

test_expect_success 'HQ customers reach the reps of their territory only; HQ sees each agent version' '
	hq customer add --name Acme --territory MOW-1 --code AC-1 --grade B >/dev/null &&
	hq customer add --name Nevsky --territory SPB-1 --code NV-1 >/dev/null &&
	sync_all a b v &&
	test "$(cfield "$A_AG" a.db AC-1 name)" = Acme && test "$(cfield "$B_AG" b.db AC-1 name)" = Acme &&
	test "$(cfield "$V_AG" v.db NV-1 name)" = Nevsky &&
	! A customer show NV-1 >/dev/null 2>&1 && ! V customer show AC-1 >/dev/null 2>&1 &&
	hq --json device list >devices.json &&
	for d in "anna $A_AG" "boris $B_AG" "vera $V_AG"; do
		set -- $d
		jq -e --arg r "$1" --arg v "$(version "$2")" \
			"map(select(.rep == \$r and .app_version == \$v)) | length == 1" devices.json >/dev/null ||
			{ echo "$1 not seen with $2"; cat devices.json; return 1; }
	done
'

test_expect_success 'a customer, a contact, a plan, a visit with order lines and a payment go to HQ and the other device' '
	A customer add --name "Kedr Opt" --territory MOW-1 --code KD-2 --phone "+7 495 000 00 02" --grade A >/dev/null &&
	A contact add AC-1 --name "Ivan Petrov" --role decision-maker --title Director >/dev/null &&
	A plan AC-1 --date 2031-03-03 --time 10:00 --purpose "Quarterly review" >/dev/null &&
	A visit log AC-1 --met "Ivan Petrov" --outcome "Winter order" --order "Green tea 100g:24:3.20" \
		--order "Black tea 250g:12:5.90" --receivable 147.60 --collected 100 --next 2031-03-10 >/dev/null &&
	sync_all a b &&
	test "$(count "$HQ_DB" "select count(*) from visit")" = 2 &&
	test "$(count "$HQ_DB" "select count(*) from order_line")" = 2 &&
	test "$(count "$HQ_DB" "select sum(received) from payment")" = 10000 &&
	test "$(hfield "$HQBIN" KD-2 phone)" = "+7 495 000 00 02" &&
	test "$(cfield "$B_AG" b.db KD-2 grade)" = A &&
	B --json visit list --customer AC-1 >visits.json &&
	jq -e "map(select(.status == \"done\" and .outcome == \"Winter order\")) | length == 1" visits.json >/dev/null &&
	jq -e "map(select(.status == \"planned\" and .planned_date == \"2031-03-03\")) | length == 1" visits.json >/dev/null &&
	B --json contact list AC-1 | jq -e ".[0].name == \"Ivan Petrov\" and .[0].title == \"Director\"" >/dev/null &&
	test "$(count b.db "select sum(quantity * unit_price) from order_line")" = 14760
'

test_expect_success 'the other way: a visit, a collection and a contact edit from the second device' '
	ivan=$(B --json contact list AC-1 | jq -r ".[0].id") &&
	B contact edit "$ivan" --title "General director" --phone "+7 900 000 00 01" >/dev/null &&
	B visit log KD-2 --outcome "Price list accepted" --order "Puer 357g:2:40" --receivable 80 --collected 80 \
		--method transfer >/dev/null &&
	sync_all b a &&
	A --json contact list AC-1 | jq -e ".[0].title == \"General director\" and .[0].phone == \"+7 900 000 00 01\"" >/dev/null &&
	test "$(count a.db "select count(*) from visit")" = 3 &&
	test "$(count a.db "select sum(received) from payment")" = 18000 &&
	test "$(count "$HQ_DB" "select method from payment where received = 8000")" = transfer
'

test_expect_success 'concurrent edits of different fields all survive, on every device and at HQ' '
	A customer edit AC-1 --city Moscow >/dev/null &&
	B customer edit AC-1 --grade A >/dev/null &&
	hq customer edit AC-1 --notes "HQ note" >/dev/null &&
	sync_all a b a &&
	for s in "$A_AG a.db" "$B_AG b.db"; do
		set -- $s
		test "$(cfield "$1" "$2" AC-1 city)" = Moscow && test "$(cfield "$1" "$2" AC-1 grade)" = A &&
		test "$(cfield "$1" "$2" AC-1 notes)" = "HQ note" || return 1
	done &&
	test "$(hfield "$HQBIN" AC-1 city)" = Moscow && test "$(hfield "$HQBIN" AC-1 open_conflicts)" = 0
'

test_expect_success 'the same field on two devices: one winner everywhere, the loser in a conflict record' '
	A customer edit AC-1 --phone 111 >/dev/null &&
	B customer edit AC-1 --phone 222 >/dev/null &&
	sync_all a b a &&
	wa=$(cfield "$A_AG" a.db AC-1 phone) && wb=$(cfield "$B_AG" b.db AC-1 phone) &&
	test "$wa" = "$wb" && test "$wa" = "$(hfield "$HQBIN" AC-1 phone)" &&
	A --json conflicts | jq -e "length == 1 and .[0].field == \"phone\"" >/dev/null &&
	B --json conflicts | jq -e "length == 1 and .[0].field == \"phone\"" >/dev/null &&
	hq --json conflicts | jq -e "length == 1" >/dev/null &&
	loser=$(B --json conflicts | jq -r ".[0].other") && echo "$loser" >loser &&
	test "$loser" != "$wa" && { test "$loser" = 111 || test "$loser" = 222; }
'

test_expect_success 'resolved on one device, the conflict closes everywhere with the chosen value' '
	k=$(B --json conflicts | jq -r ".[0].id") &&
	B conflicts resolve "$k" --keep loser >/dev/null &&
	sync_all b a &&
	test "$(cfield "$A_AG" a.db AC-1 phone)" = "$(cat loser)" &&
	test "$(hfield "$HQBIN" AC-1 phone)" = "$(cat loser)" &&
	A --json conflicts | jq -e "length == 0" >/dev/null &&
	hq --json conflicts | jq -e "length == 0" >/dev/null
'

test_expect_success 'a customer deleted on one device leaves the other' '
	A customer add --name "Closed shop" --territory MOW-1 --code ZZ-9 >/dev/null &&
	sync_all a b && test "$(cfield "$B_AG" b.db ZZ-9 name)" = "Closed shop" &&
	B customer delete ZZ-9 >/dev/null &&
	sync_all b a &&
	! A customer show ZZ-9 >/dev/null 2>&1 &&
	test "$(count "$HQ_DB" "select deleted from customer where code = '\''ZZ-9'\''")" = 1
'

test_expect_success 'a customer moved to another territory is evicted with its visits and arrives there with them' '
	ac=$(count "$HQ_DB" "select id from customer where code = '\''AC-1'\''") &&
	hq customer edit AC-1 --territory SPB-1 >/dev/null &&
	sync_all a b v &&
	! A customer show AC-1 >/dev/null 2>&1 && ! B customer show AC-1 >/dev/null 2>&1 &&
	test "$(count a.db "select count(*) from visit where customer_id = '\''$ac'\''")" = 0 &&
	test "$(count b.db "select count(*) from contact where customer_id = '\''$ac'\''")" = 0 &&
	test "$(count b.db "select count(*) from order_line")" = 1 &&
	test "$(cfield "$V_AG" v.db AC-1 name)" = Acme &&
	test "$(count v.db "select count(*) from visit where customer_id = '\''$ac'\''")" = 2 &&
	test "$(count v.db "select count(*) from order_line")" = 2 &&
	test "$(count v.db "select count(*) from conflict")" = 1 &&
	V --json contact list AC-1 | jq -e "length == 1" >/dev/null
'

test_expect_success 'the moved customer is edited on its new territory and at HQ meanwhile' '
	V customer edit AC-1 --address "Nevsky pr. 1" >/dev/null &&
	V visit log AC-1 --outcome "First visit in SPB" --collected 47.60 >/dev/null &&
	hq customer edit NV-1 --grade C >/dev/null &&
	A customer edit KD-2 --website kedr.example >/dev/null &&
	sync_all v a b
'

test_expect_success 'every device holds exactly HQ'"'"'s records of its territory; nothing pending' '
	sync_all a b v a b v &&
	converged "$HQ_DB" a.db MOW-1 && converged "$HQ_DB" b.db MOW-1 && converged "$HQ_DB" v.db SPB-1 &&
	A --json status | jq -e ".pending == 0 and .quarantined == 0" >/dev/null &&
	B --json status | jq -e ".pending == 0 and .quarantined == 0" >/dev/null &&
	V --json status | jq -e ".pending == 0 and .quarantined == 0" >/dev/null &&
	test "$(count "$HQ_DB" "select count(*) from quarantine")" = 0
'
