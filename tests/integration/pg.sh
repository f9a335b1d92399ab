# pg.sh: a real PostgreSQL server for a test, in $T_DIR/pg on a unix socket there (no TCP),
# stopped before lib.sh removes the directory. Sourced after lib.sh.
#   pg_init    initdb; the superuser postgres connects without a password, every other
#              role only with its password (scram-sha-256)
#   pg_start, pg_stop, pg_running, psql_admin ARGS... (psql as postgres)
PGBIN=/usr/lib/postgresql/15/bin
pg="$T_DIR/pg"

# PostgreSQL refuses to run as root: then its files and processes belong to nobody
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}
pg_running() { [ -f "$pg/data/postmaster.pid" ]; }
pg_start() { as_pg "$PGBIN/pg_ctl" -D "$pg/data" -o "-c listen_addresses='' -k $pg" -l "$pg/log" -w start >/dev/null; }
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null; }
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg" -U postgres "$@"; }
trap 'pg_running && as_pg "$PGBIN/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1; t_cleanup' EXIT

pg_init() {
	chmod 711 "$T_DIR"
	mkdir "$pg"
	[ "$(id -u)" -ne 0 ] || chown nobody:nogroup "$pg"
	as_pg "$PGBIN/initdb" -D "$pg/data" -U postgres -E UTF8 --no-sync --auth-local=trust \
		--auth-host=reject >"$T_DIR/initdb.log" 2>&1 || { cat "$T_DIR/initdb.log"; exit 1; }
	printf 'local all postgres trust\nlocal all all scram-sha-256\n' > "$T_DIR/pg_hba.conf"
	as_pg cp "$T_DIR/pg_hba.conf" "$pg/data/pg_hba.conf"
}
