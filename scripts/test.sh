#!/usr/bin/env bash
# The README's test command: starts the Redis and PostgreSQL the replica tests need (on
# loopback, throwaway data; scripts/test-servers.sh installs them as root when missing),
# runs `cargo test` with the arguments given, and stops the servers, also on failure.
# .ci/run uses the same servers script.
set -euo pipefail
cd "$(dirname "$0")/.."
servers=$(mktemp -d /tmp/citebot-test-servers.XXXXXX)
rmdir "$servers"
trap 'scripts/test-servers.sh stop "$servers"' EXIT
eval "$(scripts/test-servers.sh start "$servers")"
cargo test "$@"
