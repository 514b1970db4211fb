#!/bin/bash
# A short libFuzzer run of each target (tests/fuzz/fuzz_*.c) from its
# committed seed corpus (tests/fuzz/corpus/NAME): the wire-format parser and
# record decoder, the field validators behind the CLI, the TSPLIB reader,
# the customer CSV import reader.
# No crash, no sanitizer report, no leak. `make fuzz` runs them for long.
# FIELDSYNC_FUZZ_SECONDS per target (default 10); fuzzers from `make fuzzers`
# in $FIELDSYNC_FUZZ_BUILD (default build/fuzz).
. "$(dirname "$0")/../lib.sh"
secs=${FIELDSYNC_FUZZ_SECONDS:-10}
dir=${FIELDSYNC_FUZZ_BUILD:-$FIELDSYNC_TOP/build/fuzz}

for src in "$FIELDSYNC_TOP"/tests/fuzz/fuzz_*.c; do
	n=$(basename "$src" .c); n=${n#fuzz_}
	test_expect_success "fuzz_$n: $secs s from the seed corpus, nothing found" '
		test -x "$dir/fuzz_$n" || { echo "no $dir/fuzz_$n: run make fuzzers"; return 1; }
		mkdir -p corpus-$n &&
		ASAN_OPTIONS=detect_leaks=1 "$dir/fuzz_$n" -max_total_time="$secs" -artifact_prefix="$TRASH/$n-" \
			corpus-$n "$FIELDSYNC_TOP/tests/fuzz/corpus/$n" >log 2>&1; rc=$?
		grep "^Done" log
		test $rc = 0 || { grep -A20 "ERROR\|SUMMARY" | head -40; ls "$TRASH"/$n-* 2>/dev/null; return 1; }
		grep -q "^Done [0-9]* runs" log
	'
done

test_done
