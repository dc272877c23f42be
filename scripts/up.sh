#!/usr/bin/env bash
# `make up`: build the components, make sure a PostgreSQL server answers (starting a private one
# when none does and PostgreSQL is installed), create the database if missing, and serve the app
# on $LISTEN (default 127.0.0.1:3000) with `spin up` when the spin CLI is installed, else with
# the project's wasmtime host. Migrations (and the development seed) are applied by the app
# itself on its first readiness check, which this script performs before it says "ready".
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "make up: $*" >&2; }

export LISTEN="${LISTEN:-127.0.0.1:3000}"
PGPORT="${PGPORT:-5432}"
private_pg=""
private_data="${STATUSPAGE_PG_DATA:-$PWD/.data/postgres}"

pg_answers() { pg_isready -q -h "$1" -p "$2" 2>/dev/null; }

# A private PostgreSQL in .data/postgres (git-ignored), on a free port, trust authentication on
# loopback only, stopped when make up stops. For a first run on a machine where PostgreSQL is
# installed but no server answers.
start_private_postgres() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -x "$bin/initdb" ]] || bin="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
  if [[ ! -x "$bin/initdb" ]]; then
    say "no PostgreSQL server answers on 127.0.0.1:$PGPORT and PostgreSQL is not installed: install it (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) or set SPIN_VARIABLE_DB_URL to a server you have."
    exit 1
  fi
  # PostgreSQL refuses to run as root: run it as the postgres user when we are root.
  local as=()
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || { say "running as root and there is no postgres user to run PostgreSQL as"; exit 1; }
    as=(runuser -u postgres --)
  fi
  mkdir -p "$private_data"
  [[ ${#as[@]} -eq 0 ]] || chown -R postgres "$private_data"
  if [[ ! -f "$private_data/PG_VERSION" ]]; then
    say "no PostgreSQL server answers on 127.0.0.1:$PGPORT: creating a private one in $private_data"
    "${as[@]}" "$bin/initdb" -D "$private_data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  PGPORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as[@]}" "$bin/pg_ctl" -D "$private_data" -l "$private_data/server.log" -w \
    -o "-h 127.0.0.1 -p $PGPORT -k $private_data" start >/dev/null
  private_pg="${as[*]:+${as[*]} }$bin/pg_ctl -D $private_data -m fast stop"
  say "started a private PostgreSQL on 127.0.0.1:$PGPORT (data in $private_data; it stops with make up)"
}

if [[ -z "${SPIN_VARIABLE_DB_URL:-}" ]] && ! pg_answers 127.0.0.1 "$PGPORT"; then
  start_private_postgres
fi
server=""
cleanup() {
  [[ -z "$server" ]] || kill "$server" 2>/dev/null || true
  [[ -z "$server" ]] || wait "$server" 2>/dev/null || true
  if [[ -n "$private_pg" ]]; then
    $private_pg >/dev/null 2>&1 || true
    say "stopped the private PostgreSQL"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export SPIN_VARIABLE_DB_URL="${SPIN_VARIABLE_DB_URL:-postgres://postgres@127.0.0.1:$PGPORT/statuspage?sslmode=disable}"
# host:port of the database URL, for allowed_outbound_hosts.
if [[ -z "${SPIN_VARIABLE_DB_HOST:-}" ]]; then
  hostport="$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#' <<<"$SPIN_VARIABLE_DB_URL")"
  [[ "$hostport" == *:* ]] || hostport="$hostport:5432"
  export SPIN_VARIABLE_DB_HOST="$hostport"
fi
if [[ -z "${SPIN_VARIABLE_JWT_SECRET:-}" ]]; then
  say "SPIN_VARIABLE_JWT_SECRET is not set; using an insecure development secret"
  export SPIN_VARIABLE_JWT_SECRET="insecure-local-development-secret-change-me"
fi
export SPIN_VARIABLE_DEV_SEED="${SPIN_VARIABLE_DEV_SEED:-true}"
export SPIN_VARIABLE_BASE_URL="${SPIN_VARIABLE_BASE_URL:-http://$LISTEN}"

if [[ ! -f target/wasm32-wasip2/release/auth.wasm ]]; then
  say "building the six components for wasm32-wasip2 (first run: about 2 minutes on 2 cores)"
fi
make --no-print-directory build-components
host=./target/debug/statuspage-host
if [[ ! -x "$host" ]]; then
  if command -v spin >/dev/null 2>&1; then
    say "building the small database tool (the spin CLI serves the app)"
  else
    say "first run: building the local Spin-compatible host (wasmtime), about 9 minutes on 2 cores; install the spin CLI to skip this"
  fi
fi
cargo build -p statuspage-host
"$host" create-database

if command -v spin >/dev/null 2>&1; then
  say "serving with spin up"
  spin up --listen "$LISTEN" -f spin.toml &
else
  say "spin CLI not found; serving with the wasmtime host (tests/host)"
  "$host" --listen "$LISTEN" -f spin.toml &
fi
server=$!

for _ in $(seq 1 120); do
  if ! kill -0 "$server" 2>/dev/null; then
    say "the server exited"
    exit 1
  fi
  if curl -fsS "http://$LISTEN/readyz" >/dev/null 2>&1; then
    say "ready at http://$LISTEN (dev accounts: admin@example.com / admin123)"
    wait "$server"
    exit $?
  fi
  sleep 0.5
done
say "not ready after 60 s; see http://$LISTEN/readyz"
wait "$server"
