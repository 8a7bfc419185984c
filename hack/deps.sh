#!/usr/bin/env bash
# Installs what builds and tests need on a fresh Debian machine with Go: Debian packages, and buildkitd,
# buildctl and docker buildx built from the Go module proxy. Built tools are cached outside the clone
# ($TOOLS_BIN) and reused when present.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_apt=()
command -v runc >/dev/null || need_apt+=(runc)
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && dpkg -s busybox-static >/dev/null 2>&1 || need_apt+=(busybox-static)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

mkdir -p "$TOOLS_BIN"
if [ ! -x "$TOOLS_BIN/buildkitd" ] || [ ! -x "$TOOLS_BIN/buildctl" ]; then
  log "building buildkitd and buildctl $BUILDKIT_VERSION (about 2 minutes)"
  # buildkit's go.mod has exclude directives, so `go install pkg@version` refuses it: build from a
  # throwaway module that requires it.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (
    cd "$tmp"
    go mod init dazzlekit-tools >/dev/null 2>&1
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
GO
    go get github.com/moby/buildkit@$BUILDKIT_VERSION >/dev/null 2>&1
    go mod tidy >/dev/null 2>&1
    CGO_ENABLED=0 go build -trimpath -tags "osusergo netgo static_build seccomp" \
      -ldflags "-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION" \
      -o "$TOOLS_BIN/" github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
  )
fi
if [ ! -x "$TOOLS_BIN/docker-buildx" ]; then
  log "building docker buildx $BUILDX_VERSION (about 70 seconds)"
  GOBIN="$TOOLS_BIN" go install github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION
  mv "$TOOLS_BIN/buildx" "$TOOLS_BIN/docker-buildx"
fi
mkdir -p "$HOME/.docker/cli-plugins"
ln -sf "$TOOLS_BIN/docker-buildx" "$HOME/.docker/cli-plugins/docker-buildx"
log "tools ready in $TOOLS_BIN"
