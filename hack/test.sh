#!/usr/bin/env bash
# Runs every test: static checks and unit tests, then the integration tests against a real buildkitd
# and registry (started here when not running; stopped again at the end if this script started them).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

log "static checks"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.stack/*'))
[ -z "$unformatted" ] || { echo "gofmt needed: $unformatted" >&2; exit 1; }
go vet ./...
STATICCHECK=$DAZZLEKIT_CACHE/staticcheck-$STATICCHECK_VERSION/staticcheck
[ -x "$STATICCHECK" ] || GOBIN=$(dirname "$STATICCHECK") go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
"$STATICCHECK" ./...
ACTIONLINT=$DAZZLEKIT_CACHE/actionlint-$ACTIONLINT_VERSION/actionlint
[ -x "$ACTIONLINT" ] || GOBIN=$(dirname "$ACTIONLINT") go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
"$ACTIONLINT" examples/github-actions.yml

fresh=0
[ -f "$STACK_DIR/pids" ] || fresh=1
bash hack/stack-up.sh
[ "$fresh" = 1 ] && trap 'bash hack/stack-down.sh' EXIT
. "$STACK_DIR/env"

# A tag of its own per checkout (DAZZLEKIT_FRONTEND_IMAGE), so two checkouts sharing a stack do not race.
export DAZZLEKIT_FRONTEND_IMAGE="${DAZZLEKIT_FRONTEND_IMAGE:-$DAZZLEKIT_REGISTRY/dazzlekit/frontend:test}"
IMAGE="$DAZZLEKIT_FRONTEND_IMAGE" bash hack/image.sh
# In-process builds have no frontend image to mount as the test runner: give them a static build,
# beside the dazzlekit binary that the CLI tests run.
export DAZZLEKIT_RUNNER_DIR="$STACK_DIR/runner"
CGO_ENABLED=0 go build -trimpath -o "$DAZZLEKIT_RUNNER_DIR/dazzlekit" ./cmd/dazzlekit
CGO_ENABLED=0 go build -trimpath -o "$DAZZLEKIT_RUNNER_DIR/dazzlekit-runner" ./cmd/dazzlekit-runner

# The compat suite (integration/compat_test.go) runs gitpod's dazzle v0.1.17 next to dazzlekit; it is
# built once into the cache outside the clone.
DAZZLE_BIN=${DAZZLE_BIN:-$(bash hack/dazzle.sh)}
export DAZZLE_BIN

log "go test (unit and integration)"
DAZZLEKIT_INTEGRATION=1 go test -race -count=1 -timeout 45m ${GOTEST_FLAGS:-} ./...
