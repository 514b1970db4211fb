#!/bin/sh
# t0605-owed.sh - what is owed (issue "Field truth"): a customer's balance
# and credit, collections paying the oldest receivables first, ageing in
# 0-30 / 31-60 / 61-90 / 90+ days, exact in minor units, on the device
# (customer show, report money --by ageing) and at HQ on any date.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_DB="$TRASH/rep.db"

ago() { date -d "-$1 days" +%Y-%m-%d; }
owed() { "$FS" --json customer show "$1" | jq -r ".owed.$2"; }

test_expect_success 'a customer with nothing owed shows zeros, not an error' '
	"$FS" customer add --code AC-1 --name Acme --territory MOW-1 --owner-rep anna >/dev/null &&
	"$FS" customer show AC-1 >out && grep -q "^balance  *0.00$" out && grep -q "^credit  *0.00$" out &&
	test "$(owed AC-1 balance)" = 0 && test "$(owed AC-1 oldest_open)" = null
'

test_expect_success 'collections pay the oldest receivables first; the rest ages by its date' '
	"$FS" visit log AC-1 --date "$(ago 120)" --outcome a --receivable 100.10 >/dev/null &&
	"$FS" visit log AC-1 --date "$(ago 75)" --outcome b --receivable 50.20 --collected 30 >/dev/null &&
	"$FS" visit log AC-1 --date "$(ago 40)" --outcome c --receivable 0.30 >/dev/null &&
	"$FS" visit log AC-1 --date "$(ago 10)" --outcome d --receivable 40 --collected 20.10 >/dev/null &&
	# 190.60 due, 50.10 collected: the oldest 100.10 is now 50.00
	test "$(owed AC-1 balance)" = 14050 && test "$(owed AC-1 credit)" = 0 &&
	test "$(owed AC-1 days_over_90)" = 5000 && test "$(owed AC-1 days_61_90)" = 5020 &&
	test "$(owed AC-1 days_31_60)" = 30 && test "$(owed AC-1 days_0_30)" = 4000 &&
	test "$(owed AC-1 oldest_open)" = "$(ago 120)" &&
	"$FS" customer show AC-1 | grep -q "^balance  *140.50$"
'

test_expect_success 'an overpayment is the customer'"'"'s credit, never a negative outstanding on a visit' '
	"$FS" customer add --code BT-1 --name Beta --territory SPB-1 >/dev/null &&
	"$FS" visit log BT-1 --outcome paid --receivable 40 --collected 100 >/dev/null &&
	test "$(owed BT-1 balance)" = 0 && test "$(owed BT-1 credit)" = 6000 &&
	"$FS" --json report day | jq -e "all(.[]; (.outstanding // 0) >= 0)" >/dev/null &&
	"$FS" report day | tail -1 | grep -q "outstanding 0.00$"
'

test_expect_success 'report money --by ageing: oldest debt first, a total that adds up' '
	"$FS" --json report money --by ageing >a.json &&
	jq -e ".[0].code == \"AC-1\" and .[1].code == \"BT-1\" and .[2].customer == \"(total)\"" a.json >/dev/null &&
	jq -e ".[2].balance == 14050 and .[2].credit == 6000" a.json >/dev/null &&
	"$FS" --json report money --by ageing-rep | jq -e ".[0].rep == \"anna\" and .[0].balance == 14050 and .[1].rep == \"(none)\"" >/dev/null &&
	"$FS" --json report money --by ageing-territory | jq -e "map(select(.territory != \"(total)\") | .balance) | add == 14050" >/dev/null &&
	test_status 2 "$FS" report money --by ageing-zone 2>err && grep -q "ageing" err
'

test_expect_success 'HQ: the same figures, on any date' '
	hq_start && enroll anna anna.db MOW-1,SPB-1 &&
	"$FS" --db anna.db customer add --code HQ-1 --name "At HQ" --territory MOW-1 >/dev/null &&
	"$FS" --db anna.db visit log HQ-1 --date "$(ago 45)" --outcome x --receivable 12.34 >/dev/null &&
	"$FS" --db anna.db sync >/dev/null &&
	"$FSD" --db "$HQ_DB" --json report money --by ageing >h.json &&
	jq -e ".[0].code == \"HQ-1\" and .[0].days_31_60 == 1234" h.json >/dev/null &&
	"$FSD" --db "$HQ_DB" --json report money --by ageing --date "$(ago 20)" | jq -e ".[0].days_0_30 == 1234" >/dev/null &&
	"$FSD" --db "$HQ_DB" --json report money --by ageing --date "$(ago 50)" | jq -e "length == 1 and .[0].balance == 0" >/dev/null &&
	test_status 2 "$FSD" --db "$HQ_DB" report money --by ageing --date 2026-02-30
'

test_expect_success 'HQ: an opening balance is owed like any receivable, and set again it is changed' '
	"$FSD" --db "$HQ_DB" customer add --code OB-1 --name "Old debtor" --territory MOW-1 >/dev/null &&
	p=$("$FSD" --db "$HQ_DB" customer opening-balance OB-1 250.00 --date "$(ago 100)") && test ${#p} = 32 &&
	test "$("$FSD" --db "$HQ_DB" customer opening-balance OB-1 300 --date "$(ago 100)")" = "$p" &&
	test "$(sql "$HQ_DB" "select count(*) || '\'' '\'' || sum(receivable) from payment where note = '\''opening balance'\''")" = "1 30000" &&
	"$FS" --db anna.db sync >/dev/null &&
	"$FS" --db anna.db --json customer show OB-1 | jq -e ".owed.balance == 30000 and .owed.days_over_90 == 30000" >/dev/null &&
	test_status 2 "$FSD" --db "$HQ_DB" customer opening-balance OB-1 lots &&
	test_status 3 "$FSD" --db "$HQ_DB" customer opening-balance NO-SUCH 10
'

test_expect_success 'one currency per HQ: a setting the devices get' '
	test_status 2 "$FSD" --db "$HQ_DB" setting set currency euro &&
	"$FSD" --db "$HQ_DB" setting set currency rub &&
	"$FSD" --db "$HQ_DB" --json setting show | jq -e "map(select(.key == \"currency\"))[0].value == \"RUB\"" >/dev/null &&
	"$FS" --db anna.db sync >/dev/null &&
	"$FS" --db anna.db --json status | jq -e ".currency == \"RUB\"" >/dev/null
'

test_done
