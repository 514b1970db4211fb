#!/bin/sh
# The old binaries are the release's: built from the tag's commit, and
# saying the version that commit declares. Prints what the two generations
# write (store schema, HQ schema, protocol version) and checks that this
# tree only moves them forward.
. "$(dirname "$0")/lib.sh"

# declared DIR-OR-TAG: FIELDSYNC_VERSION of this tree, or of a tag's tree
declared() {
	if [ "$1" = tree ]; then
		cat "$FIELDSYNC_TOP/core/include/fieldsync.h"
	else
		git -C "$FIELDSYNC_TOP" show "$("$FIELDSYNC_TOP/tools/release-commit.sh" "$1"):core/include/fieldsync.h"
	fi | sed -n 's/^#define FIELDSYNC_VERSION "\(.*\)"/\1/p'
}

# generation AGENT FSD NAME: its store schema, HQ schema and protocol
# version, as files NAME.store NAME.hq NAME.wire
generation() {
	"$1" --db "$3-dev.db" customer add --name X --territory T >/dev/null &&
	user_version "$3-dev.db" >"$3.store" &&
	"$2" --db "$3-hq.db" init >/dev/null && hq_schema "$3-hq.db" >"$3.hq" &&
	serve "$3" "$2" "$3-hq.db" && eval "_u=\$${3}_URL" &&
	curl -sf "$_u/v1/health" | jq -r .v >"$3.wire" && unserve "$3"
}

test_expect_success "the old binaries were built from $OLD_TAG" '
	commit=$("$FIELDSYNC_TOP/tools/release-commit.sh" "$OLD_TAG") &&
	test "$(cat "$FIELDSYNC_OLD_BUILD/../.release-commit")" = "$commit"
'

test_expect_success "they say the version $OLD_TAG declares; this tree's say its own" '
	v=$(declared "$OLD_TAG") && test -n "$v" &&
	test "$("$FS_OLD" --version)" = "fieldsync $v" && test "$("$FSD_OLD" --version)" = "fieldsyncd $v" &&
	v=$(declared tree) &&
	test "$("$FS" --version)" = "fieldsync $v" && test "$("$FSD" --version)" = "fieldsyncd $v"
'

test_expect_success 'store schema, HQ schema and protocol only move forward' '
	generation "$FS_OLD" "$FSD_OLD" old && generation "$FS" "$FSD" new &&
	test "$(cat old.store)" -le "$(cat new.store)" && test "$(cat old.hq)" -le "$(cat new.hq)" &&
	test "$(cat old.wire)" -le "$(cat new.wire)"
'
for g in old new; do
	[ -s $g.wire ] || continue
	echo "# $([ $g = old ] && echo "$OLD_TAG" || echo "this tree"): store schema $(cat $g.store)," \
		"HQ schema $(cat $g.hq), protocol $(cat $g.wire)"
done

test_done
