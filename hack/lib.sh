# Shared settings for the hack/ scripts. Source it; it defines no side effects.
BUILDKIT_VERSION=v0.34.2
BUILDX_VERSION=v0.38.2
DAZZLEKIT_CACHE=${DAZZLEKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dazzlekit}
TOOLS_BIN=$DAZZLEKIT_CACHE/tools-buildkit-$BUILDKIT_VERSION-buildx-$BUILDX_VERSION/bin
# State of a stack started by hack/stack-up.sh lives here (ignored by git).
STACK_DIR=${STACK_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.stack}
REGISTRY_PORT=${REGISTRY_PORT:-5000}
log() { printf '==> %s\n' "$*" >&2; }
STATICCHECK_VERSION=v0.8.2
ACTIONLINT_VERSION=v1.7.12
