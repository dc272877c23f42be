#!/usr/bin/env bash
# `make bench-notify`: how fast notifications go out, end to end, through the real components in
# the wasmtime host (optimised build) and a loopback stand-in for SendGrid and the Telegram Bot
# API (scripts/bench/standin.py, which counts what it receives and when).
#
# - The latency of an incident write (POST /api/v1/events with notify_subscribers) with no
#   subscriber and with EMAILS (default 10,000) verified e-mail subscribers: the write queues
#   one outbox row per subscriber in its own transaction, so this is the cost of the fan-out.
# - From that write to the last of the EMAILS recipients reaching the relay (SendGrid's batch
#   API, 1,000 recipients a request). Target: under 30 s.
# - CHATS (default 1,000) Telegram chats: the time to the last message, the rate, and the most
#   messages the stand-in saw in any one second (the Bot API allows about 30).
# The numbers are for this host on this machine, not for Spin.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-3391}"
STANDIN_PORT="${STANDIN_PORT:-3392}"
EMAILS="${EMAILS:-10000}"
CHATS="${CHATS:-1000}"
DB_NAME="statuspage_bench_notify"
DB="postgres://postgres@127.0.0.1:5432/$DB_NAME"

need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need psql postgresql-client
need curl curl
cargo build --quiet --profile bench-host -p statuspage-host
host=./target/bench-host/statuspage-host
standin="http://127.0.0.1:$STANDIN_PORT"

export SPIN_VARIABLE_DB_URL="$DB?sslmode=disable"
export SPIN_VARIABLE_JWT_SECRET="bench-only-secret"
export SPIN_VARIABLE_DEV_SEED=true
source scripts/bench/standin.env.sh

python3 scripts/bench/standin.py "$STANDIN_PORT" &
standin_pid=$!
"$host" create-database --recreate
"$host" --listen "127.0.0.1:$PORT" -f spin.toml 2>"${HOST_LOG:-/dev/null}" &
server=$!
trap 'kill "$server" "$standin_pid" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 60); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.5; done

token="$(curl -s -H 'content-type: application/json' -d '{"email":"admin@example.com","password":"admin123"}' \
  "$base/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
stat() { curl -s "$standin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'] or 0)"; }
now() { date +%s.%N; }
# POST an incident that notifies; prints the request's time in seconds.
write() {
  curl -s -o /dev/null -w '%{time_total}' -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"title\":\"Benchmark $1\",\"type\":\"incident\",\"status\":\"investigating\",\"severity\":\"major\",\"notify_subscribers\":true}" \
    "$base/api/v1/events"
}
# Waits until the stand-in's counter `$1` reaches `$2` (at most 180 s).
wait_for() {
  for _ in $(seq 1 1800); do [[ "$(stat "$1")" -ge "$2" ]] && return 0; sleep 0.1; done
  echo "error: only $(stat "$1") of $2 arrived within 180 s" >&2; exit 1
}
median() { sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "%.1f", t[int((NR + 1) / 2)] }'; }

empty=()
for i in $(seq 1 10); do empty+=("$(write "empty $i")"); done
printf 'Incident write, no subscriber: median %s ms over %d writes\n' "$(printf '%s\n' "${empty[@]}" | median)" "${#empty[@]}"

psql -q "$DB" -c "insert into channels (type, target, verified_at)
                  select 'email', 'reader' || n || '@bench.test', now() from generate_series(1, $EMAILS) n"
full=()
for i in 1 2 3; do
  curl -s -X POST "$standin/reset" >/dev/null
  started="$(now)"
  full+=("$(write "fan-out $i")")
  wait_for emails "$EMAILS"
  last="$(stat last_email)"
  printf 'Run %d: %d e-mails in %d relay requests; the last reached the relay %.2f s after the write began\n' \
    "$i" "$(stat emails)" "$(stat email_requests)" "$(awk -v a="$last" -v b="$started" 'BEGIN { print a - b }')"
done
printf 'Incident write, %d e-mail subscribers: median %s ms over %d writes\n\n' "$EMAILS" \
  "$(printf '%s\n' "${full[@]}" | median)" "${#full[@]}"

psql -q "$DB" -c "update channels set enabled = false where type = 'email';
                  insert into channels (user_id, type, target, verified_at)
                  select (select id from users where email = 'user@example.com'), 'telegram', (100000 + n)::text, now()
                  from generate_series(1, $CHATS) n"
curl -s -X POST "$standin/reset" >/dev/null
started="$(now)"
write "telegram" >/dev/null
wait_for telegrams "$CHATS"
first="$(stat first_telegram)" last="$(stat last_telegram)"
printf 'Telegram: %d chats; the last message %.1f s after the write; %.1f messages/s; at most %d in any one second\n' \
  "$CHATS" "$(awk -v a="$last" -v b="$started" 'BEGIN { print a - b }')" \
  "$(awk -v n="$CHATS" -v a="$last" -v b="$first" 'BEGIN { print (n - 1) / (a - b) }')" "$(stat telegram_peak_per_second)"
