#!/bin/sh
# bench-route.sh BUILD_DIR - the route planner against TSPLIB95 and itself.
#
# 1. Every instance *.tsp in the shared TSPLIB directory ($FIELDSYNC_TSPLIB, or
#    ../shared/tsplib beside the repository) solved with a 100 ms budget; the
#    table gives the gap to the proven optimum from optima.tsv.
# 2. 1000 uniform random points: the 100 ms tour against the same solver's
#    2000 ms tour (same seed).
# Goals (benchmark figures, not tests): max gap <= 1 %, mean gap <= 0.5 %,
# >= 6 of 10 at the optimum, the 100 ms random tour within 3 % of the 2 s one.
# A missed goal prints "goal missed: ..." and still exits 0; a run that fails
# (bad file, crash, invalid tour) makes the script exit 1.
set -u

build=${1:?usage: tools/bench-route.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
dir=${FIELDSYNC_TSPLIB:-$here/../../shared/tsplib}
tsplib=$build/tools/tsplib
budget=100
seed=${BENCH_SEED:-1}

[ -x "$tsplib" ] || { echo "bench-route: $tsplib not built (make $tsplib)" >&2; exit 1; }
[ -r "$dir/optima.tsv" ] || { echo "bench-route: no $dir/optima.tsv (set FIELDSYNC_TSPLIB)" >&2; exit 1; }

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT INT TERM
failed=0

# field NAME JSON: the value of "NAME" in tsplib's one-line JSON output
field() {
	printf '%s\n' "$2" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\)\"\{0,1\}[,}].*/\1/p"
}

echo "route planner: TSPLIB95 instances, ${budget} ms each, seed $seed ($(basename "$dir"))"
for f in "$dir"/*.tsp; do
	[ -e "$f" ] || { echo "bench-route: no .tsp files in $dir" >&2; exit 1; }
	base=$(basename "$f" .tsp)
	if ! out=$("$tsplib" "$f" --budget-ms "$budget" --seed "$seed"); then
		echo "bench-route: $base: the run failed" >&2
		failed=1
		continue
	fi
	opt=$(awk -F '\t' -v n="$base" '$1 == n { print $4 }' "$dir/optima.tsv")
	printf '%s\t%s\t%s\t%s\t%s\n' "$base" "$(field n "$out")" "${opt:--}" \
		"$(field length "$out")" "$(field ms "$out")" >>"$tmp"
done

sort -t "$(printf '\t')" -k2,2n -k1,1 "$tmp" | awk -F '\t' '
BEGIN {
	printf "%-12s %7s %9s %9s %8s %8s\n", "instance", "n", "optimum", "length", "gap %", "ms"
}
{
	if ($3 == "-") {
		printf "%-12s %7d %9s %9d %8s %8.1f\n", $1, $2, "-", $4, "-", $5
		next
	}
	gap = ($4 - $3) * 100.0 / $3
	printf "%-12s %7d %9d %9d %8.2f %8.1f\n", $1, $2, $3, $4, gap, $5
	k++; sum += gap; if (gap > max) max = gap; if ($4 == $3) at++
}
END {
	if (!k) { print "no instance with a known optimum"; exit }
	printf "max gap %.2f %%, mean gap %.3f %%, at optimum %d of %d\n", max, sum / k, at, k
	if (max > 1.0) printf "goal missed: max gap %.2f %% > 1 %%\n", max
	if (sum / k > 0.5) printf "goal missed: mean gap %.3f %% > 0.5 %%\n", sum / k
	need = k < 10 ? k * 0.6 : 6
	if (at < need) printf "goal missed: %d at optimum < %d\n", at, need
}'

echo
echo "route planner: 1000 uniform random points (EUC_2D, 1e6 x 1e6), seed $seed"
if short=$("$tsplib" --random 1000 --budget-ms 100 --seed "$seed") &&
	long=$("$tsplib" --random 1000 --budget-ms 2000 --seed "$seed"); then
	awk -v a="$(field length "$short")" -v am="$(field ms "$short")" \
		-v b="$(field length "$long")" -v bm="$(field ms "$long")" 'BEGIN {
		gap = (a - b) * 100.0 / b
		printf "100 ms tour %d (%.1f ms), 2000 ms tour %d (%.1f ms), gap %.2f %%\n", a, am, b, bm, gap
		if (gap > 3.0) printf "goal missed: 100 ms tour %.2f %% > 3 %% above the 2 s tour\n", gap
	}'
else
	echo "bench-route: the random run failed" >&2
	failed=1
fi
exit "$failed"
