#!/bin/sh
# This agent syncs with the release's fieldsyncd: a laptop updated before
# its HQ. The whole story of tests/upgrade/story.sh with three new devices.
# Should a later version stop supporting an older HQ, this scenario must
# assert the agent's refusal (its message and exit status) instead.
. "$(dirname "$0")/lib.sh"
HQBIN=$FSD_OLD A_AG=$FS B_AG=$FS V_AG=$FS
. "$UPGRADE_DIR/story.sh"
test_done
