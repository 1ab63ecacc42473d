#!/usr/bin/env bash
# Install and start the services the test suite uses: a PostgreSQL server (archive tests run
# against it as well as SQLite) and a Java runtime (PySpark's local session). Sourced by .ci/run;
# a developer can source it too:  . .ci/services.sh
# Exports SCREENING_TEST_POSTGRES_URL for the tests. Nothing here is skipped: if a step fails the
# script fails, and the tests that need the service fail with a message saying how to start it.
set -euo pipefail

_need_apt=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || _need_apt+=(postgresql)
command -v java >/dev/null 2>&1 || _need_apt+=(default-jre-headless)
if [ ${#_need_apt[@]} -gt 0 ]; then
  echo "+ apt-get install ${_need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${_need_apt[@]}" >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# A throw-away PostgreSQL cluster owned by the 'postgres' system user (the server refuses to run
# as root), listening on loopback only, trust auth (it holds only test data and dies with the run).
pg_port=${SCREENING_TEST_POSTGRES_PORT:-54329}
pg_root=$(mktemp -d /tmp/screening-pg.XXXXXX)
chown postgres "$pg_root" 2>/dev/null || true
chmod 755 "$pg_root"
_as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
_as_pg "'$pg_bin/initdb' -D '$pg_root/data' -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >'$pg_root/initdb.log' 2>&1"
_as_pg "'$pg_bin/pg_ctl' -D '$pg_root/data' -l '$pg_root/server.log' -w -o \"-p $pg_port -k $pg_root -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
export SCREENING_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres"
export SCREENING_TEST_POSTGRES_DIR="$pg_root"
echo "+ PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port; $(java -version 2>&1 | head -n 1)"
screening_services_stop() {
  _as_pg "'$pg_bin/pg_ctl' -D '$pg_root/data' -m fast stop >/dev/null 2>&1" || true
}
