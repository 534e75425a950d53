#!/usr/bin/env bash
# Fuzzes the running server against its own OpenAPI document with schemathesis: starts the built
# herald binary on a free loopback port over a fresh SQLite database (and, when
# HERALD_TEST_POSTGRES_URL is set, once more over a fresh PostgreSQL database), seeds a little
# data, runs schemathesis with the conformance checks, stops the server. Exits non-zero on any
# failure.
#
#   HERALD_BIN            the herald binary (default .build/debug/herald)
#   HERALD_TEST_POSTGRES_URL  admin URL of a PostgreSQL server (scripts/postgres.sh start)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 15)
#   SCHEMATHESIS_EXTRA    extra arguments for `schemathesis run` (e.g. "--seed 1")
#   SCHEMATHESIS_ENGINES  which databases to run against (default "sqlite postgres")
set -euo pipefail

# SIGTERM (graceful shutdown), then SIGKILL if the server has not exited within 40 s.
stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 80); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "error: herald did not stop within 40 s of SIGTERM" >&2
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; return 1
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="${HERALD_BIN:-.build/debug/herald}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || { echo "error: $BIN is not built (swift build --product herald)" >&2; exit 1; }
SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-15}"
API_KEY="hk_schemathesis$(printf 'A%.0s' {1..28})"   # hk_ + 40 characters

if ! command -v schemathesis >/dev/null 2>&1 || [ "$(schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION" >&2
  PIP=$(command -v pip3 || command -v pip)
  "$PIP" install -q "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
command -v curl >/dev/null 2>&1 || { echo "error: curl is required" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/herald-schemathesis.XXXXXX")
SERVER_PID=""
PG_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then stop_server; fi
  if [ -n "$PG_DB" ]; then psql "$HERALD_TEST_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# api METHOD PATH [JSON]: a request with the key; prints the body; fails on a non-2xx status.
api() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -X "$method" -H "Authorization: Bearer $API_KEY" -w '\n%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  local out code
  out=$(curl "${args[@]}" "$BASE$path")
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  case "$code" in 2??) printf '%s' "$out" ;; *) echo "error: seeding $method $path -> $code $out" >&2; return 1 ;; esac
}
json_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

