#!/bin/sh
# The offline CLI: a rep's day on a real store, no network.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_DB="$TRASH/rep.db"

test_expect_success 'customer add prints an id and creates the store 0600 in a 0700 dir' '
	mkdir -p "$TRASH/d" && chmod 755 "$TRASH/d" &&
	id=$("$FS" --db "$TRASH/d/sub/s.db" customer add --name Acme --territory T1) &&
	test ${#id} -eq 32 &&
	test "$(stat -c %a "$TRASH/d/sub/s.db")" = 600 &&
	test "$(stat -c %a "$TRASH/d/sub")" = 700
'

test_expect_success 'default store lives under XDG_DATA_HOME' '
	(unset FIELDSYNC_DB; "$FS" customer add --name X --territory T1 >/dev/null) &&
	test -f "$XDG_DATA_HOME/fieldsync/fieldsync.db"
'

test_expect_success 'add, edit, show and list a customer' '
	"$FS" customer add --name "Acme Ltd" --territory MOW-1 --code AC-1 --grade a --nature supermarket \
		--lat 55.75 --lon 37.61 --payment-terms "30 days" --monthly-demand 1250.50 >id &&
	"$FS" customer edit AC-1 --phone "+7 495 000 00 00" --city Moscow >/dev/null &&
	"$FS" customer show AC-1 >show &&
	grep -q "^grade *A$" show && grep -q "^payment_terms *30 days$" show &&
	grep -q "^monthly_demand *1250.50$" show && grep -q "^city *Moscow$" show &&
	"$FS" --json customer show "$(cut -c1-8 id)" |
		jq -e ".customer | .monthly_demand == 125050 and .lat == 55.75 and .grade == \"A\"" >/dev/null &&
	"$FS" customer list --territory MOW-1 | grep -q "Acme Ltd" &&
	"$FS" customer list --search acme | grep -q "AC-1" &&
	test "$("$FS" --json customer list --grade B | jq length)" = 0
'

test_expect_success 'UTF-8 names round-trip and align' '
	"$FS" customer add --name "上海贸易有限公司" --territory SHA-1 --code SH-1 >/dev/null &&
	"$FS" customer add --name "ООО Ромашка" --territory MOW-1 --code RU-1 >/dev/null &&
	"$FS" --json customer show SH-1 | grep -q "上海贸易有限公司" &&
	"$FS" customer list --search Ромашка | grep -q RU-1
'

test_expect_success 'contacts belong to a customer' '
	"$FS" contact add AC-1 --name "Ivan Petrov" --role decision-maker --title Director >/dev/null &&
	"$FS" contact add AC-1 --name "Olga" --role user >/dev/null &&
	test "$("$FS" --json contact list AC-1 | jq length)" = 2 &&
	"$FS" customer show AC-1 | grep -q "Ivan Petrov"
'

test_expect_success 'plan, log a visit with an order and a collection, see it today' '
	"$FS" plan AC-1 --date 2026-11-23 --time 10:00 --purpose "Quarterly review" --contact "ivan petrov" >plan &&
	"$FS" plan RU-1 --date 2026-11-23 --time 09:00 --purpose "First visit" >/dev/null &&
	FIELDSYNC_NOW_MS=1795940000000 "$FS" visit log AC-1 --date 2026-11-23 --outcome "order taken" \
		--met "Ivan Petrov" --order "Widget:3:10.50" --order "Gadget, large:1:100" \
		--receivable 131.50 --collected 50 --next 2026-12-07 --check-in 10:05 --check-out 10:40 >vid &&
	test "$(cut -c1-32 vid)" = "$(cut -c1-32 plan)" &&
	"$FS" --json visit show "$(cat vid)" >v.json &&
	jq -e ".visit | .status == \"done\" and .check_in == \"2026-11-23T10:05:00Z\" and
		.check_out == \"2026-11-23T10:40:00Z\" and .met_contact_id != null" v.json &&
	jq -e "[.order_lines[].amount] | sort == [3150, 10000]" v.json &&
	jq -e ".payments[0] | .receivable == 13150 and .received == 5000" v.json &&
	"$FS" today --date 2026-11-23 >today &&
	grep -q "Quarterly review" today && grep -q "81.50" today &&
	"$FS" --json today --date 2026-11-23 | jq -e "[.[].planned_time] == [\"09:00\", \"10:00\"]"
'

test_expect_success 'a series of weekly plans' '
	"$FS" plan RU-1 --date 2026-12-01 --every week --until 2026-12-29 >series &&
	test "$(wc -l <series)" = 5 &&
	test "$("$FS" --json visit list --customer RU-1 --status planned | jq length)" = 6
'

test_expect_success 'miss and cancel a visit' '
	v=$("$FS" plan RU-1 --date 2026-11-24 | cut -c1-32) &&
	"$FS" visit miss "$v" --reason "shop closed" >/dev/null &&
	"$FS" --json visit show "$v" | grep -q "shop closed" &&
	w=$("$FS" plan RU-1 --date 2026-11-25 | cut -c1-32) &&
	"$FS" visit cancel "$w" >/dev/null &&
	"$FS" visit list --date 2026-11-25 --status cancelled | grep -q cancelled
'

test_expect_success 'delete leaves a tombstone and hides the record' '
	id=$("$FS" customer add --name Gone --territory T1 --code GONE) &&
	"$FS" customer delete GONE >/dev/null &&
	! "$FS" customer list | grep -q Gone &&
	test "$(sqlite3 "$FIELDSYNC_DB" "select deleted from customer where id = '\''$id'\''")" = 1
'

test_expect_success 'every command has --help' '
	"$FS" --help >h && for c in customer contact plan visit today init sync status conflicts quarantine; do
		grep -q "^  $c " h || { echo "missing $c in --help"; return 1; }
		"$FS" $c --help >out || { echo "$c --help failed"; return 1; }
		grep -q "usage: fieldsync $c" out || { echo "$c --help has no usage"; return 1; }
	done
'

test_expect_success 'every --json output is one JSON document' '
	for cmd in "customer list" "customer show AC-1" "contact list AC-1" "visit list" "today" \
		   "conflicts" "quarantine" "status"; do
		"$FS" --json $cmd | jq -e . >/dev/null ||
			{ echo "bad JSON from $cmd"; return 1; }
	done
'

test_expect_success 'times show in local time, stored in UTC' '
	v=$("$FS" plan AC-1 --date 2026-11-26 | cut -c1-32) &&
	"$FS" visit log AC-1 --plan "$v" --outcome ok --check-in "2026-11-26T09:00:00+03:00" >/dev/null &&
	test "$(sqlite3 "$FIELDSYNC_DB" "select check_in from visit where id = '\''$v'\''")" = 2026-11-26T06:00:00Z &&
	TZ=Europe/Moscow "$FS" visit show "$v" | grep -q "^check_in *2026-11-26 09:00$"
'

test_done
