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
"$host" create-database --recreate
"$host" --listen "127.0.0.1:$PORT" -f spin.toml 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done

# Sign-in latency: argon2id (19 MiB, t=2) runs inside the auth component. Sequential, 8 per
# seeded account (24 in all, under the per-address sign-in limit of 30 per 15 minutes).
login_times=()
for account in admin@example.com operator@example.com user@example.com; do
  for _ in $(seq 1 8); do
    login_times+=("$(curl -s -o /dev/null -w '%{time_total}' -H 'content-type: application/json' \
      -d "{\"email\":\"$account\",\"password\":\"$( [[ $account == user@* ]] && echo user123 || echo admin123 )\"}" \
      "http://127.0.0.1:$PORT/api/v1/auth/login")")
  done
done
printf '%s\n' "${login_times[@]}" | sort -n | awk '{ t[NR] = $1 * 1000 } END {
  printf "POST /api/v1/auth/login (argon2id in wasm): median %.1f ms, p90 %.1f ms, min %.1f ms over %d sequential sign-ins\n\n",
    t[int(NR / 2) + 1], t[int(NR * 0.9)], t[1], NR }'

printf '%-28s %12s %10s %10s\n' route "requests/s" "p50" "p99"
for route in /healthz /version /api/v1/services /api/v1/services/api /readyz; do
  curl -fs "http://127.0.0.1:$PORT$route" >/dev/null
  out="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT$route")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  printf '%-28s %12s %10s %10s\n' "$route" "$rps" "$p50" "$p99"
done
