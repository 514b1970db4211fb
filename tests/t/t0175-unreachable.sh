#!/bin/bash
# An HQ that does not answer: `init` and `sync` give up within 5 s by
# default, say how many tries took how long, show each retry on a terminal
# (never in a pipe), and wait longer with --retry-for. On a terminal a sync
# shows what went up of what was pending, and its rate.
. "$(dirname "$0")/../lib.sh"
unset FIELDSYNC_RETRIES FIELDSYNC_RETRY_MS FIELDSYNC_RETRY_FOR_MS FIELDSYNC_TIMEOUT_MS
TOK=0123456789abcdef0123456789abcdef

# elapsed CMD...: run CMD, its exit status in $st and its seconds (x10) in $ds
elapsed() {
	_t0=$(date +%s%N)
	"$@"
	st=$?
	ds=$(( ($(date +%s%N) - _t0) / 100000000 ))
}
# a loopback port nobody listens on
dead_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

test_expect_success 'init against nothing gives up within 5 s, with the tries and the time' '
	p=$(dead_port) &&
	elapsed "$FS" --db a.db init --server "http://127.0.0.1:$p" --token $TOK 2>err &&
	test "$st" = 7 && test "$ds" -le 60 &&
	grep -q "tries in [0-9.]* s)" err && ! grep -q "after 0 ms" err &&
	! grep -q "retry 1 in" err
'

test_expect_success '--retry-for waits longer; a bad value is refused' '
	p=$(dead_port) &&
	elapsed "$FS" --db b.db init --server "http://127.0.0.1:$p" --token $TOK --retry-for 9 2>err &&
	test "$st" = 7 && test "$ds" -ge 60 && test "$ds" -le 120 &&
	test_status 2 "$FS" --db b.db init --server "http://127.0.0.1:$p" --token $TOK --retry-for soon 2>err &&
	grep -q "not a number of seconds" err &&
	elapsed "$FS" --db b.db init --server "http://127.0.0.1:$p" --token $TOK --retry-for 0 2>err &&
	test "$st" = 7 && test "$ds" -le 10 && grep -q "(1 try in" err
'

test_expect_success 'on a terminal each retry is shown' '
	p=$(dead_port) &&
	script -qec "$FS --db c.db init --server http://127.0.0.1:$p --token $TOK" /dev/null >tty.out 2>&1;
	grep -q "HQ unreachable, retry 1 in 0.5 s" tty.out &&
	grep -q "HQ unreachable, retry 2 in 1.0 s" tty.out
'

test_expect_success 'sync to an HQ gone away gives up within 5 s too' '
	hq_start && enroll anna d.db T1 &&
	"$FS" --db d.db customer add --name "Kept" --territory T1 >/dev/null &&
	hq_stop &&
	elapsed "$FS" --db d.db sync 2>err &&
	test "$st" = 7 && test "$ds" -le 60 && grep -q "tries in" err &&
	"$FS" --db d.db --json status | jq -e ".pending == 1" >/dev/null
'

test_expect_success 'a sync on a terminal shows done/total, percent and rate' '
	hq_start &&
	for i in $(seq 1 30); do "$FS" --db d.db customer add --name "C$i" --territory T1 >/dev/null || return 1; done &&
	FIELDSYNC_BATCH=7 script -qec "$FS --db d.db sync" /dev/null >sync.out 2>&1 &&
	grep -q "31/31 up (100%)" sync.out && grep -q "records/s" sync.out &&
	grep -q "^sync done: 31 pushed" sync.out
'

test_done
