#!/usr/bin/env bash
# Stops what hack/stack-up.sh started (and nothing else). Keeps the data for the next start.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ -f "$STACK_DIR/pids" ] || exit 0
while read -r pid; do
  kill "$pid" 2>/dev/null && log "stopped $pid"
done < "$STACK_DIR/pids"
rm -f "$STACK_DIR/pids" "$STACK_DIR/registry.pid" "$STACK_DIR/buildkitd.pid"
