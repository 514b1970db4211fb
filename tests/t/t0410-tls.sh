#!/bin/sh
# fieldsyncd run the way a service runs it: the configuration file (and its
# errors), HTTPS with a self-signed certificate (TLS 1.2 at least, a key
# file no other user can read), the device verifying it (--cacert, kept in
# the store; FIELDSYNC_CACERT), JSON logs, and the file's retention_years
# written to HQ's settings at start.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_RETRIES=2 FIELDSYNCD_CONFIG=

# cert NAME: a self-signed certificate for 127.0.0.1 / localhost
cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$1.key" -out "$1.pem" >/dev/null 2>&1
}
# logq FILTER: FILTER on the array of the log's lines, each parsed as JSON
logq() {
	jq -R -s -e "split(\"\n\") | map(select(length > 0) | fromjson) | $1" json.log >/dev/null
}
pending() {
	"$FS" --db "$1" --json status | jq -r .pending
}

test_expect_success 'setup: two self-signed certificates' '
	cert hq && cert other && test -s hq.pem && test -s hq.key && chmod 600 hq.key
'

# bad CONTENT LINE MESSAGE: the file is refused with FILE:LINE: MESSAGE, exit 2, nothing created
bad() {
	printf "$1" >bad.conf &&
	test_status 2 "$FSD" --config bad.conf --db new.db init 2>err &&
	grep -q "bad.conf:$2: $3" err &&
	! test -e new.db
}

test_expect_success 'a bad configuration file stops fieldsyncd with its file and line, exit 2' '
	bad "listen = 127.0.0.1:0\n# comment\n\nlisen = 127.0.0.1:1\n" 4 "unknown key '"'"'lisen'"'"'" &&
	bad "threads = 0\n" 1 "threads: '"'"'0'"'"' is not a whole number 1..256" &&
	bad "threads = 4\nlog_format = xml\n" 2 "log_format: '"'"'xml'"'"' is not text or json" &&
	bad "max_body = 10\n" 1 "max_body" &&
	bad "page = 5001\n" 1 "page" &&
	bad "batch = many\n" 1 "batch" &&
	bad "retention_years = 0\n" 1 "retention_years" &&
	bad "threads = 2\nthreads = 3\n" 2 "'"'"'threads'"'"' is set twice" &&
	bad "listen 127.0.0.1:8080\n" 1 "expected '"'"'key = value'"'"'" &&
	bad "db =\n" 1 "'"'"'db'"'"' has no value" &&
	test_status 2 "$FSD" --config missing.conf --db new.db init 2>err &&
	grep -q "missing.conf" err &&
	printf "lisen = x\n" >env.conf &&
	test_status 2 env FIELDSYNCD_CONFIG=env.conf "$FSD" --db new.db init 2>err &&
	grep -q "env.conf:1: unknown key" err &&
	! test -e new.db
'

test_expect_success 'the configuration names the store; --db and FIELDSYNCD_DB override it' '
	"$FSD" --db hq.db init >/dev/null &&
	printf "db = \"%s/hq.db\"\n" "$TRASH" >db.conf &&
	"$FSD" --config db.conf rep add anna --territory MOW-1 >/dev/null 2>&1 &&
	"$FSD" --db hq.db --json rep list | jq -e "length == 1" >/dev/null &&
	test_status 3 "$FSD" --config db.conf --db elsewhere.db rep list 2>/dev/null &&
	test_status 3 env FIELDSYNCD_DB=elsewhere.db "$FSD" --config db.conf rep list 2>/dev/null &&
	env FIELDSYNCD_CONFIG=db.conf "$FSD" --json rep list | grep -q anna
'

test_expect_success 'fieldsyncd serves HTTPS with certificate and key from the configuration' '
	cat >fsd.conf <<-EOF &&
	# as /etc/fieldsync/fieldsyncd.conf would be
	listen = 127.0.0.1:1
	tls_cert = $TRASH/hq.pem
	tls_key = "$TRASH/hq.key"
	log_format = json
	threads = 2
	retention_years = 5
	EOF
	FIELDSYNCD_CONFIG="$TRASH/fsd.conf" &&
	export FIELDSYNCD_CONFIG &&
	hq_start "$TRASH/hq.db"; rc=$?; FIELDSYNCD_CONFIG=; test $rc = 0 &&
	HQ_URL="https://127.0.0.1:$HQ_PORT" &&
	curl -sf --cacert hq.pem "$HQ_URL/v1/health" | jq -e ".status == \"ok\"" >/dev/null &&
	! curl -sf "$HQ_URL/v1/health" >/dev/null 2>&1 &&
	! curl -sf "http://127.0.0.1:$HQ_PORT/v1/health" >/dev/null 2>&1
