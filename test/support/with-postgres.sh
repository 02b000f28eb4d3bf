#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 (test/support/postgres-server.sh) and SKYRELAY_TEST_DATABASE_URL and
# SKYRELAY_TEST_PG_DATA set for it; stops the server and removes its data when the command ends, however it ends,
# and exits with the command's status. `npm run test:postgres` is `with-postgres.sh npm test`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]   e.g. $0 npm test" >&2; exit 2; }

pg_env=$("$here/postgres-server.sh" start)
eval "$pg_env"
trap 'rc=$?; "$here/postgres-server.sh" stop || true; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$@"
