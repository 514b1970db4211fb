#!/bin/bash
# tools/bench-pg.sh BUILD_DIR - HQ at scale, in one run: tools/loadgen against
# one fieldsyncd over SQLite, then 1, 2 and 3 fieldsyncd processes over one
# PostgreSQL database (a throwaway cluster from tools/pgtmp.sh; loadgen
# spreads its agents over the servers round-robin). Prints a table and one
# JSON line per configuration: records ingested per second, push and pull
# p50/p99 (ms), errors. BENCH_AGENTS (200), BENCH_PUSH (50), BENCH_PULL (200),
# BENCH_TERRITORIES (20), BENCH_THREADS (fieldsyncd --threads, default its own).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
FSD="$build/fieldsyncd" T="$build/tools"
agents=${BENCH_AGENTS:-200} push=${BENCH_PUSH:-50} pull=${BENCH_PULL:-200} terr=${BENCH_TERRITORIES:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-benchpg.XXXXXX")
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-pg.XXXXXX")	# its own: postgres must reach it
pids=""
stop_servers() { for p in $pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=""; }
cleanup() { stop_servers; "$top/tools/pgtmp.sh" stop "$pgdir"; rm -rf "$work"; }
trap cleanup EXIT

# serve STORE N: N fieldsyncd over STORE; their URLs in $urls, comma-separated
serve() {
	local k
	urls=""
	for k in $(seq 1 "$2"); do
		rm -f "$work/port$k"
		"$FSD" --db "$1" serve --listen 127.0.0.1:0 --port-file "$work/port$k" \
			${BENCH_THREADS:+--threads $BENCH_THREADS} >/dev/null 2>>"$work/hq$k.log" &
		pids="$pids $!"
		while [ ! -s "$work/port$k" ]; do sleep 0.05; done
		urls="$urls${urls:+,}http://127.0.0.1:$(cat "$work/port$k")"
	done
}

rows=()
# run LABEL STORE N
run() {
	local out
	"$FSD" --db "$2" migrate >/dev/null
	serve "$2" "$3"
	echo "== $1: loadgen, $agents agents x $push records pushed, $pull pulled" >&2
	out=$("$T/loadgen" --hq-db "$2" --url "$urls" --agents "$agents" --push "$push" --pull "$pull" \
		--territories "$terr")
	stop_servers
	echo "$out" | jq -c --arg c "$1" '{config: $c} + .'
	rows+=("$(echo "$out" | jq -r --arg c "$1" \
		'[$c, .ingested_per_s, .push_p50_ms, .push_p99_ms, .pull_p50_ms, .pull_p99_ms, .errors] | @tsv')")
}

pg=$("$top/tools/pgtmp.sh" start "$pgdir")
run "SQLite, 1 fieldsyncd" "$work/hq.db" 1
for n in 1 2 3; do
	run "PostgreSQL, $n fieldsyncd" "$("$top/tools/pgtmp.sh" db "$pg" "bench$n")" "$n"
done

echo
printf '| %-24s | %10s | %13s | %13s | %13s | %13s | %6s |\n' configuration records/s "push p50 ms" "push p99 ms" \
	"pull p50 ms" "pull p99 ms" errors
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------- ------------ --------------- --------------- \
	--------------- --------------- --------
for r in "${rows[@]}"; do
	IFS=$'\t' read -r c ing p50 p99 l50 l99 err <<<"$r"
	printf '| %-24s | %10s | %13s | %13s | %13s | %13s | %6s |\n' "$c" "$ing" "$p50" "$p99" "$l50" "$l99" "$err"
done
echo "($(nproc) cores; $agents agents, $push records pushed and $pull pulled each, $terr territories)"
