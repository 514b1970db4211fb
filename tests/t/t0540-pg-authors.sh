#!/bin/sh
# Authors and plans for a rep (t0625) with HQ on PostgreSQL: two fieldsyncd
# processes over one database, the devices spread over them.
: "${FIELDSYNC_HQ_PG:=2}"
export FIELDSYNC_HQ_PG
. "$(dirname "$0")/t0625-authors.sh"