'

# tls VERSION: does a handshake with this protocol version (s_client's
# -tls1, -tls1_1, -tls1_2, -tls1_3) succeed? The client is told to allow
# every cipher (SECLEVEL=0), so that a refusal is the server's.
tls() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$HQ_PORT" "$1" -cipher "DEFAULT@SECLEVEL=0" \
		>s_client.out 2>&1
}

test_expect_success 'TLS 1.0 and 1.1 handshakes fail; TLS 1.2 and 1.3 succeed' '
	! tls -tls1 && ! tls -tls1_1 &&
	tls -tls1_2 && grep -q "Protocol *: TLSv1.2" s_client.out &&
	tls -tls1_3 && grep -q "TLSv1.3" s_client.out
'

test_expect_success 'without the CA a device cannot enrol: certificate error, exit 7, nothing stored' '
	tok=$("$FSD" --db hq.db rep token anna 2>/dev/null) && echo "$tok" >tok &&
	test_status 7 "$FS" --db a.db init --server "$HQ_URL" --token "$tok" 2>err &&
	grep -q "HQ.s TLS certificate could not be verified" err &&
	grep -q "self-signed certificate" err &&
	grep -q -- "--cacert FILE" err &&
	test "$("$FS" --db a.db --json status | jq -r ".server // \"\"")" = "" &&
	test "$("$FSD" --db hq.db --json device list | jq length)" = 0
'

test_expect_success 'with --cacert the device enrols and syncs; the store keeps the CA' '
	"$FS" --db a.db init --server "$HQ_URL" --token "$(cat tok)" --cacert hq.pem >/dev/null &&
	test "$(sql a.db "select value from meta where key = '"'"'cacert'"'"'")" = "$TRASH/hq.pem" &&
	"$FS" --db a.db customer add --name "Acme" --territory MOW-1 --code AC-1 >/dev/null &&
	"$FS" --db a.db sync >/dev/null &&
	test "$(sql hq.db "select count(*) from customer where code = '"'"'AC-1'"'"'")" = 1
'

test_expect_success 'a sync that cannot verify HQ fails at once and applies nothing' '
	"$FSD" --db hq.db customer add --name "From HQ" --territory MOW-1 --code HQ-1 >/dev/null &&
	"$FS" --db a.db visit log AC-1 --outcome "while HQ was unverifiable" --order "Tea:1:2.00" >/dev/null &&
	test "$(pending a.db)" = 2 &&
	test_status 7 env FIELDSYNC_CACERT="$TRASH/other.pem" "$FS" --db a.db sync 2>err &&
	grep -q "certificate could not be verified" err &&
	"$FS" --db a.db --cacert "" status >/dev/null &&
	test "$(sql a.db "select count(*) from meta where key = '"'"'cacert'"'"' and value is not null")" = 0 &&
	test_status 7 "$FS" --db a.db sync 2>err &&
	grep -q "certificate could not be verified" err &&
	test "$(pending a.db)" = 2 &&
	! "$FS" --db a.db customer show HQ-1 >/dev/null 2>&1 &&
	test "$(sql hq.db "select count(*) from visit")" = 0 &&
	test "$(sql hq.db "select count(*) from order_line")" = 0
'

test_expect_success 'with the CA again the same sync goes through' '
	test_status 3 "$FS" --db a.db --cacert missing.pem status 2>err &&
	test_status 2 "$FS" --db a.db --cacert tok status 2>err && grep -q "no PEM certificate" err &&
	"$FS" --db a.db sync --cacert hq.pem >/dev/null &&
	test "$(pending a.db)" = 0 &&
	test "$(field a.db HQ-1 name)" = "From HQ" &&
	test "$(sql hq.db "select count(*) from visit")" = 1 &&
	test "$(sql hq.db "select count(*) from order_line")" = 1
