#!/bin/sh
# The nightly sync: the systemd user units and the crontab line that
# `schedule install` makes, and the scheduled command itself (lock, log,
# exponential backoff), run directly rather than waiting for a timer.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_RETRIES=0

UNITS="$HOME/.config/systemd/user"
LOG="$HOME/.local/state/fieldsync/sync.log"

test_expect_success 'an enrolled rep with a change to push' '
	hq_start && enroll anna "$TRASH/a.db" MOW-1 &&
	"$FS" --db "$TRASH/a.db" customer add --name Acme --territory MOW-1 >/dev/null
'

test_expect_success 'install writes a service and a timer with absolute paths' '
	"$FS" --db a.db schedule install --at 02:30 --jitter 45m >out &&
	grep -q "to start it: systemctl --user" out &&
	grep -qx "ExecStart=$FS --db $TRASH/a.db schedule run" "$UNITS/fieldsync-sync.service" &&
	grep -qx "Type=oneshot" "$UNITS/fieldsync-sync.service" &&
	grep -qx "OnCalendar=\*-\*-\* 02:30:00" "$UNITS/fieldsync-sync.timer" &&
	grep -qx "RandomizedDelaySec=2700" "$UNITS/fieldsync-sync.timer" &&
	grep -qx "Persistent=true" "$UNITS/fieldsync-sync.timer" &&
	grep -qx "WantedBy=timers.target" "$UNITS/fieldsync-sync.timer" &&
	"$FS" --db a.db schedule install >/dev/null &&
	grep -qx "OnCalendar=\*-\*-\* 02:00:00" "$UNITS/fieldsync-sync.timer" &&
	grep -qx "RandomizedDelaySec=1800" "$UNITS/fieldsync-sync.timer" &&
	! ls "$UNITS" | grep -q tmp
'

test_expect_success 'systemd accepts the unit files' '
	if command -v systemd-analyze >/dev/null; then
		systemd-analyze verify --user "$UNITS/fieldsync-sync.timer" "$UNITS/fieldsync-sync.service" 2>err ||
		! grep -v "Failed to\|not found\|Unit .* not found\|network-online" err | grep -q .
	fi
'

test_expect_success 'bad times, durations and stores are refused' '
	test_status 2 "$FS" --db a.db schedule install --at 24:00 2>err && grep -q "not a time" err &&
	test_status 2 "$FS" --db a.db schedule install --at 2:30 2>err &&
	test_status 2 "$FS" --db a.db schedule install --jitter 5x 2>err && grep -q "not a duration" err &&
	test_status 2 "$FS" --db a.db schedule install --jitter 48h 2>err &&
	test_status 3 "$FS" --db nosuch.db schedule install 2>err &&
	test_status 2 "$FS" --db a.db schedule hourly 2>err &&
	test_status 2 "$FS" --db a.db schedule run --attempts 0 2>err
'

test_expect_success '--cron prints a crontab line and writes nothing' '
	rm -r "$UNITS" &&
	"$FS" --db a.db schedule install --cron --at 01:05 --jitter 10m >cron &&
	test "$(cat cron)" = "5 1 * * * $FS --db $TRASH/a.db schedule run --jitter 600" &&
	test ! -e "$UNITS"
'

test_expect_success 'status tells what is installed and the last run' '
	"$FS" --db a.db schedule install --at 03:15 >/dev/null &&
	"$FS" --db a.db schedule status >st && grep -q "installed:  $UNITS/fieldsync-sync.timer" st &&
	grep -q "\*-\*-\* 03:15:00" st && grep -q "(none logged)" st &&
	"$FS" --db a.db --json schedule status | jq -e ".installed and (.enabled | not) and .on_calendar == \"*-*-* 03:15:00\""
'

test_expect_success 'the scheduled run syncs and logs' '
	"$FS" --db a.db schedule run 2>/dev/null &&
	grep -q "sync ok (attempt 1): 1 pushed, 0 rejected" "$LOG" &&
	test "$(sqlite3 "$HQ_DB" "select count(*) from customer")" = 1 &&
	"$FS" --db a.db --json schedule status | jq -e ".last_sync != null" &&
	"$FS" --db a.db schedule status | grep -q "last run:.*sync ok"
'

test_expect_success 'HQ unreachable: retried with doubling delays, then gives up (exit 7)' '
	hq_stop &&
	"$FS" --db a.db customer add --name Later --territory MOW-1 >/dev/null &&
	test_status 7 "$FS" --db a.db schedule run --attempts 3 --delay-ms 50 --log run.log 2>/dev/null &&
	grep -q "attempt 1 failed: .*; retrying in 50 ms" run.log &&
	grep -q "attempt 2 failed: .*; retrying in 100 ms" run.log &&
	grep -q "attempt 3 failed: .*; giving up after 3 attempts" run.log
'

test_expect_success 'HQ back during the backoff: the run gets through' '
	: >run2.log &&
	("$FS" --db a.db schedule run --attempts 6 --delay-ms 400 --log run2.log 2>/dev/null; echo $? >run2.rc) &
	runner=$! && n=0; while ! grep -q "attempt 1 failed" run2.log; do sleep 0.05; n=$((n + 1)); test $n -lt 200 || return 1; done &&
	hq_start "$HQ_DB" && wait $runner &&
	test "$(cat run2.rc)" = 0 && grep -q "sync ok (attempt [2-6]): 1 pushed" run2.log &&
	test "$(sqlite3 "$HQ_DB" "select count(*) from customer")" = 2
'

test_expect_success 'never twice at once: a second run finds the lock held and leaves' '
	flock "$TRASH/a.db.schedule-lock" sh -c "\"$FS\" --db a.db schedule run --log run3.log 2>/dev/null" &&
	grep -q "another scheduled sync is running" run3.log && ! grep -q "sync ok" run3.log &&
	"$FS" --db a.db schedule run --log run3.log 2>/dev/null && grep -q "sync ok" run3.log
'

test_expect_success 'remove deletes the units' '
	"$FS" --db a.db schedule remove >out && grep -q "removed $UNITS/fieldsync-sync.timer" out &&
	test ! -e "$UNITS/fieldsync-sync.timer" && test ! -e "$UNITS/fieldsync-sync.service" &&
	"$FS" --db a.db schedule remove | grep -q "nothing installed" &&
	"$FS" --db a.db schedule status | grep -q "installed:  no systemd timer"
'

test_done