seed() {
  local list1 list2 c1 c2 c3 s1 s2 t1 t2 imp camp1 camp2
  c1=$(api POST /api/contacts '{"phone":"+19195550123","firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","city":"Raleigh","state":"NC","zip":"27601","tags":["vip","staff"],"customFields":{"team":"blue","score":7}}' | json_id)
  c2=$(api POST /api/contacts '{"phone":"(704) 555-0188","firstName":"Grace","lastName":"Hopper","state":"NC","tags":["vip"],"customFields":{"team":"red"}}' | json_id)
  c3=$(api POST /api/contacts '{"phone":"+14155550199","firstName":"Alan","timezone":"America/Los_Angeles","state":"CA","optedOut":true}' | json_id)
  list1=$(api POST /api/lists '{"name":"Newsletter","description":"Weekly"}' | json_id)
  list2=$(api POST /api/lists '{"name":"Empty list"}' | json_id)
  api POST "/api/lists/$list1/contacts" "{\"contactIds\":[\"$c1\",\"$c2\"]}" >/dev/null
  api POST "/api/lists/$list2/contacts" '{"phones":["+14155550199"]}' >/dev/null
  s1=$(api POST /api/segments '{"name":"VIPs in NC","filter":{"tags":["vip"],"state":["NC"],"conditions":[{"field":"customFields.team","op":"eq","value":"blue"}]}}' | json_id)
  s2=$(api POST /api/segments "{\"name\":\"Newsletter readers\",\"filter\":{\"listIds\":[\"$list1\"],\"conditions\":[{\"field\":\"createdAt\",\"op\":\"gte\",\"value\":\"2020-01-01T00:00:00Z\"}]}}" | json_id)
  t1=$(api POST /api/senders '{"channel":"text","address":"HERALD","provider":"simulator","label":"Brand"}' | json_id)
  t2=$(api POST /api/senders '{"channel":"email","address":"news@example.com","provider":"simulator"}' | json_id)
  api POST /api/organization/credits '{"amount":1000,"reason":"seed"}' >/dev/null
  imp=$(curl -sS -f -X POST -H "Authorization: Bearer $API_KEY" -H 'Content-Type: text/csv' --data-binary $'phone,firstName,team\n+13125550142,Imported,green\nnot-a-phone,Bad,x\n' \
    "$BASE/api/contacts/import?tags=imported&listId=$list1" | json_id)
  # A campaign waiting for its time (pause, resume, unschedule, cancel, test sends) and one that
  # goes out at once (duplicate, estimate, A/B winner, history).
  camp1=$(api POST /api/campaigns "{\"name\":\"Seeded scheduled\",\"message\":\"Hi {{firstName}}\",\"segmentId\":\"$s2\",\"scheduledFor\":\"2035-01-02T15:00:00Z\"}" | json_id)
  camp2=$(api POST /api/campaigns "{\"name\":\"Seeded sent\",\"message\":\"Hello\",\"listIds\":[\"$list1\"]}" | json_id)
  OWN_KEY_ID=$(api GET /api/api-keys | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  # Known ids for the fuzzer's hooks: about half of the generated requests on /api/<resource>/{id}
  # use one of them, so that they reach the operation instead of a 404.
  FUZZ_IDS="{\"contacts\":[\"$c1\",\"$c2\",\"$c3\"],\"lists\":[\"$list1\",\"$list2\"],\"segments\":[\"$s1\",\"$s2\"],\"senders\":[\"$t1\",\"$t2\"],\"contacts/imports\":[\"$imp\"],\"campaigns\":[\"$camp1\",\"$camp2\"]}"
  echo "seeded 3 contacts (+ an import), 2 lists, 2 segments, 2 senders, 2 campaigns; the fuzzer's own key is $OWN_KEY_ID" >&2
}

# run_against LABEL DATABASE_URL
run_against() {
  local label=$1 db=$2 port dir status
  port=$(free_port)
  dir="$WORK/$label"
  mkdir -p "$dir"
  BASE="http://127.0.0.1:$port"
  echo "==> schemathesis against herald on $BASE ($label)" >&2
  (cd "$dir" && exec env HERALD_BOOTSTRAP_API_KEY="$API_KEY" HERALD_RATE_LIMIT=100000 HERALD_RATE_LIMIT_BURST=100000 \
     HERALD_DATA_DIR="$dir/data" "$BIN" serve --host 127.0.0.1 --port "$port" --database "$db" >"$dir/server.log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "$BASE/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "error: herald exited:" >&2; cat "$dir/server.log" >&2; return 1; }
    sleep 0.2
  done
  curl -sf "$BASE/readyz" >/dev/null || { echo "error: herald did not become ready" >&2; cat "$dir/server.log" >&2; return 1; }
  seed
  set +e
  (cd "$dir" && PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks HERALD_FUZZ_OWN_KEY_ID="$OWN_KEY_ID" HERALD_FUZZ_IDS="$FUZZ_IDS" HERALD_FUZZ_BASE="$BASE" HERALD_FUZZ_KEY="$API_KEY" \
    schemathesis run "$BASE/openapi.json" \
      --header "Authorization: Bearer $API_KEY" \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
      --phases examples,coverage,fuzzing,stateful \
      --max-examples "$MAX_EXAMPLES" \
      --workers 1 \
      --request-timeout 20 \
      --suppress-health-check all \
      --generation-database none \
      --no-color \
      ${SCHEMATHESIS_EXTRA:-})
  status=$?
  set -e
  stop_server
  # The key came from HERALD_BOOTSTRAP_API_KEY: the server must never echo it (API.md §2).
  if grep -qF "$API_KEY" "$dir/server.log"; then
    echo "error: the server printed the bootstrap API key given in HERALD_BOOTSTRAP_API_KEY ($label)" >&2
    return 1
  fi
  if grep -q "request failed" "$dir/server.log"; then
    echo "server errors logged ($label):" >&2
    grep "request failed" "$dir/server.log" | head -20 >&2
  fi
  if [ "$status" -ne 0 ]; then
    echo "error: schemathesis found problems against $label (exit $status)" >&2
    return "$status"
  fi
  echo "schemathesis passed against $label" >&2
}

ENGINES="${SCHEMATHESIS_ENGINES:-sqlite postgres}"
case " $ENGINES " in *" sqlite "*) run_against sqlite "sqlite://$WORK/sqlite/h.db" ;; esac

if [ -n "${HERALD_TEST_POSTGRES_URL:-}" ] && [[ " $ENGINES " == *" postgres "* ]]; then
  command -v psql >/dev/null 2>&1 || PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  PG_DB="herald_st_$(date +%s)_$$"
  psql "$HERALD_TEST_POSTGRES_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null
  PG_URL=$(python3 - "$HERALD_TEST_POSTGRES_URL" "$PG_DB" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit
parts = urlsplit(sys.argv[1])
print(urlunsplit(parts._replace(path="/" + sys.argv[2])))
EOF
)
  run_against postgres "$PG_URL"
fi
echo "schemathesis: all runs passed" >&2
