#!/usr/bin/env bash
# `make bench`: throughput and latency of the hot paths, measured with wrk on loopback against
# the wasmtime host (optimised build) serving the real components, on a database seeded with
# 50 services and 500 past events (scripts/bench/seed.sql).
#
# - The public routes (/api/v2/summary.json, /api/v1/status, /) next to /healthz, the runtime's
#   floor (no database, no store), and next to nginx serving a static file of the same size:
#   both ratios are printed. Target: each public route at least 0.7x /healthz.
# - A write's latency (POST /api/v1/events, which refreshes the snapshot before it answers) and
#   whether the very next read shows it.
# - Sign-in latency (argon2id inside the component) and a few API reads.
# Bounded: each route runs DURATION seconds (default 10) with CONNECTIONS connections (default
# 64). The numbers are for this host, not for Spin.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
PORT="${PORT:-3390}"
NGINX_PORT="${NGINX_PORT:-3389}"
DB_NAME="statuspage_bench"

need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk
need nginx nginx-light
need psql postgresql-client
cargo build --quiet --profile bench-host -p statuspage-host
host=./target/bench-host/statuspage-host

export SPIN_VARIABLE_DB_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME?sslmode=disable"
export SPIN_VARIABLE_JWT_SECRET="bench-only-secret"
export SPIN_VARIABLE_DEV_SEED=true
# Writes run at full concurrency from one account: the per-principal and per-address limits
# would answer 429 within a second.
export SPIN_VARIABLE_RATE_LIMITS="authenticated_per_principal=10000000,writes_per_address=10000000"
DB="postgres://postgres@127.0.0.1:5432/$DB_NAME"
"$host" create-database --recreate
"$host" --listen "127.0.0.1:$PORT" -f spin.toml 2>/dev/null &
server=$!
scratch="$(mktemp -d)"
cleanup() {
  kill "$server" 2>/dev/null || true
  [[ -f "$scratch/nginx.pid" ]] && kill "$(cat "$scratch/nginx.pid")" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 60); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.5; done
psql -q "postgres://postgres@127.0.0.1:5432/$DB_NAME" -f scripts/bench/seed.sql
# The first public read finds an empty store and publishes the whole snapshot.
first="$(curl -s -o /dev/null -w '%{time_total}' "$base/api/v1/status")"
printf 'Data: %s services, %s events. First publication of the whole snapshot: %.0f ms\n\n' \
  "$(psql -At "postgres://postgres@127.0.0.1:5432/$DB_NAME" -c 'select count(*) from services')" \
  "$(psql -At "postgres://postgres@127.0.0.1:5432/$DB_NAME" -c 'select count(*) from events')" \
  "$(awk -v t="$first" 'BEGIN { print t * 1000 }')"

# Sign-in latency: argon2id (19 MiB, t=2) runs inside the auth component. Sequential, 8 per
# seeded account (24 in all, under the per-address sign-in limit of 30 per 15 minutes).
login_times=()
for account in admin@example.com operator@example.com user@example.com; do
  for _ in $(seq 1 8); do
    login_times+=("$(curl -s -o /dev/null -w '%{time_total}' -H 'content-type: application/json' \
      -d "{\"email\":\"$account\",\"password\":\"$( [[ $account == user@* ]] && echo user123 || echo admin123 )\"}" \
      "$base/api/v1/auth/login")")
  done
done
printf '%s\n' "${login_times[@]}" | sort -n | awk '{ t[NR] = $1 * 1000 } END {
  printf "POST /api/v1/auth/login (argon2id in wasm): median %.1f ms, p90 %.1f ms, min %.1f ms over %d sequential sign-ins\n\n",
    t[int(NR / 2) + 1], t[int(NR * 0.9)], t[1], NR }'

# Writes: each refreshes the snapshot (under the advisory lock) before it answers, so the next
# read must show it.
token="$(curl -s -H 'content-type: application/json' -d '{"email":"admin@example.com","password":"admin123"}' \
  "$base/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
service="$(psql -At "postgres://postgres@127.0.0.1:5432/$DB_NAME" -c "select id from services where slug = 'service-1'")"
write_times=()
visible=0
for i in $(seq 1 10); do
  write_times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d "{\"title\":\"Benchmark write $i\",\"type\":\"incident\",\"status\":\"investigating\",\"severity\":\"minor\",
         \"affected_services\":[{\"service_id\":\"$service\",\"status\":\"degraded\"}]}" "$base/api/v1/events")")
  curl -s "$base/api/v1/status" | grep -q "\"Benchmark write $i\"" && visible=$((visible + 1))
