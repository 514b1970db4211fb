#!/bin/sh
# tools/pgtmp.sh start DIR | stop DIR - a throwaway PostgreSQL 15 cluster for
# tests and benchmarks: initdb (trust, UTF-8, C collation) in DIR/data, run
# as the postgres user when called as root (initdb refuses root), listening
# on 127.0.0.1 on a free port with its socket in DIR, durability off (fsync,
# synchronous_commit: the data is thrown away). `start` prints the base URL
# postgresql://postgres@127.0.0.1:PORT; add /DBNAME (tools/pgtmp.sh db URL
# NAME creates one and prints its URL). PG_BIN overrides the binaries.
set -eu
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
case "${1:-}" in
start)
	dir=$2
	mkdir -p "$dir"
	chmod 755 "$dir"
	[ "$(id -u)" -ne 0 ] || chown postgres "$dir"
	as_pg "$PG_BIN/initdb" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -D "$dir/data" \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
	n=0
	while :; do
		# a port from the upper range; pg_ctl fails if another holds it
		port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
		if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/pg.log" start -o \
			"-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off \
			 -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" >/dev/null 2>&1; then
			break
		fi
		n=$((n + 1))
		[ $n -lt 5 ] || { echo "pgtmp: PostgreSQL did not start" >&2; cat "$dir/pg.log" >&2; exit 1; }
	done
	echo "postgresql://postgres@127.0.0.1:$port"
	;;
stop)
	as_pg "$PG_BIN/pg_ctl" -D "$2/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$2"
	;;
db)
	psql -X -q -d "$2/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$3'" | grep -q 1 ||
		psql -X -q -d "$2/postgres" -c "CREATE DATABASE $3" >/dev/null
	echo "$2/$3"
	;;
*)
	echo "usage: tools/pgtmp.sh start DIR | stop DIR | db URL NAME" >&2
	exit 2
	;;
esac
