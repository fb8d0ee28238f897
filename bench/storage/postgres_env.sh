# Sourced by the storage benchmarks, in the repository root: HPT (the hpt binary; HPT_BIN
# overrides build/app/hpt), a running PostgreSQL server (scripts/start-postgres.sh:
# HPT_TEST_POSTGRES_URL; BASE, its URL without the database), WORK (a temporary folder,
# removed at exit) and pg_db NAME (a fresh, empty database NAME; prints its URL).
HPT=$(realpath "${HPT_BIN:-build/app/hpt}")
eval "$(scripts/start-postgres.sh 2>/dev/null)"
BASE=${HPT_TEST_POSTGRES_URL%/*}
export PGOPTIONS="-c client_min_messages=warning"
WORK=$(mktemp -d /tmp/hpt-bench-storage-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pg_db() {
  PGPASSWORD=hpt psql -XAtq "$HPT_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
  PGPASSWORD=hpt psql -XAtq "$HPT_TEST_POSTGRES_URL" -c "CREATE DATABASE $1"
  echo "$BASE/$1"
}