done
printf '%s\n' "${write_times[@]}" | sort -n | awk -v visible="$visible" '{ t[NR] = $1 * 1000 } END {
  printf "POST /api/v1/events (write + snapshot refresh): median %.1f ms, max %.1f ms; visible on the next read: %d of %d\n\n",
    t[int(NR / 2) + 1], t[NR], visible, NR }'

# nginx serving static files of the same sizes as the public documents.
mkdir -p "$scratch/www" "$scratch/tmp"
routes=(/api/v2/summary.json /api/v1/status /)
# Sizes taken once: a page's relative times ("3 minutes ago") can change its length later.
declare -A sizes
for route in "${routes[@]}"; do
  sizes[$route]="$(curl -s "$base$route" | wc -c)"
  head -c "${sizes[$route]}" /dev/zero | tr '\0' 'x' > "$scratch/www/${sizes[$route]}.txt"
done
cat > "$scratch/nginx.conf" <<EOF
worker_processes 2;
pid $scratch/nginx.pid;
error_log $scratch/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $scratch/tmp; proxy_temp_path $scratch/tmp; fastcgi_temp_path $scratch/tmp;
  uwsgi_temp_path $scratch/tmp; scgi_temp_path $scratch/tmp;
  server { listen 127.0.0.1:$NGINX_PORT; root $scratch/www; }
}
EOF
chmod -R a+rX "$scratch"  # nginx's workers run as another user
nginx -c "$scratch/nginx.conf"

# wrk on `$1` (more wrk arguments after it): sets `rps` and `p99`, and `peak`, the most
# PostgreSQL connections the app held at once (pg_stat_activity, sampled every 100 ms); stops
# the benchmark if any answer was not a 2xx.
measure() {
  local out url="$1" samples="$scratch/connections"
  shift
  : >"$samples"
  (while :; do
    psql -At "$DB" -c "select count(*) from pg_stat_activity where datname = '$DB_NAME' and pid <> pg_backend_pid()" \
      >>"$samples" 2>/dev/null
    sleep 0.1
  done) &
  local sampler=$!
  out="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url")"
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  if grep -q 'Non-2xx' <<<"$out"; then echo "error: $url answered non-2xx under load:" >&2; echo "$out" >&2; exit 1; fi
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  peak="$(sort -n "$samples" | tail -n 1)"
}

printf 'At %s connections, %s s each, wrk and the server on the same cores:\n' "$CONNECTIONS" "$DURATION"
measure "$base/healthz"
floor="$rps" floor_p99="$p99"
printf '%-28s %9s %12s %10s %10s %12s %10s\n' route bytes "requests/s" p99 "x healthz" "nginx req/s" "x nginx"
printf '%-28s %9s %12s %10s %10s %12s %10s\n' /healthz "$(curl -s "$base/healthz" | wc -c)" "$floor" "$floor_p99" 1.00 - -
for route in "${routes[@]}"; do
  size="${sizes[$route]}"
  measure "http://127.0.0.1:$NGINX_PORT/$size.txt"
  nginx_rps="$rps"
  measure "$base$route"
  printf '%-28s %9s %12s %10s %10.2f %12s %10.2f\n' "$route" "$size" "$rps" "$p99" \
    "$(awk -v a="$rps" -v b="$floor" 'BEGIN { print a / b }')" "$nginx_rps" \
    "$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN { print a / b }')"
done

printf '\nAPI reads (from PostgreSQL) and writes; the last column is the connection budget:\n'
printf '%-32s %12s %10s %14s\n' route "requests/s" p99 "PG connections"
for route in /api/v1/services /api/v1/services/service-1 /readyz; do
  measure "$base$route"
  printf '%-32s %12s %10s %14s\n' "GET $route" "$rps" "$p99" "$peak"
done
# Writes at full concurrency: each is one transaction and then a snapshot refresh under an
# advisory lock, so they queue on the lock while holding a connection.
cat >"$scratch/write.lua" <<EOF
wrk.method = "PATCH"
wrk.headers["authorization"] = "Bearer $token"
wrk.headers["content-type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local status = (n % 2 == 0) and "degraded" or "operational"
  return wrk.format(nil, nil, nil, '{"status":"' .. status .. '","reason":"benchmark"}')
end
EOF
measure "$base/api/v1/services/service-2" -s "$scratch/write.lua"
printf '%-32s %12s %10s %14s\n' "PATCH /api/v1/services/:slug" "$rps" "$p99" "$peak"
