#!/usr/bin/env bash
# make bench: compares dazzlekit with dazzle v0.1.17 and a monolithic Dockerfile on generated projects
# (cmd/dazzlekit-bench): N independent chunks, and a CI-scale project with the shape of gitpod's
# workspace-images (dazzle build + combine --all against dazzlekit bake + one docker buildx bake). It
# also runs the daemon-less LLB generation benchmark. Not part of CI.
#
# It runs a stack of its own (buildkitd, registry) under .stack/bench, whatever BUILDKIT_HOST says: cold
# runs prune the build cache, which must never touch a daemon someone else uses. The registry port is
# REGISTRY_PORT (default 5055). dazzle is built once from the Go module proxy into
# ${XDG_CACHE_HOME:-~/.cache}/dazzlekit/dazzle-v0.1.17 (never into the clone) by hack/dazzle.sh.
# BENCH_FLAGS passes flags to cmd/dazzlekit-bench, e.g. BENCH_FLAGS="-scenarios sizes -sizes 8 -reps 1", or only a cut-down
# CI-scale project: BENCH_FLAGS="-scenarios ci -ci-combinations 4 -ci-reps 1".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export STACK_DIR="$ROOT/.stack/bench"
export REGISTRY_PORT=${REGISTRY_PORT:-5055}
unset BUILDKIT_HOST BUILDX_BUILDER
. hack/lib.sh
OUT=$ROOT/bench-results
rm -rf "$OUT/logs" "$OUT/work"
mkdir -p "$OUT"

# --- dazzle, the peer ----------------------------------------------------------------------------
DAZZLE_BIN=$(bash hack/dazzle.sh)

# --- the benchmark's own stack ------------------------------------------------------------------
fresh=0
[ -f "$STACK_DIR/pids" ] || fresh=1
cleanup() {
  if [ -f "$STACK_DIR/env" ]; then
    (. "$STACK_DIR/env" && buildctl prune --all >/dev/null 2>&1) || true
  fi
  if [ "$fresh" = 1 ]; then
    bk=$(cat "$STACK_DIR/buildkitd.pid" 2>/dev/null || true)
    bash hack/stack-down.sh
    # `buildctl prune` leaves exported layers in the content store (GC bounds it only at 20GB), a few
    # GB per run: drop the daemon's state once it has exited.
    for _ in $(seq 50); do [ -n "$bk" ] && kill -0 "$bk" 2>/dev/null && sleep 0.2 || break; done
    if ! grep -q " $STACK_DIR/buildkitd" /proc/mounts; then rm -rf "$STACK_DIR/buildkitd"; fi
    # The generated images are random data: drop them, and their blobs, from the registry we started.
    rm -rf "$STACK_DIR/registry-data/docker/registry/v2/repositories/bench"
    docker-registry garbage-collect "$STACK_DIR/registry.yml" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
bash hack/stack-up.sh
. "$STACK_DIR/env"
case "$BUILDKIT_HOST" in
  "unix://$STACK_DIR/"*) ;;
  *) echo "refusing to benchmark on $BUILDKIT_HOST: cold runs prune it; only the benchmark's own daemon may be pruned" >&2; exit 1 ;;
esac

FRONTEND=$DAZZLEKIT_REGISTRY/dazzlekit/frontend:bench
IMAGE="$FRONTEND" bash hack/image.sh
# The CI-scale floor through a frontend container that only returns each image (cmd/dazzlekit-bench/nullfrontend).
NULL_FRONTEND=$DAZZLEKIT_REGISTRY/dazzlekit/nullfrontend:bench
PKG=./cmd/dazzlekit-bench/nullfrontend IMAGE="$NULL_FRONTEND" bash hack/image.sh

log "go test -bench (no daemon): loading, LLB generation and one frontend invocation, 100 chunks and 50 combinations"
go test -run '^$' -bench . -benchmem ./llbgen/ ./frontend/ | tee "$OUT/gobench.txt"

go build -o "$OUT/.bin/dazzlekit-bench" ./cmd/dazzlekit-bench
# Static: dazzlekit build runs the runner beside it inside the images.
CGO_ENABLED=0 go build -o "$OUT/.bin/dazzlekit" ./cmd/dazzlekit
CGO_ENABLED=0 go build -o "$OUT/.bin/dazzlekit-runner" ./cmd/dazzlekit-runner
# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
"$OUT/.bin/dazzlekit-bench" -addr "$BUILDKIT_HOST" -registry "$DAZZLEKIT_REGISTRY" -frontend "$FRONTEND" -null-frontend "$NULL_FRONTEND" \
  -dazzle "$DAZZLE_BIN" -buildctl "$TOOLS_BIN/buildctl" -dazzlekit "$OUT/.bin/dazzlekit" -builder "$BUILDX_BUILDER" \
  -gobench "$OUT/gobench.txt" -out "$OUT" ${BENCH_FLAGS:-}
