#!/usr/bin/env bash
# Starts what builds and tests need: buildkitd (unless BUILDKIT_HOST is given), a local registry with no
# auth (unless one already answers on REGISTRY_PORT), a docker buildx remote builder, and the base images
# (a busybox base and a Go image seeded from the host toolchain). Writes $STACK_DIR/env to source.
# Idempotent: a second run reuses what is running. hack/stack-down.sh stops only what this started.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

bash hack/deps.sh
export PATH="$TOOLS_BIN:$PATH"
mkdir -p "$STACK_DIR"
REGISTRY=localhost:$REGISTRY_PORT

started() { echo "$1" >> "$STACK_DIR/pids"; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --- registry ---------------------------------------------------------------
if curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then
  log "registry already answers on $REGISTRY"
else
  mkdir -p "$STACK_DIR/registry-data"
  cat > "$STACK_DIR/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STACK_DIR/registry-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
YML
  log "starting registry on $REGISTRY"
  docker-registry serve "$STACK_DIR/registry.yml" > "$STACK_DIR/registry.log" 2>&1 &
  echo $! > "$STACK_DIR/registry.pid"; started "$!"
  for _ in $(seq 50); do curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://$REGISTRY/v2/" >/dev/null || { cat "$STACK_DIR/registry.log"; exit 1; }
fi

# --- buildkitd --------------------------------------------------------------
if [ -n "${BUILDKIT_HOST:-}" ]; then
  log "using BUILDKIT_HOST=$BUILDKIT_HOST"
  buildctl debug workers >/dev/null
else
  BUILDKIT_HOST=unix://$STACK_DIR/buildkitd.sock
  if alive "$STACK_DIR/buildkitd.pid" && buildctl --addr "$BUILDKIT_HOST" debug workers >/dev/null 2>&1; then
    log "buildkitd already running at $BUILDKIT_HOST"
  else
    cat > "$STACK_DIR/buildkitd.toml" <<TOML
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  # Bounded cache so a developer machine does not fill up: BuildKit's default GC policies,
  # scaled to these limits (BUILDKIT_MAX_USED_SPACE overrides the bound).
  gc = true
  reservedSpace = "2GB"
  maxUsedSpace = "${BUILDKIT_MAX_USED_SPACE:-20GB}"
  minFreeSpace = "5GB"
[worker.containerd]
  enabled = false
[registry."$REGISTRY"]
  http = true
  insecure = true
TOML
    log "starting buildkitd $BUILDKIT_VERSION at $BUILDKIT_HOST"
    rm -f "$STACK_DIR/buildkitd.sock"
    # buildkitd's own spans are not sampled (OTEL_TRACES_SAMPLER, read by the OpenTelemetry SDK): it
    # keeps each build's trace in the build's history record, and the targets of one bake share the
    # client's trace, so each of N targets' records encodes the spans of all N again: in a bake of 41
    # targets, 9.1 of buildkitd's 14.8 CPU-s, and 12 s where it takes 8 without (README, "A bake's
    # traces"). BUILDKITD_TRACES_SAMPLER=parentbased_always_on is BuildKit's default.
    OTEL_TRACES_SAMPLER=${BUILDKITD_TRACES_SAMPLER:-always_off} buildkitd --config "$STACK_DIR/buildkitd.toml" --root "$STACK_DIR/buildkitd" \
      --addr "$BUILDKIT_HOST" > "$STACK_DIR/buildkitd.log" 2>&1 &
    echo $! > "$STACK_DIR/buildkitd.pid"; started "$!"
    for _ in $(seq 100); do buildctl --addr "$BUILDKIT_HOST" debug workers >/dev/null 2>&1 && break; sleep 0.1; done
    buildctl --addr "$BUILDKIT_HOST" debug workers >/dev/null || { tail -50 "$STACK_DIR/buildkitd.log"; exit 1; }
  fi
fi
export BUILDKIT_HOST
# Whether the daemon is this script's, configured as above (integration/stack_test.go checks it).
OWN_BUILDKITD=0
case "$BUILDKIT_HOST" in "unix://$STACK_DIR/buildkitd.sock") OWN_BUILDKITD=1 ;; esac

# --- docker buildx remote builder ---------------------------------------------
BUILDX_BUILDER=dazzlekit-$(printf '%s' "$BUILDKIT_HOST" | cksum | cut -d' ' -f1)
if ! docker buildx inspect "$BUILDX_BUILDER" >/dev/null 2>&1; then
  docker buildx create --name "$BUILDX_BUILDER" --driver remote "$BUILDKIT_HOST" >/dev/null
fi
export BUILDX_BUILDER

# --- base images ---------------------------------------------------------------
image_exists() { curl -fs -o /dev/null -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/$1/manifests/$2"; }
if ! image_exists dazzlekit/busybox latest; then
  log "building base image $REGISTRY/dazzlekit/busybox"
  ctx=$(mktemp -d); cp /bin/busybox "$ctx/busybox"; cp hack/images/busybox/* "$ctx/"
  buildctl build --progress=plain --frontend dockerfile.v0 --local context="$ctx" --local dockerfile="$ctx" \
    --output "type=image,name=$REGISTRY/dazzlekit/busybox:latest,push=true" 2> "$STACK_DIR/busybox-build.log" \
    || { tail -30 "$STACK_DIR/busybox-build.log"; exit 1; }
  rm -rf "$ctx"
fi
GOROOT_DIR=$(go env GOROOT)
GO_MINOR=$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')
if ! image_exists golang "$GO_MINOR"; then
  log "building $REGISTRY/golang:$GO_MINOR from the host Go toolchain ($GOROOT_DIR)"
  certs=$(mktemp -d); cp /etc/ssl/certs/ca-certificates.crt "$certs/"
  buildctl build --progress=plain --frontend dockerfile.v0 \
    --local context=hack/images/golang --local dockerfile=hack/images/golang \
    --local goroot="$GOROOT_DIR" --local certs="$certs" \
    --opt context:goroot=local:goroot --opt context:certs=local:certs \
    --opt build-arg:BASE="$REGISTRY/dazzlekit/busybox:latest" \
    --output "type=image,name=$REGISTRY/golang:$GO_MINOR,push=true" 2> "$STACK_DIR/golang-build.log" \
    || { tail -30 "$STACK_DIR/golang-build.log"; exit 1; }
  rm -rf "$certs"
fi

cat > "$STACK_DIR/env" <<ENV
export PATH="$TOOLS_BIN:\$PATH"
export BUILDKIT_HOST="$BUILDKIT_HOST"
export BUILDX_BUILDER="$BUILDX_BUILDER"
export DAZZLEKIT_REGISTRY="$REGISTRY"
export DAZZLEKIT_GO_IMAGE="$REGISTRY/golang:$GO_MINOR"
export DAZZLEKIT_STACK_BUILDKITD=$OWN_BUILDKITD
ENV
log "stack ready: . $STACK_DIR/env"
