#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: its own data folder in a temp folder, listening on 127.0.0.1 only, on a
# free port, trust auth, superuser "postgres". Installs nothing: the binaries must already be there
# (Debian's postgresql-15; .ci/run installs them with apt-get when they are missing).
#
#   test/support/postgres-server.sh start        creates, starts and waits for a server; prints to stdout
#                                                  export SKYRELAY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres
#                                                  export SKYRELAY_TEST_PG_DATA=/tmp/skyrelay-pg.XXXXXX/data
#                                                so a caller does:  env=$(test/support/postgres-server.sh start); eval "$env"
#   test/support/postgres-server.sh stop [DATA]  pg_ctl stop -m fast, then removes the temp folder (idempotent)
#   test/support/postgres-server.sh down [DATA]  stops the server but keeps its data, port and folder (outage tests)
#   test/support/postgres-server.sh up [DATA]    starts it again on the same port and data, and waits for it
#
# DATA defaults to $SKYRELAY_TEST_PG_DATA. Every setting the server needs (port, listen address, socket folder) is
# written to DATA/postgresql.conf, so "up" after "down" comes back exactly where it was. fsync and the other
# durability settings stay at PostgreSQL's defaults: the tests should see the server operators run.
#
# Environment: SKYRELAY_TEST_PG_BIN (default /usr/lib/postgresql/15/bin), SKYRELAY_TEST_PG_USER (default postgres:
# the OS user the server runs as when this script runs as root, since initdb and pg_ctl refuse root; a non-root
# caller runs the server as itself), SKYRELAY_TEST_PG_WAIT_S (default 30: the longest wait for the server to accept
# connections or to stop).
set -euo pipefail

PG_BIN=${SKYRELAY_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${SKYRELAY_TEST_PG_USER:-postgres}
WAIT_S=${SKYRELAY_TEST_PG_WAIT_S:-30}
# Marks a folder this script made, so "stop" never removes a folder a wrong DATA points at.
MARKER=.skyrelay-test-postgres

log() { echo "postgres-server: $*" >&2; }
die() { log "$*"; exit 1; }

# Runs a PostgreSQL program as the server's OS user, from a folder that user can read.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u "$PG_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

check_binaries() {
  local b
  for b in initdb pg_ctl pg_isready postgres; do
    [ -x "$PG_BIN/$b" ] || die "$PG_BIN/$b is missing: install PostgreSQL 15 (apt-get install postgresql) or set SKYRELAY_TEST_PG_BIN"
  done
  if [ "$(id -u)" = 0 ]; then
    id -u "$PG_USER" >/dev/null 2>&1 || die "running as root, but there is no OS user '$PG_USER' to run the server as (set SKYRELAY_TEST_PG_USER)"
  fi
}

# Resolves DATA from $1 or $SKYRELAY_TEST_PG_DATA and checks it is one of ours.
data_dir() {
  local data=${1:-${SKYRELAY_TEST_PG_DATA:-}}
  [ -n "$data" ] || die "no data folder: pass it or set SKYRELAY_TEST_PG_DATA (printed by '$0 start')"
  [ -f "$(dirname "$data")/$MARKER" ] || die "$data was not made by $0; refusing to touch it"
  echo "$data"
}

port_of() { sed -n 's/^port = \([0-9]*\)$/\1/p' "$1/postgresql.conf" | tail -n 1; }

# Nothing answering on 127.0.0.1:PORT right now (the server itself still reports a taken port; start retries).
port_looks_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pg_ctl -w already waits until the server answers on its socket; this also checks the TCP address tests use.
wait_ready() {
  local port=$1 deadline=$((SECONDS + WAIT_S))
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 1; do
    [ "$SECONDS" -lt "$deadline" ] || { log "not accepting connections on 127.0.0.1:$port after ${WAIT_S}s"; return 1; }
    sleep 0.2
  done
}

# pg_ctl start, waiting at most WAIT_S seconds; the server's log goes next to the data folder.
pg_start() {
  local data=$1
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$(dirname "$data")/server.log" -w -t "$WAIT_S" start >/dev/null
}

cmd_start() {
  check_binaries
  local data port attempt
  # Global, not local: the EXIT trap below reads it after a failure anywhere in this function.
  base=$(mktemp -d "${TMPDIR:-/tmp}/skyrelay-pg.XXXXXX")
  # From here on, any failure removes what was made: a caller whose start failed has nothing to stop.
  trap 'as_pg "$PG_BIN/pg_ctl" -D "$base/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$base"' EXIT
  touch "$base/$MARKER"
  if [ "$(id -u)" = 0 ]; then chown "$PG_USER" "$base"; fi
  data=$base/data
  as_pg "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C >"$base/initdb.log" 2>&1 ||
    { cat "$base/initdb.log" >&2; die "initdb failed"; }

  # A random port below Linux's ephemeral range (32768+), so an outgoing connection is unlikely to take it while an
  # outage test has the server down; if another server holds it, the server says so and we try another.
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 12000))
    port_looks_free "$port" || continue
    rm -f "$base/server.log"
    cat >>"$data/postgresql.conf" <<EOF

# skyrelay test server (test/support/postgres-server.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base'
port = $port
EOF
    if pg_start "$data"; then
      wait_ready "$port" || die "see $base/server.log"
      trap - EXIT
      log "PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') ready at postgres://postgres@127.0.0.1:$port/postgres (data $data)"
      echo "export SKYRELAY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
      echo "export SKYRELAY_TEST_PG_DATA=$data"
      return 0
    fi
    if grep -q 'could not bind\|Address already in use' "$base/server.log" 2>/dev/null; then
      log "port $port is taken (attempt $attempt); trying another"
      continue
    fi
    cat "$base/server.log" >&2 2>/dev/null || true
    die "the server did not start"
  done
  die "no free port found after $attempt attempts"
}

cmd_down() {
  local data
  data=$(data_dir "${1:-}")
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t "$WAIT_S" stop >/dev/null ||
      as_pg "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t "$WAIT_S" stop >/dev/null
  fi
}

cmd_up() {
  local data port
  check_binaries
  data=$(data_dir "${1:-}")
  port=$(port_of "$data")
  # Already running (say a test's stop failed halfway): nothing to start, only the wait.
  as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1 ||
    pg_start "$data" || { tail -n 20 "$(dirname "$data")/server.log" >&2; die "the server did not start again"; }
  wait_ready "$port"
}

cmd_stop() {
  local data=${1:-${SKYRELAY_TEST_PG_DATA:-}}
  # Idempotent: nothing to stop when nothing was started, or when it was already stopped and removed.
  [ -n "$data" ] && [ -d "$data" ] || return 0
  data=$(data_dir "$data")
  cmd_down "$data" || log "pg_ctl stop failed; removing $data anyway"
  rm -rf "$(dirname "$data")"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop "${2:-}" ;;
  down) cmd_down "${2:-}" ;;
  up) cmd_up "${2:-}" ;;
  *) die "usage: $0 start | stop [DATA] | down [DATA] | up [DATA]" ;;
esac
