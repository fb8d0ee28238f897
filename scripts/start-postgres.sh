#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 server on loopback for hpt's tests (its own data
# directory, never Debian's `main` cluster), with role hpt/hpt (CREATEDB) and database
# hpt_test, and prints on stdout:
#   export HPT_TEST_POSTGRES_URL=postgresql://hpt:hpt@127.0.0.1:PORT/hpt_test
# Use: eval "$(scripts/start-postgres.sh)". Idempotent: a running server is reused.
# Env: HPT_PG_DIR (data dir, default /tmp/hpt-postgres), HPT_PG_PORT (default 5432, or a
# free port when 5432 is taken). Stop it with: scripts/start-postgres.sh stop
set -euo pipefail

PG_BIN=${HPT_PG_BIN:-/usr/lib/postgresql/15/bin}
DATA=${HPT_PG_DIR:-/tmp/hpt-postgres}
LOG="$DATA.log"

log() { echo "start-postgres: $*" >&2; }

if [[ ! -x "$PG_BIN/initdb" ]]; then
  log "no PostgreSQL 15 server in $PG_BIN (apt-get install -y postgresql)"
  exit 1
fi

# The server refuses to run as root: run its tools as the postgres user then.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p
  for p in 5432 $(seq 55432 55532); do
    if ! port_in_use "$p"; then
      echo "$p"
      return
    fi
  done
  log "no free port in 5432, 55432-55532"
  exit 1
}

running() {
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

psql_admin() {
  as_pg /usr/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$DATA" -p "$PORT" -U postgres -d postgres "$@"
}

if [[ "${1:-}" == stop ]]; then
  if [[ -d "$DATA" ]] && running; then
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  fi
  exit 0
fi

if [[ ! -f "$DATA/PG_VERSION" ]]; then
  rm -rf "$DATA"
  mkdir -p "$DATA"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$DATA"
  fi
  chmod 700 "$DATA"
  log "initdb $DATA"
  as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >&2
fi

if running; then
  PORT=$(sed -n 4p "$DATA/postmaster.pid")
  log "reusing the server on port $PORT"
else
  PORT=${HPT_PG_PORT:-$(free_port)}
  as_pg touch "$LOG" 2>/dev/null || { touch "$LOG" && chown postgres "$LOG"; }
  # Sockets in the data dir, so nothing needs /var/run/postgresql; fsync off: a test server.
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    start >&2 || {
    tail -n 20 "$LOG" >&2
    exit 1
  }
  log "started on port $PORT (log $LOG)"
fi

psql_admin <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hpt') THEN
    CREATE ROLE hpt LOGIN CREATEDB PASSWORD 'hpt';
  END IF;
END $$;
SQL
if [[ -z $(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = 'hpt_test'") ]]; then
  psql_admin -c "CREATE DATABASE hpt_test OWNER hpt"
fi

echo "export HPT_TEST_POSTGRES_URL=postgresql://hpt:hpt@127.0.0.1:$PORT/hpt_test"
