#!/usr/bin/env bash
# The main job: builds the example dazzle project (examples/devtools, combination "full") with the
# packaged frontend image on BuildKit, pushes it to the local registry and shows what it is made of.
# Uses BUILDKIT_HOST when set; otherwise starts the local stack (hack/stack-up.sh) and leaves it running.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
EXAMPLE=${EXAMPLE:-devtools}
TARGET=${TARGET:-full}

bash hack/stack-up.sh
. "$STACK_DIR/env"
IMAGE=${IMAGE:-$DAZZLEKIT_REGISTRY/dazzlekit/frontend:dev}
IMAGE="$IMAGE" bash hack/image.sh

OUT=$DAZZLEKIT_REGISTRY/dazzlekit/examples/$EXAMPLE:$TARGET
log "building examples/$EXAMPLE (target $TARGET) with $IMAGE"
buildctl build --progress="${PROGRESS:-plain}" --frontend gateway.v0 --opt source="$IMAGE" \
  --local context="examples/$EXAMPLE" --local dockerfile="examples/$EXAMPLE" --opt filename=dazzle.yaml \
  --opt target="$TARGET" --opt build-arg:REGISTRY="$DAZZLEKIT_REGISTRY" \
  --output "type=image,name=$OUT,push=true"
echo
go run ./cmd/dazzlekit-inspect "$OUT"
echo
log "done: $OUT (stop the local stack with: make stack-down)"
