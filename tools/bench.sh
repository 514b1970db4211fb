#!/bin/bash
# tools/bench.sh BUILD_DIR - the benchmark figures of fieldsync, in one run.
#
# Every speed figure is printed next to a reference measured in the same run
# (these machines are shared and noisy): a human table, one JSON line per
# figure {"figure","value","unit","reference","ratio"} on stdout, and the
# same lines in bench/results.json. BENCH_CUSTOMERS / BENCH_VISITS /
# BENCH_AGENTS change the sizes (defaults 10000 / 100000 / 200).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
FS="$build/fieldsync" FSD="$build/fieldsyncd" T="$build/tools"
customers=${BENCH_CUSTOMERS:-10000} visits=${BENCH_VISITS:-100000} agents=${BENCH_AGENTS:-200}
day=2026-11-23
work=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-bench.XXXXXX")
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$top/bench"
out="$top/bench/results.json"
: >"$out"
export FIELDSYNC_RETRY_MS=200
table=()

# figure NAME VALUE UNIT REFERENCE: one JSON line (ratio = value / reference)
figure() {
	local line
	line=$(awk -v f="$1" -v v="$2" -v u="$3" -v r="${4:-}" 'BEGIN {
		printf "{\"figure\":\"%s\",\"value\":%s,\"unit\":\"%s\",", f, v, u
		if (r == "") printf "\"reference\":null,\"ratio\":null}\n"
		else printf "\"reference\":%s,\"ratio\":%.3f}\n", r, (r + 0 ? v / r : 0) }')
	echo "$line" | tee -a "$out"
	table+=("$(printf '%-58s %12s %-9s %12s %7s' "$1" "$2" "$3" "${4:--}" \
		"$(echo "$line" | jq -r 'if .ratio == null then "-" else (.ratio * 100 | round / 100 | tostring) end')")")
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
start_hq() {	# start_hq DB PORTFILE LOG
	"$FSD" --db "$1" init >/dev/null
	"$FSD" --db "$1" serve --listen 127.0.0.1:0 --port-file "$2" 2>"$3" &
	pids="$pids $!"
	hq_pid=$!
	while [ ! -s "$2" ]; do sleep 0.05; done
}
enroll() {	# enroll HQDB URL STORE REP TERRITORIES
	local tok
	tok=$("$FSD" --db "$1" rep add "$4" --territory "$5" 2>/dev/null)
	"$FS" --db "$3" init --server "$2" --token "$tok" >/dev/null
}
sum() { jq -r ".$2" "$1"; }

echo "== generating $customers customers and $visits visits (tools/gen, seed 1)" >&2
"$T/gen" --db "$work/big.db" --territory MOW-1 --customers "$customers" --visits "$visits" --date "$day" --quiet
records=$(sqlite3 "$work/big.db" "select (select count(*) from customer)+(select count(*) from contact)+(select count(*) from visit)+(select count(*) from order_line)+(select count(*) from payment)")

echo "== 1. raw SQLite bulk insert of the same $records rows (median of 3)" >&2
raw=$(for i in 1 2 3; do "$T/rawinsert" "$work/big.db" "$work/raw.db" | jq .per_s; done | median)
figure "raw SQLite insert, same rows and schema" "$raw" "records/s"

echo "== 2b. an agent pushes $records records to HQ" >&2
start_hq "$work/hq.db" "$work/hq.port" "$work/hq.log"
sync_hq_pid=$hq_pid
url="http://127.0.0.1:$(cat "$work/hq.port")"
cp "$work/big.db" "$work/push.db"
enroll "$work/hq.db" "$url" "$work/push.db" pusher MOW-1
"$FS" --db "$work/push.db" --json sync >"$work/push.json"
push_rate=$(awk -v n="$(sum "$work/push.json" pushed)" -v ms="$(sum "$work/push.json" ms)" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
figure "initial sync, push of $records records" "$push_rate" "records/s" "$raw"

echo "== 2a. a fresh agent pulls everything" >&2
enroll "$work/hq.db" "$url" "$work/fresh.db" fresh MOW-1
"$FS" --db "$work/fresh.db" --json sync >"$work/pull.json"
pull_rate=$(awk -v n="$(sum "$work/pull.json" pulled)" -v ms="$(sum "$work/pull.json" ms)" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
figure "initial sync, pull of $(sum "$work/pull.json" pulled) records" "$pull_rate" "records/s" "$raw"
figure "agent peak RSS during the initial pull" "$(( $(sum "$work/pull.json" max_rss_kb) / 1024 ))" "MB" 32

echo "== 3. nightly sync: 500 records up, 2000 down (median of 5); no-op sync" >&2
for i in 1 2 3 4 5; do
	"$T/mutate" --db "$work/push.db" --edits 2000 --seed "$i" --table visit
	"$FS" --db "$work/push.db" sync >/dev/null
	"$T/mutate" --db "$work/fresh.db" --edits 500 --seed "$((i + 100))"
	"$FS" --db "$work/fresh.db" --json sync >"$work/n$i.json"
	jq -r .ms "$work/n$i.json"
done | median >"$work/nightly"
figure "nightly sync, $(sum "$work/n5.json" pushed) up + $(sum "$work/n5.json" pulled) down" "$(cat "$work/nightly")" "ms"
for i in 1 2 3 4 5; do "$FS" --db "$work/fresh.db" --json sync >"$work/noop$i.json"; jq -r .ms "$work/noop$i.json"; done | median >"$work/noop"
figure "no-op sync" "$(cat "$work/noop")" "ms"
figure "no-op sync, HTTP round trips" "$(sum "$work/noop5.json" requests)" "requests" 1
figure "fieldsyncd peak RSS after the syncs above" \
	"$(( $(awk '/^VmHWM:/ {print $2}' "/proc/$sync_hq_pid/status") / 1024 ))" "MB"

echo "== 5. HQ load: $agents agents, each a nightly sync (push 50 visits, pull 200 records)" >&2
start_hq "$work/lg.db" "$work/lg.port" "$work/lg.log"
"$T/loadgen" --hq-db "$work/lg.db" --url "http://127.0.0.1:$(cat "$work/lg.port")" --agents "$agents" >"$work/lg.json" || true
figure "HQ load: agents with an error" "$(sum "$work/lg.json" errors)" "agents" 0
figure "HQ load: push latency p50" "$(sum "$work/lg.json" push_p50_ms)" "ms"
figure "HQ load: push latency p99" "$(sum "$work/lg.json" push_p99_ms)" "ms"
figure "HQ load: pull latency p99" "$(sum "$work/lg.json" pull_p99_ms)" "ms"
figure "HQ load: records ingested" "$(sum "$work/lg.json" ingested_per_s)" "records/s" "$raw"
figure "HQ load: loadgen's own CPU (share of one core)" "$(sum "$work/lg.json" loadgen_cpu_share)" "cores"

echo "== 6. local commands on the $customers/$visits store vs the sqlite3 CLI" >&2
"$top/tools/bench-local.sh" "$build" "$work/big.db" "$day" 21 >"$work/local.json"
while read -r l; do
	figure "$(echo "$l" | jq -r .figure)" "$(echo "$l" | jq .value)" ms "$(echo "$l" | jq .reference)"
done <"$work/local.json"

echo "== 7. route planner (make bench-route)" >&2
"$top/tools/bench-route.sh" "$build" >"$work/route.txt" 2>&1 || true
maxgap=$(sed -n 's/^max gap \([0-9.]*\) %.*/\1/p' "$work/route.txt")
atopt=$(sed -n 's/.*at optimum \([0-9]*\) of.*/\1/p' "$work/route.txt")
n1000=$(sed -n 's/.*, gap \([0-9.]*\) %$/\1/p' "$work/route.txt" | tail -n 1)
[ -z "$maxgap" ] || figure "route: max gap to TSPLIB optima at 100 ms" "$maxgap" "%" 1
[ -z "$atopt" ] || figure "route: TSPLIB instances at the optimum" "$atopt" "of 10" 6
[ -z "$n1000" ] || figure "route: n=1000, 100 ms tour vs 2 s tour" "$n1000" "% longer" 3

echo
printf '%-58s %12s %-9s %12s %7s\n' figure value unit reference ratio
for l in "${table[@]}"; do echo "$l"; done
echo "(results in bench/results.json)"
