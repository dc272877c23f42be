#!/usr/bin/env bash
# `make up`: build the components, create the database if missing, serve the app on $LISTEN
# (default 127.0.0.1:3000) with `spin up` when the spin CLI is installed, else with the
# project's wasmtime host. Migrations (and the development seed) are applied by the app itself
# on its first readiness check, which this script performs before it says "ready".
set -euo pipefail
cd "$(dirname "$0")/.."

export LISTEN="${LISTEN:-127.0.0.1:3000}"
export SPIN_VARIABLE_DB_URL="${SPIN_VARIABLE_DB_URL:-postgres://postgres@127.0.0.1:5432/statuspage?sslmode=disable}"
# host:port of the database URL, for allowed_outbound_hosts.
if [[ -z "${SPIN_VARIABLE_DB_HOST:-}" ]]; then
  hostport="$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#' <<<"$SPIN_VARIABLE_DB_URL")"
  [[ "$hostport" == *:* ]] || hostport="$hostport:5432"
  export SPIN_VARIABLE_DB_HOST="$hostport"
fi
if [[ -z "${SPIN_VARIABLE_JWT_SECRET:-}" ]]; then
  echo "make up: SPIN_VARIABLE_JWT_SECRET is not set; using an insecure development secret" >&2
  export SPIN_VARIABLE_JWT_SECRET="insecure-local-development-secret-change-me"
fi
export SPIN_VARIABLE_DEV_SEED="${SPIN_VARIABLE_DEV_SEED:-true}"
export SPIN_VARIABLE_BASE_URL="${SPIN_VARIABLE_BASE_URL:-http://$LISTEN}"

make --no-print-directory build-components
cargo build --quiet -p statuspage-host
./target/debug/statuspage-host create-database

if command -v spin >/dev/null 2>&1; then
  echo "make up: serving with spin up" >&2
  spin up --listen "$LISTEN" -f spin.toml &
else
  echo "make up: spin CLI not found; serving with the wasmtime host (tests/host)" >&2
  ./target/debug/statuspage-host --listen "$LISTEN" -f spin.toml &
fi
server=$!
trap 'kill "$server" 2>/dev/null || true' INT TERM EXIT

for _ in $(seq 1 120); do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "make up: the server exited" >&2
    exit 1
  fi
  if curl -fsS "http://$LISTEN/readyz" >/dev/null 2>&1; then
    echo "make up: ready at http://$LISTEN (dev accounts: admin@example.com / admin123)" >&2
    wait "$server"
    exit $?
  fi
  sleep 0.5
done
echo "make up: not ready after 60 s; see http://$LISTEN/readyz" >&2
wait "$server"
