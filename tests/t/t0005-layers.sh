#!/bin/bash
# The structure of the house, from the objects of this build: no call runs
# back up a floor and no circle of calls, in the whole tree and inside
# sync/hq (tools/layers.sh; the floors in docs/architecture.md).
. "$(dirname "$0")/../lib.sh"

test_expect_success 'no arrow runs back up, no circle' '
	"$FIELDSYNC_TOP/tools/layers.sh" "$FIELDSYNC_BUILD" >out 2>&1 || { cat out; false; } &&
	cat out && grep -q "none running up; no circle$" out
'

test_expect_success 'the check fails on an arrow running up (a floor moved in a copy)' '
	sed "s|^32 sync/hq/settings.c|39 sync/hq/settings.c|" "$FIELDSYNC_TOP/tools/layers.sh" >moved.sh &&
	! FIELDSYNC_TOP="$FIELDSYNC_TOP" bash moved.sh "$FIELDSYNC_BUILD" >out 2>&1 &&
	grep -q "calls up into sync/hq/settings.c" out
'

test_done
