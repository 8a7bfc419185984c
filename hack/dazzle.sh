#!/usr/bin/env bash
# Builds gitpod's dazzle v0.1.17 (the tool dazzlekit replaces) from the Go module proxy, once, into
# ${XDG_CACHE_HOME:-~/.cache}/dazzlekit/dazzle-v0.1.17 (never into the clone), and prints the binary's
# path. hack/bench.sh and hack/test.sh (the compat suite, integration/compat_test.go) run it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DAZZLE_VERSION=v0.1.17
DAZZLE_DIR=$DAZZLEKIT_CACHE/dazzle-$DAZZLE_VERSION
if [ ! -x "$DAZZLE_DIR/dazzle" ] || [ ! -x "$DAZZLE_DIR/src/pkg/test/runner/bin/runner_linux_amd64" ]; then
  log "building dazzle $DAZZLE_VERSION from the Go module proxy into $DAZZLE_DIR (about a minute)"
  tmp=$(mktemp -d)
  modjson=$(cd "$tmp" && go mod download -json "github.com/gitpod-io/dazzle@$DAZZLE_VERSION")
  rm -rf "$tmp"
  moddir=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$moddir" ] || { echo "go mod download gave no module directory:" >&2; echo "$modjson" >&2; exit 1; }
  rm -rf "$DAZZLE_DIR"
  mkdir -p "$DAZZLE_DIR"
  cp -r "$moddir" "$DAZZLE_DIR/src"
  chmod -R u+w "$DAZZLE_DIR/src"
  # dazzle finds its test runner with go.rice, on disk next to the source it was built from when
  # not embedded: the copy must stay where it is, and no -trimpath.
  (
    cd "$DAZZLE_DIR/src"
    go build -o "$DAZZLE_DIR/dazzle.tmp" .
    CGO_ENABLED=0 go build -ldflags "-s -w" -o pkg/test/runner/bin/runner_linux_amd64 pkg/test/runner/main.go
  )
  mv "$DAZZLE_DIR/dazzle.tmp" "$DAZZLE_DIR/dazzle"
fi
printf '%s\n' "$DAZZLE_DIR/dazzle"
