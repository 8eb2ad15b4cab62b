#!/usr/bin/env bash
# A Redis and a PostgreSQL for citebot's tests: on 127.0.0.1, on free ports, with their data
# in a throwaway folder. Used by scripts/test.sh (the README's test command), by .ci/run,
# and by the tests that stop and restart a server of their own (tests/replicas.rs).
#
#   scripts/test-servers.sh start [DIR]          start both; print the variables to export
#   scripts/test-servers.sh stop [DIR]           stop both and delete DIR
#   scripts/test-servers.sh down redis|postgres [DIR]   stop one, keeping its data and port
#   scripts/test-servers.sh up redis|postgres [DIR]     start it again
#
# DIR defaults to $CITEBOT_TEST_SERVERS (or /tmp/citebot-test-servers). `start` prints
#   export CITEBOT_TEST_REDIS_URL=redis://127.0.0.1:PORT/0
#   export CITEBOT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres
# (also kept in DIR/env), for `eval "$(scripts/test-servers.sh start)"`.
#
# Needs the Debian packages redis-server and postgresql (`apt-get install -y redis-server
# postgresql`): as root without them, it installs them. PostgreSQL refuses to run as root,
# so as root its server runs as the user `postgres` that the package makes.
set -euo pipefail

cmd=${1:-}
case $cmd in
  start | stop) dir=${2:-${CITEBOT_TEST_SERVERS:-/tmp/citebot-test-servers}} ;;
  down | up) which=${2:-}; dir=${3:-${CITEBOT_TEST_SERVERS:-/tmp/citebot-test-servers}} ;;
  *) echo "usage: $0 start|stop [DIR] | down|up redis|postgres [DIR]" >&2; exit 2 ;;
esac

say() { echo "test-servers: $*" >&2; }

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$bin" ]; then echo "$bin"; elif command -v initdb >/dev/null; then dirname "$(command -v initdb)"; fi
}

install_if_missing() {
  if command -v redis-server >/dev/null && [ -n "$(pg_bin)" ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing redis-server and postgresql"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql >&2
  fi
  command -v redis-server >/dev/null || { say "redis-server is not installed (apt-get install redis-server)"; exit 1; }
  [ -n "$(pg_bin)" ] || { say "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  say "no free port found"; exit 1
}

# Runs a command as the user PostgreSQL runs as.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

redis_up() {
  local port; port=$(cat "$dir/redis.port")
  # No persistence: a restarted Redis is an empty one, as after a real outage.
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >&2
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return
    sleep 0.05
  done
  say "Redis did not start (see $dir/redis.log)"; exit 1
}

redis_down() {
  local pid
  pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "$dir/redis.pid"
}

pg_up() {
  local port; port=$(cat "$dir/pg.port")
  as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w -t 30 start \
    -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >&2 \
    || { say "PostgreSQL did not start (see $dir/pg/server.log)"; exit 1; }
}

pg_down() {
  [ -d "$dir/pg" ] || return 0
  as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg" -m fast -w -t 30 stop >&2 2>/dev/null || true
}

case $cmd in
  start)
    install_if_missing
    if [ -f "$dir/env" ]; then say "already started in $dir"; cat "$dir/env"; exit 0; fi
    mkdir -p "$dir"
    # The postgres user must reach its data folder inside DIR.
    chmod 755 "$dir"
    free_port >"$dir/redis.port"
    free_port >"$dir/pg.port"
    redis_up
    mkdir -p "$dir/pg"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/pg"
    as_pg "$(pg_bin)/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    pg_up
    {
      echo "export CITEBOT_TEST_REDIS_URL=redis://127.0.0.1:$(cat "$dir/redis.port")/0"
      echo "export CITEBOT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$(cat "$dir/pg.port")/postgres"
    } >"$dir/env"
    say "Redis on 127.0.0.1:$(cat "$dir/redis.port"), PostgreSQL on 127.0.0.1:$(cat "$dir/pg.port"), data in $dir"
    cat "$dir/env"
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    redis_down
    pg_down
    rm -rf "$dir"
    ;;
  down)
    case $which in redis) redis_down ;; postgres) pg_down ;; *) echo "down redis|postgres" >&2; exit 2 ;; esac ;;
  up)
    case $which in redis) redis_up ;; postgres) pg_up ;; *) echo "up redis|postgres" >&2; exit 2 ;; esac ;;
esac
