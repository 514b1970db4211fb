#!/bin/bash
# A stranger on the network, with no token and no password, against the
# real fieldsyncd: health tells only "ok"; every answer carries the
# security headers; bodies are never read before the sender is known, so
# a hundred 8 MiB uploads cost HQ nothing; trickled headers are cut off on
# a total deadline; a password-guessing storm from many addresses neither
# slows HQ nor gets past the per-name limit.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20

# hwm_mb / rss_mb: the server's peak and current resident memory (MB)
hwm_mb() { echo $(($(awk '/^VmHWM:/ {print $2}' "/proc/$HQ_PID/status") / 1024)); }
rss_mb() { echo $(($(awk '/^VmRSS:/ {print $2}' "/proc/$HQ_PID/status") / 1024)); }
# headers URL [curl options]: the response headers, lower-cased names
headers() { _u=$1; shift; curl -s -o /dev/null -D - "$@" "$_u" | tr -d '\r' | tr 'A-Z' 'a-z'; }
# has_security_headers FILE: the headers every answer carries
has_security_headers() {
	grep -q "^x-content-type-options: nosniff" "$1" &&
	grep -q "^referrer-policy: no-referrer" "$1" &&
	grep -q "^cache-control: no-store" "$1" &&
	grep -q "^content-security-policy: .*frame-ancestors 'none'" "$1" &&
	! grep "^content-security-policy:" "$1" | grep -q "unsafe-inline" ||
	{ cat "$1"; return 1; }
}
# login_as NAME PASSWORD JAR [curl options]: the status of one sign-in
login_as() {
	_n=$1 _p=$2 _j=$3
	shift 3
	curl -s "$@" -c "$_j" "$HQ_URL/admin/login" >/dev/null &&
	_t=$(awk '$6 == "fs_login" {print $7}' "$_j") &&
	curl -s "$@" -o /dev/null -w "%{http_code}" -b "$_j" -c "$_j" --data-urlencode "name=$_n" \
		--data-urlencode "password=$_p" --data-urlencode "csrf=$_t" "$HQ_URL/admin/login"
}

test_expect_success 'setup: HQ (2 s to send headers), an admin, a rep who syncs' '
	HQ_ARGS="--header-timeout 2" hq_start &&
	PW=$("$FSD" --db "$HQ_DB" admin add boss 2>/dev/null) && test -n "$PW" &&
	enroll anna a.db T1 &&
	"$FS" --db a.db customer add --name Acme --territory T1 >/dev/null && "$FS" --db a.db sync >/dev/null
'

test_expect_success 'unauthenticated health says only that HQ is up; an admin sees what it runs' '
	curl -sf "$HQ_URL/v1/health" >h.json &&
	jq -e "keys == [\"status\", \"v\"] and .status == \"ok\"" h.json >/dev/null &&
	! grep -q "$("$FSD" --version | cut -d" " -f2)" h.json &&
	test "$(login_as boss "$PW" jar)" = 303 &&
	curl -sf -b jar "$HQ_URL/admin/api/health" |
		jq -e ".version != null and .replica != null and .rss_kb > 0 and .store == \"sqlite\"" >/dev/null
'

test_expect_success 'every answer carries CSP (no inline script, no framing), nosniff, no-referrer, no-store' '
	headers "$HQ_URL/v1/health" >h1 && has_security_headers h1 &&
	headers "$HQ_URL/admin/login" >h2 && has_security_headers h2 &&
	headers "$HQ_URL/admin/" -b jar >h3 && has_security_headers h3 && grep -q "^content-type: text/html" h3 &&
	headers "$HQ_URL/admin/api/devices" -b jar >h4 && has_security_headers h4 &&
	headers "$HQ_URL/v1/pull" -d "{\"v\":1}" >h5 && has_security_headers h5 && grep -q "^http/1.1 401" h5 &&
	headers "$HQ_URL/no/such/page" >h6 && has_security_headers h6 &&
	! grep -qi "^strict-transport-security" h1
'

