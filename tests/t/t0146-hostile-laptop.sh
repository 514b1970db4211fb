#!/bin/bash
# A stolen or copied laptop store: with sealing on, the device token is
# sealed like the other secrets, so a copy of the file cannot sync as the
# rep; and a store enrolled over HTTPS does not quietly move to plain HTTP.
. "$(dirname "$0")/../lib.sh"
export FIELDSYNC_RETRY_MS=20 FIELDSYNC_RETRIES=2

meta() { sql "$1" "select value from meta where key = '$2'"; }
pull_with() {
	curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $1" -d "{\"v\": 1}" "$2/v1/pull"
}
cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$1.key" -out "$1.pem" >/dev/null 2>&1 && chmod 600 "$1.key"
}

test_expect_success 'setup: HQ and a rep' '
	hq_start &&
	"$FSD" --db "$HQ_DB" rep add anna --territory T1 >tok1 2>/dev/null &&
	"$FSD" --db "$HQ_DB" rep token anna >tok2 2>/dev/null
'

test_expect_success 'without sealing the token is readable in the file (the documented risk)' '
	"$FS" --db clear.db init --server "$HQ_URL" --token "$(cat tok1)" >/dev/null &&
	test "$(pull_with "$(meta clear.db device_token)" "$HQ_URL")" = 200
'

test_expect_success 'sealed store: the token in the file is sealed; a copy without the key cannot sync' '
	export FIELDSYNC_KEY_FILE="$TRASH/keys/seal.key" &&
	"$FS" --db sealed.db init --server "$HQ_URL" --token "$(cat tok2)" >/dev/null &&
	"$FS" --db sealed.db customer add --name "Sealed Ltd" --territory T1 >/dev/null &&
	"$FS" --db sealed.db sync >/dev/null &&
	raw=$(sql sealed.db "select hex(value) from meta where key = '\''device_token'\''") &&
	case "$raw" in 46537331*) ;; *) echo "not sealed: $raw"; false ;; esac &&
	test "$(pull_with "$raw" "$HQ_URL")" = 401 &&
	cp sealed.db copy.db &&
	unset FIELDSYNC_KEY_FILE &&
	test_status 8 "$FS" --db copy.db sync 2>err && grep -q sealed err
'

test_expect_success 'an unsealed store that gets sealed later seals the token it already holds' '
	export FIELDSYNC_KEY_FILE="$TRASH/keys/late.key" &&
	"$FS" --db clear.db status >/dev/null &&
	raw=$(sql clear.db "select hex(value) from meta where key = '\''device_token'\''") &&
	case "$raw" in 46537331*) ;; *) echo "not sealed: $raw"; false ;; esac &&
	"$FS" --db clear.db sync >/dev/null &&
	unset FIELDSYNC_KEY_FILE
'

test_expect_success 'a store enrolled over https refuses to enrol again over http unless --insecure' '
	cert hq &&
	HQ_ARGS="--tls-cert $TRASH/hq.pem --tls-key $TRASH/hq.key" &&
	"$FSD" --db tls.db init >/dev/null &&
	HQ_PORT= && hq_start "$TRASH/tls.db" &&
	S_URL="https://127.0.0.1:$HQ_PORT" &&
	HQ_ARGS= HQ_PORT= && hq_start "$TRASH/tls.db" && P_URL="$HQ_URL" &&
	t1=$("$FSD" --db tls.db rep add bob --territory T1 2>/dev/null) &&
	t2=$("$FSD" --db tls.db rep token bob 2>/dev/null) &&
	t3=$("$FSD" --db tls.db rep token bob 2>/dev/null) &&
	"$FS" --db b.db --cacert hq.pem init --server "$S_URL" --token "$t1" >/dev/null &&
	"$FS" --db b.db sync >/dev/null &&
	test_status 2 "$FS" --db b.db init --force --server "$P_URL" --token "$t2" 2>err &&
	grep -q "enrolled over https" err && grep -q -- --insecure err &&
	test "$(meta b.db server_url)" = "$S_URL" &&
	"$FS" --db b.db init --force --server "$S_URL" --token "$t2" >/dev/null &&
	"$FS" --db b.db init --force --insecure --server "$P_URL" --token "$t3" >/dev/null &&
	test "$(meta b.db server_url)" = "$P_URL"
'

test_done
