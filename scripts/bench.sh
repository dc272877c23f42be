#!/usr/bin/env bash
# `make bench`: throughput and latency of the hot paths, measured with wrk on loopback against
# the wasmtime host (optimised build) serving the real components, on a seeded database.
# Bounded: each route runs DURATION seconds (default 10) with CONNECTIONS connections (default 16).
# The numbers are for this host, not for Spin; SPIN-NOTES.md has Spin's.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
PORT="${PORT:-3390}"
DB_NAME="statuspage_bench"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --quiet --profile bench-host -p statuspage-host
host=./target/bench-host/statuspage-host

export SPIN_VARIABLE_DB_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME?sslmode=disable"
export SPIN_VARIABLE_JWT_SECRET="bench-only-secret"
export SPIN_VARIABLE_DEV_SEED=true
"$host" create-database
"$host" --listen "127.0.0.1:$PORT" -f spin.toml 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done

printf '%-28s %12s %10s %10s\n' route "requests/s" "p50" "p99"
for route in /healthz /version /api/v1/services /api/v1/services/api /readyz; do
  curl -fs "http://127.0.0.1:$PORT$route" >/dev/null
  out="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT$route")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  printf '%-28s %12s %10s %10s\n' "$route" "$rps" "$p50" "$p99"
done
