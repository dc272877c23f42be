#!/usr/bin/env bash
# `make contract` (part of `make test`): the API against its own contract. Schemathesis reads
# api/openapi.yaml and fuzzes every operation of the real components in the wasmtime host, on
# a fresh database with the development seed, four times: anonymously, then signed in as the
# seed's user, operator and admin (the admin last: its requests change the most). Every answer
# must be one the document allows (status, content type, headers, body schema), never a 5xx,
# and requests the document calls invalid must be refused. The per-operation exceptions, each
# with its reason, are in tests/contract/schemathesis.toml. Before the runs, one resource of each
# kind is created (tests/contract/fixtures.py), and the fuzzer names them beside its inventions.
#
# MAX_EXAMPLES (default 25) sets the generated cases per operation and phase. The seed is fixed
# so that CI is reproducible; SEED=<n> tries another, SEED= a random one (printed in the report).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-3394}"
STANDIN_PORT="${STANDIN_PORT:-3397}"
MAX_EXAMPLES="${MAX_EXAMPLES:-25}"
SEED="${SEED-20261205}"
SCHEMATHESIS_VERSION="4.32.5"
DB="postgres://postgres@127.0.0.1:5432/statuspage_contract"
base="http://127.0.0.1:$PORT"
venv=.tools/venv
log="${HOST_LOG:-target/contract-host.log}"

say() { echo "make contract: $*" >&2; }
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need curl curl

# Schemathesis, pinned, in a virtual environment under .tools/ (git-ignored).
if [[ "$("$venv/bin/st" --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  python3 -m venv "$venv" 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet -p statuspage-host
host=./target/debug/statuspage-host

export SPIN_VARIABLE_DB_URL="$DB?sslmode=disable"
export SPIN_VARIABLE_JWT_SECRET="contract-only-secret"
export SPIN_VARIABLE_DEV_SEED=true
# Every channel type on, so their routes are fuzzed as they run in production: e-mail through
# SendGrid's API, Telegram and webhooks, all answered by a loopback stand-in.
standin="http://127.0.0.1:$STANDIN_PORT"
source scripts/bench/standin.env.sh
# The fuzzer sends thousands of requests from one address in minutes; the limits themselves are
# tested in tests/e2e/identity.rs. 429 stays a documented answer everywhere regardless.
export SPIN_VARIABLE_RATE_LIMITS="sign_in_per_account=100000,sign_in_per_address=100000,reset_per_account=100000,reset_per_address=100000,sign_up_per_address=100000,subscribe_per_address=100000,authenticated_per_principal=100000,writes_per_address=100000,webhooks_per_address=100000,webhooks_per_integration=100000"

"$host" create-database --recreate
mkdir -p "$(dirname "$log")"
python3 scripts/bench/standin.py "$STANDIN_PORT" &
standin_pid=$!
"$host" --listen "127.0.0.1:$PORT" -f spin.toml 2>"$log" &
server=$!
trap 'kill "$server" "$standin_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.5; done
curl -fs "$base/readyz" >/dev/null || { say "the host did not become ready; its log is $log"; exit 1; }

# One resource of each kind, so that operations on existing ones are fuzzed too (not only 404s).
export CONTRACT_FIXTURES=target/contract-fixtures.json
"$venv/bin/python" tests/contract/fixtures.py "$base" "$CONTRACT_FIXTURES" "$standin/hook"

sign_in() {
  curl -s -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" "$base/api/v1/auth/login" \
    | sed -nE 's/.*"access_token":"([^"]+)".*/\1/p'
}

failed=()
fuzz() { # $1 who, then extra schemathesis arguments
  local who="$1"
  shift
  say "fuzzing every operation as $who"
  local out="target/contract-$who.txt"
  if "$venv/bin/st" --config-file tests/contract/schemathesis.toml run api/openapi.yaml --url "$base" \
    --phases examples,coverage,fuzzing --max-examples "$MAX_EXAMPLES" \
    ${SEED:+--seed "$SEED"} --no-color "$@" >"$out" 2>&1; then
    grep -E "^Test cases:" -A1 "$out" | tail -n 1 | sed "s/^ */make contract: $who: /" >&2
  else
    cat "$out"
    failed+=("$who")
  fi
}

fuzz anonymous
for account in user:user@example.com:user123 operator:operator@example.com:admin123 admin:admin@example.com:admin123; do
  IFS=: read -r who email password <<<"$account"
  token="$(sign_in "$email" "$password")"
  [[ -n "$token" ]] || { say "could not sign in as $email"; exit 1; }
  # Signing out, or resetting one's own sessions, would leave the rest of the run anonymous.
  fuzz "$who" -H "Authorization: Bearer $token" --exclude-operation-id logout
done

if [[ ${#failed[@]} -gt 0 ]]; then
  say "the API broke its contract as: ${failed[*]} (reports above; the host's log is $log)"
  exit 1
fi
say "every operation kept the contract as anonymous, user, operator and admin"
