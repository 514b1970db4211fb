#!/bin/sh
# The convergence property test (tests/unit/test_converge.c) with HQ's store
# on PostgreSQL, served by several fieldsyncd processes: the devices of each
# seed sync through different servers over one database.
# FIELDSYNC_PG_SEEDS (default 20) and FIELDSYNC_PG_HQS (default 3).
. "$(dirname "$0")/../lib.sh"

test_expect_success 'PostgreSQL starts in a private directory' '
	pg_start && DB=$(pg_db converge) && test -n "$DB"
'

test_expect_success "random histories converge over PostgreSQL with ${FIELDSYNC_PG_HQS:-3} servers" '
	mkdir tmp &&
	TMPDIR=$TRASH/tmp FIELDSYNC_KEEP=1 FIELDSYNC_CONVERGE_PG="$DB" \
	FIELDSYNC_CONVERGE_HQS=${FIELDSYNC_PG_HQS:-3} FIELDSYNC_CONVERGE_SEEDS=${FIELDSYNC_PG_SEEDS:-20} \
	CMOCKA_MESSAGE_OUTPUT=stdout "$FIELDSYNC_BUILD/tests/test_converge" >out 2>&1 ||
		{ tail -n 30 out; tail -n 5 tmp/fs-conv-*/hq*.log; false; }
'

test_expect_success 'every server took pushes and pulls over the one database' '
	n=0 &&
	for log in tmp/fs-conv-*/hq*.log; do
		grep -q "POST /v1/push" "$log" && grep -q "POST /v1/pull" "$log" && n=$((n + 1))
	done &&
	test $n -eq ${FIELDSYNC_PG_HQS:-3} &&
	test "$(sql "$DB" "select count(*) from customer")" -gt 20
'

test_done
