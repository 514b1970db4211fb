#!/bin/bash
# Territory isolation under attack: devices of four territories (six reps,
# overlapping) send seeded random requests -- pulls with forged cursors,
# creates and edits of other territories' records with guessed ids and
# dominating version vectors, visits for foreign customers, moves out of
# scope -- mixed with legitimate writes. Zero rows outside a device's scope
# may come back, zero attacks may be accepted, and the HQ store must hold
# exactly the legitimate writes. FIELDSYNC_ISOLATION_REQUESTS (default 10000).
. "$(dirname "$0")/../lib.sh"
requests=${FIELDSYNC_ISOLATION_REQUESTS:-10000}
seed=${FIELDSYNC_SEED:-7}

test_expect_success 'HQ starts' '
	hq_start
'

test_expect_success "$requests random requests from six devices: nothing crosses a territory" '
	"$TOOLS/isolation" --hq-db "$HQ_DB" --url "$HQ_URL" --requests "$requests" --seed "$seed" \
		--parallel 6 >result 2>err; rc=$?
	cat result; head -20 err
	test $rc = 0 &&
	jq -e ".requests == $requests and .out_of_scope_returned == 0 and .unknown_returned == 0
		and .wrong_verdicts == 0 and .store_violations == 0 and .http_errors == 0
		and .rows_returned > 0 and .attacks_refused > 0 and .legit_accepted > 0" result >/dev/null
'
echo "# $(cat result 2>/dev/null)"

test_expect_success 'the HQ store is intact and the server still up' '
	test "$(sql "$HQ_DB" "pragma integrity_check")" = ok &&
	curl -sf "$HQ_URL/v1/health" >/dev/null
'

test_done
