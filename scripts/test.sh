#!/usr/bin/env bash
# The README's test command: starts the Redis and PostgreSQL the replica tests need (on
# loopback, throwaway data; scripts/test-servers.sh installs them as root when missing),
# runs `cargo test` with the arguments given, then the answer-quality tests on every other
# numeric path this CPU can take (scripts/test-paths.sh), and stops the servers, also on
# failure. .ci/run uses the same scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
servers=$(mktemp -d /tmp/citebot-test-servers.XXXXXX)
rmdir "$servers"
trap 'scripts/test-servers.sh stop "$servers"' EXIT
eval "$(scripts/test-servers.sh start "$servers")"
cargo test "$@"
# Arguments that pick tests (`--test NAME`, a filter) say what to run: the paths only follow
# a whole run.
if [ $# -eq 0 ]; then
  scripts/test-paths.sh
fi
