# tests/lib.sh - the end-to-end test library (after git's t/test-lib.sh).
# A test script sources this, then calls
#   test_expect_success 'description' 'shell commands'
# and ends with test_done. Output is TAP for prove. Each script runs in its
# own scratch directory, removed at the end unless FIELDSYNC_KEEP is set.
set -u
: "${FIELDSYNC_BUILD:=$(cd "$(dirname "$0")/../../build" && pwd)}"
: "${FIELDSYNC_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
FS="$FIELDSYNC_BUILD/fieldsync"
FSD="$FIELDSYNC_BUILD/fieldsyncd"
TOOLS="$FIELDSYNC_BUILD/tools"
test_count=0
test_failed=0
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-test.XXXXXX")
cd "$TRASH" || exit 1
export HOME="$TRASH/home" XDG_DATA_HOME="$TRASH/home/.local/share" TZ="${TZ:-UTC}"
mkdir -p "$HOME"
unset FIELDSYNC_DB
test_cleanup_hooks=""

test_at_exit() {
	test_cleanup_hooks="$1
$test_cleanup_hooks"
}

_test_cleanup() {
	eval "$test_cleanup_hooks"
	cd /
	[ -n "${FIELDSYNC_KEEP:-}" ] || rm -rf "$TRASH"
}
trap _test_cleanup EXIT
trap 'exit 130' INT TERM

test_expect_success() {
	test_count=$((test_count + 1))
	_out=$(mktemp "$TRASH/.out.XXXXXX")
	if (eval "$2") >"$_out" 2>&1; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$_out" | tail -n 40
	fi
	rm -f "$_out"
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
	exit $?
}

# Expect a command to exit with a given status.
test_status() {
	_want=$1
	shift
	"$@"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		echo "expected exit $_want, got $_got: $*" >&2
		return 1
	fi
	return 0
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Content fingerprint of a store: every row of every table, in order.
store_dump() {
	sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name" |
	while read -r t; do
		echo "== $t"
		sqlite3 "$1" "SELECT * FROM \"$t\" ORDER BY 1"
	done
}