'

test_expect_success 'every line of the JSON log is one JSON object; requests have method, path, status, ms' '
	hq_stop &&
	cp hq.log json.log &&
	jq -R -e "fromjson | type == \"object\"" json.log >/dev/null &&
	test "$(wc -l <json.log)" -ge 8 &&
	jq -R -s -e "split(\"\n\") | map(select(length > 0) | fromjson | select(has(\"path\")))
		| length >= 6 and all(has(\"method\") and has(\"status\") and has(\"ms\") and has(\"ts\")
			and (.ms | type) == \"number\" and (.status | type) == \"number\")" json.log >/dev/null &&
	logq "any(.path == \"/v1/push\" and .status == 200)" &&
	logq "any(.path == \"/v1/enroll\" and .status == 200)" &&
	logq "any(.level == \"info\" and (.msg // \"\" | test(\"listening on .*HTTPS\")))" &&
	logq "any(.msg // \"\" | test(\"retention_years = 5 from the configuration written to the settings\"))" &&
	"$FSD" --db hq.db --json setting show | jq -e ".[1].key == \"retention-years\" and .[1].value == \"5\"" &&
	logq "any(.msg == \"stopped\")" &&
	logq "map(select(has(\"level\"))) | all(has(\"ts\") and has(\"msg\"))"
'

# serve_refused STATUS ARGS...: serve stops at once with STATUS, nothing listening
serve_refused() {
	_st=$1
	shift
	rm -f refused.port &&
	test_status "$_st" "$FSD" --db hq.db serve --listen 127.0.0.1:0 --port-file refused.port "$@" 2>err &&
	! test -e refused.port
}

test_expect_success 'a TLS key open to group or others stops serve, from an option or the file, exit 2' '
	for m in 644 604 640 660; do
		chmod $m hq.key &&
		serve_refused 2 --tls-cert hq.pem --tls-key hq.key &&
		grep -q "TLS key .hq.key. is open to .*(mode 0$m); chmod 600 it" err || { cat err; return 1; }
	done &&
	chmod 644 hq.key &&
	printf "tls_cert = %s/hq.pem\ntls_key = %s/hq.key\n" "$TRASH" "$TRASH" >key.conf &&
	test_status 2 env FIELDSYNCD_CONFIG=key.conf "$FSD" --db hq.db serve --listen 127.0.0.1:0 \
		--port-file refused.port 2>err &&
	grep -q "hq.key. is open to others (mode 0644); chmod 600 it" err && ! test -e refused.port &&
	chmod 600 hq.key
'

test_expect_success 'the TLS versions are a GnuTLS priority string (--tls-priorities, tls_priorities)' '
	serve_refused 5 --tls-cert hq.pem --tls-key hq.key --tls-priorities "NORMAL:+NO-SUCH-THING" &&
	grep -q "cannot start HTTPS server" err &&
	: >hq.log &&
	HQ_ARGS="--tls-cert hq.pem --tls-key hq.key --tls-priorities NORMAL:+VERS-TLS1.0:+VERS-TLS1.1" &&
	hq_start "$TRASH/hq.db"; rc=$?; HQ_ARGS=; test $rc = 0 &&
	tls -tls1 && grep -q "Protocol *: TLSv1$" s_client.out &&
	hq_stop
'

test_expect_success 'an option overrides the file: --log-format text' '
	: >hq.log &&
	FIELDSYNCD_CONFIG="$TRASH/fsd.conf" && export FIELDSYNCD_CONFIG &&
	HQ_ARGS="--log-format text" && hq_start "$TRASH/hq.db"; rc=$?; FIELDSYNCD_CONFIG=; HQ_ARGS=; test $rc = 0 &&
	curl -sf --cacert hq.pem "https://127.0.0.1:$HQ_PORT/v1/health" >/dev/null &&
	hq_stop &&
	grep -q "^fieldsyncd: listening on .*HTTPS" hq.log &&
	grep -q " GET /v1/health 200 " hq.log &&
	! grep -q "^{" hq.log
'

test_done
