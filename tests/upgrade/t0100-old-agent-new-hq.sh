#!/bin/sh
# Devices enrolled with the release's agent sync with this fieldsyncd: HQ is
# upgraded first, the laptops follow when they follow. The whole story of
# tests/upgrade/story.sh with three old devices.
. "$(dirname "$0")/lib.sh"
HQBIN=$FSD A_AG=$FS_OLD B_AG=$FS_OLD V_AG=$FS_OLD
. "$UPGRADE_DIR/story.sh"
test_done
