#!/bin/sh
# The sync end-to-end suite (t0100) with HQ on PostgreSQL: a private
# PostgreSQL 15 and FIELDSYNC_HQ_PG fieldsyncd processes (default 3) over one
# database, the devices spread over them.
: "${FIELDSYNC_HQ_PG:=3}"
export FIELDSYNC_HQ_PG
. "$(dirname "$0")/t0100-sync.sh"