test_expect_success '100 unauthenticated 8 MiB uploads from 5 addresses: 401, no byte read, HQ memory unmoved' '
	head -c $((8 * 1024 * 1024 - 64)) /dev/zero | tr "\0" a >big &&
	before=$(hwm_mb) && pids= &&
	for ip in 2 3 4 5 6; do
		for i in $(seq 1 20); do
			curl -s -o /dev/null -w "%{http_code}\n" --interface 127.0.0.$ip -H "Expect:" \
				-H "Authorization: Bearer $(printf "%064d" $i)" --data-binary @big "$HQ_URL/v1/push" &
			pids="$pids $!"
		done
	done >codes 2>/dev/null &&
	for p in $pids; do wait $p || :; done &&
	peak=$(hwm_mb) && after=$(rss_mb) &&
	echo "# RSS before $before MB, peak $peak MB, after $after MB;" \
		"curl: $(sort codes | uniq -c | tr -s " \n" " ");" \
		"HQ logged $(grep -c "POST /v1/push 401 .*bytes_in=0 " "$TRASH/hq.log") unread 401s" &&
	test "$(grep -c . codes)" = 100 &&
	! grep -v -e "^401$" -e "^429$" -e "^000$" codes &&
	test "$(grep -c "POST /v1/push 401 .*bytes_in=0 " "$TRASH/hq.log")" = 100 &&
	test $((peak - before)) -lt 100 &&
	curl -sf "$HQ_URL/v1/health" >/dev/null && "$FS" --db a.db sync >/dev/null
'

test_expect_success 'headers trickled a byte at a time: the connection is closed on the total deadline' '
	python3 - "$HQ_PORT" >slow.out <<-\EOF &&
	import socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.settimeout(0.25)
	t0 = time.time()
	msg = b"POST /v1/push HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 1000
	closed = None
	for b in msg:
	    try:
	        s.send(bytes([b]))
	        if s.recv(1) == b"":
	            closed = time.time() - t0
	            break
	    except socket.timeout:
	        pass
	    except OSError:
	        closed = time.time() - t0
	        break
	    if time.time() - t0 > 15:
	        break
	print("closed after %.2f s" % closed if closed is not None else "never closed")
	EOF
	cat slow.out && grep -q "^closed after" slow.out &&
	test "$(sed "s/closed after \([0-9]*\).*/\1/" slow.out)" -lt 5
'

test_expect_success 'a password storm from 40 addresses: HQ keeps answering, the name is locked after 30' '
	pids= &&
	for ip in $(seq 10 49); do
		for k in 1 2 3 4 5; do
			login_as boss "wrong$k" "jar.$ip" --interface 127.0.0.$ip
			echo
		done >"storm.$ip" 2>/dev/null &
		pids="$pids $!"
	done &&
	for i in $(seq 1 20); do
		curl -s -o /dev/null -w "%{time_total}\n" "$HQ_URL/v1/health"
	done >lat &&
	"$FS" --db a.db sync >/dev/null &&
	for p in $pids; do wait $p || :; done &&
	cat storm.* >storm &&
	p50=$(sort -n lat | sed -n 10p) &&
	echo "# health p50 during the storm: $p50 s; answers: $(sort storm | uniq -c | tr "\n" " ")" &&
	awk -v p="$p50" "BEGIN { exit !(p < 0.5) }" &&
	test "$(grep -c "^401$" storm)" -le 30 &&
	test "$(grep -c -e "^401$" -e "^429$" -e "^503$" storm)" = 200 &&
	test "$(login_as boss "$PW" jar.ok --interface 127.0.0.60)" = 429 &&
	test "$(login_as other "wrong" jar.other --interface 127.0.0.60)" = 401
'

test_expect_success 'through all of it the rep still syncs and HQ is intact' '
	"$FS" --db a.db customer add --name After --territory T1 >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(sql "$HQ_DB" "select count(*) from customer where name = '\''After'\''")" = 1 &&
	test "$(sql "$HQ_DB" "pragma integrity_check")" = ok
'

test_done
