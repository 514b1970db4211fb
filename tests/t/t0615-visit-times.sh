#!/bin/bash
# When a visit happened, as the rep says it: --check-in and --check-out
# take HH:MM on the visit's day or a full date-time; a visit logged live
# checks out now, a back-filled one keeps only the times given; check-out
# before check-in and a visit dated after today are refused with exit 2
# and nothing written.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_DB="$TRASH/a.db"
today=$(date +%F)
yesterday=$(date -d yesterday +%F)
tomorrow=$(date -d tomorrow +%F)
visit() { "$FS" --json visit show "$1" | jq -r ".visit.$2 // \"\""; }
visits() { sqlite3 "$FIELDSYNC_DB" "select count(*) from visit where status = 'done'"; }

test_expect_success 'a customer' '
	"$FS" customer add --name "Acme Tea" --territory T1 --code AC-1 >/dev/null
'

test_expect_success 'back-filled: HH:MM on the visit day, both times kept, no "now"' '
	"$FS" visit log AC-1 --date "$yesterday" --outcome ok --check-in 09:15 --check-out 10:05 >v1 &&
	test "$(visit "$(cat v1)" check_in)" = "${yesterday}T09:15:00Z" &&
	test "$(visit "$(cat v1)" check_out)" = "${yesterday}T10:05:00Z"
'

test_expect_success 'back-filled without times: no check-in or check-out is invented' '
	"$FS" visit log AC-1 --date "$yesterday" --outcome "phone order" >v2 &&
	test -z "$(visit "$(cat v2)" check_in)" && test -z "$(visit "$(cat v2)" check_out)" &&
	test "$(visit "$(cat v2)" status)" = done
'

test_expect_success 'a full date-time with an offset is taken as given' '
	"$FS" visit log AC-1 --date "$yesterday" --outcome ok --check-in "${yesterday}T11:00:00+03:00" \
		--check-out "${yesterday}T11:30" >v3 &&
	test "$(visit "$(cat v3)" check_in)" = "${yesterday}T08:00:00Z" &&
	test "$(visit "$(cat v3)" check_out)" = "${yesterday}T11:30:00Z"
'

test_expect_success 'live: check-out is now, check-in as given' '
	before=$(date -u +%Y-%m-%dT%H:%M) &&
	"$FS" visit log AC-1 --outcome ok --check-in 00:00 >v4 &&
	test "$(visit "$(cat v4)" check_in)" = "${today}T00:00:00Z" &&
	out=$(visit "$(cat v4)" check_out) && test -n "$out" &&
	test "$(printf "%s\n%s\n" "$before" "$out" | sort | head -n 1)" = "$before"
'

test_expect_success 'check-out before check-in is refused, exit 2, nothing written' '
	n=$(visits) &&
	test_status 2 "$FS" visit log AC-1 --date "$yesterday" --outcome x --check-in 10:00 --check-out 09:59 2>err &&
	grep -q "check_out: .* is before check_in" err &&
	test "$(visits)" = "$n"
'

test_expect_success 'a check-out before the check-in `start` recorded is refused too' '
	"$FS" visit start AC-1 >s &&
	test_status 2 "$FS" visit log AC-1 --plan "$(cat s)" --outcome x --check-out 00:00 2>err &&
	grep -q "before check_in" err
'

test_expect_success 'a visit dated after today is refused with exit 2; a plan may be ahead' '
	n=$(visits) &&
	test_status 2 "$FS" visit log AC-1 --date "$tomorrow" --outcome x 2>err &&
	grep -q "after today" err && grep -q "fieldsync plan" err &&
	test_status 2 "$FS" visit start AC-1 --date "$tomorrow" 2>/dev/null &&
	test "$(visits)" = "$n" &&
	"$FS" plan AC-1 --date "$tomorrow" >/dev/null
'

test_expect_success 'bad times name the option and what it takes' '
	test_status 2 "$FS" visit log AC-1 --outcome x --check-in 25:00 2>err &&
	grep -q "check_in" err &&
	test_status 2 "$FS" visit log AC-1 --outcome x --check-out soon 2>err &&
	grep -q "check_out" err &&
	"$FS" visit --help | grep -q "HH:MM, a local time on that day"
'

test_done
