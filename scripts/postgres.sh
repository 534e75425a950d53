#!/usr/bin/env bash
# Starts (or stops) a scratch PostgreSQL server on loopback for the tests, installing the Debian
# package when it is missing. Prints the admin URL on stdout for `start`.
#   scripts/postgres.sh start   -> postgres://postgres@127.0.0.1:$PORT/postgres
#   scripts/postgres.sh stop
set -euo pipefail
# Below Linux's ephemeral range (32768–60999), so no client socket of the tests can hold it.
PORT="${HERALD_PG_PORT:-25432}"
DIR="${HERALD_PG_DIR:-/tmp/herald-pg}"
SOCK="$DIR-sock"

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi
}

case "${1:-start}" in
  start)
    BIN="$(find_bin)"
    if [ -z "$BIN" ] || [ ! -x "$BIN/pg_ctl" ]; then
      echo "installing PostgreSQL (Debian package postgresql)" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
      BIN="$(find_bin)"
    fi
    [ -x "$BIN/pg_ctl" ] || { echo "error: PostgreSQL could not be installed" >&2; exit 1; }
    if ! as_postgres "$BIN/pg_ctl -D '$DIR' status" >/dev/null 2>&1; then
      rm -rf "$DIR" "$SOCK"
      mkdir -p "$DIR" "$SOCK"
      if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR" "$SOCK"; fi
      # A UTF-8 LC_CTYPE whatever the caller's locale: LOWER and ILIKE then fold non-ASCII
      # letters, as Herald's SQLite functions do (TextFolding); under "C" they fold ASCII only.
      as_postgres "$BIN/initdb -D '$DIR' -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null"
      as_postgres "$BIN/pg_ctl -D '$DIR' -l '$DIR/server.log' -w -o \"-p $PORT -k $SOCK -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start >/dev/null" || {
        echo "error: PostgreSQL did not start on port $PORT; its log ends:" >&2
        tail -n 5 "$DIR/server.log" >&2
        exit 1
      }
    fi
    echo "postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    BIN="$(find_bin)"
    [ -n "$BIN" ] && as_postgres "$BIN/pg_ctl -D '$DIR' -m fast stop" >/dev/null 2>&1 || true
    ;;
esac
