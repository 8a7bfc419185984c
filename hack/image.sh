#!/usr/bin/env bash
# Builds the frontend image from the root Dockerfile through the running BuildKit and pushes it to $IMAGE.
# Offline, the Dockerfile's golang stage comes from $DAZZLEKIT_GO_IMAGE (set by hack/stack-up.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
if [ -z "${BUILDKIT_HOST:-}" ] && [ -f "$STACK_DIR/env" ]; then . "$STACK_DIR/env"; fi
[ -n "${BUILDKIT_HOST:-}" ] || { echo "no BuildKit: set BUILDKIT_HOST or run hack/stack-up.sh" >&2; exit 1; }
export PATH="$TOOLS_BIN:$PATH"
: "${IMAGE:=localhost:$REGISTRY_PORT/dazzlekit/frontend:dev}"
extra=()
if [ -n "${DAZZLEKIT_GO_IMAGE:-}" ]; then
  extra+=(--opt "context:golang:1.26=docker-image://$DAZZLEKIT_GO_IMAGE")
fi
# PKG builds another command into the same image (the benchmark's null frontend).
[ -n "${PKG:-}" ] && extra+=(--opt "build-arg:PKG=$PKG")
[ -n "$(go env GOPROXY)" ] && extra+=(--opt "build-arg:GOPROXY=$(go env GOPROXY)")
log "building the frontend image $IMAGE"
buildctl build --progress="${PROGRESS:-quiet}" --frontend dockerfile.v0 --local context=. --local dockerfile=. \
  --opt build-arg:VERSION="$(git describe --always --dirty 2>/dev/null || echo dev)" "${extra[@]}" \
  --output "type=image,name=$IMAGE,push=true"
log "pushed $IMAGE"
