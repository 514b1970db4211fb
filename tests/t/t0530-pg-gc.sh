#!/bin/bash
# Tombstone garbage collection and the resync of a returning device (t0650)
# with HQ on PostgreSQL.
: "${FIELDSYNC_HQ_PG:=1}"
export FIELDSYNC_HQ_PG
. "$(dirname "$0")/t0650-gc.sh"
