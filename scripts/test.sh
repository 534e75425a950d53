#!/usr/bin/env bash
# Runs every Herald test, installing and starting what the tests need on a fresh machine:
# the SQLite headers, a scratch PostgreSQL on loopback, the Python tools for the cross-checks
# (smpplib) and the API fuzzer (schemathesis). Every suite must run: a missing peer is a failure,
# not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/herald-test.XXXXXX)
export TMPDIR="$WORK"

step() { printf '\n==> %s\n' "$*"; }
need_apt=()
pkg-config --exists sqlite3 2>/dev/null || need_apt+=(libsqlite3-dev)
command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1 || need_apt+=(python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
PIP=$(command -v pip3 || command -v pip)

step "starting PostgreSQL"
# Not `export X=$(…)`: that hides the command's failure from `set -e`.
HERALD_TEST_POSTGRES_URL=$(scripts/postgres.sh start) || { echo "error: PostgreSQL is required and could not be started"; exit 1; }
export HERALD_TEST_POSTGRES_URL
export HERALD_REQUIRE_POSTGRES=1
echo "PostgreSQL at $HERALD_TEST_POSTGRES_URL"

step "preparing the smpplib segment cross-check corpus"
python3 -c 'import smpplib' 2>/dev/null || "$PIP" install -q smpplib==2.2.4
export HERALD_SEGMENT_CROSSCHECK="$WORK/segment-crosscheck.json"
python3 scripts/segments/crosscheck.py "$HERALD_SEGMENT_CROSSCHECK"

step "building"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "error: the build failed"; exit 1; }

step "running the Swift test suites (SQLite and PostgreSQL)"
# A run takes 1.5–3 minutes; a hang must fail the run with the tests that hung, not use up CI's
# time. `timeout` signals its whole process group, the test runner swift test starts included.
SWIFT_TEST_LIMIT="${HERALD_SWIFT_TEST_LIMIT:-1200}"
set +e
timeout --kill-after=30 "$SWIFT_TEST_LIMIT" swift test --skip-build 2>&1 | tee "$WORK/swift-test.log" | grep --line-buffered -vE '^(\[|Test Case .* (started|passed))'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  if grep -qE '^[^ ]+ Test run with [0-9]+ tests? in [0-9]+ suites? passed' "$WORK/swift-test.log"; then
    # Every test ran and passed; only the test process's exit did not come.
    echo "warning: every test passed, but the test process did not exit within $SWIFT_TEST_LIMIT s"
  else
    echo "error: swift test did not finish within $SWIFT_TEST_LIMIT s"
    python3 scripts/unfinished_tests.py "$WORK/swift-test.log"
    exit 1
  fi
elif [ "$status" -ne 0 ]; then echo "error: swift test failed ($status)"; exit "$status"; fi
if grep -q "PostgreSQL tests skipped" "$WORK/swift-test.log"; then
  echo "error: the PostgreSQL suites did not run"; exit 1
fi
if grep -q "HERALD_SEGMENT_CROSSCHECK is not set" "$WORK/swift-test.log"; then
  echo "error: the segment cross-check did not run"; exit 1
fi

step "fuzzing the running server against its OpenAPI document (schemathesis, SQLite and PostgreSQL)"
HERALD_BIN="$ROOT/.build/debug/herald" SCHEMATHESIS_MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-10}" \
  timeout --kill-after=30 1800 scripts/schemathesis.sh

step "crash test on SQLite: kill -9 during a campaign, restart, every phone exactly once"
timeout --kill-after=30 1800 python3 scripts/crash_test.py --engine sqlite --binary "$ROOT/.build/debug/herald" \
  --contacts "${HERALD_CRASH_CONTACTS:-200000}" --kills 10

step "crash test on PostgreSQL: one api and three worker processes, one worker killed"
# The three workers share the simulator's record (one SQLite file). HERALD_CRASH_PG_CONTACTS
# sizes the audience (see the README for the time it takes).
timeout --kill-after=30 1800 python3 scripts/crash_test.py --engine postgres --workers 3 --binary "$ROOT/.build/debug/herald" \
  --admin-url "$HERALD_TEST_POSTGRES_URL" --contacts "${HERALD_CRASH_PG_CONTACTS:-200000}" --kills 10

step "all test suites passed"
