# The dazzlekit frontend image: one static binary, FROM scratch. Offline builds override the golang
# stage with a named context (see Makefile: make image).
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ARG VERSION=dev
ARG GOPROXY
# The package to build: the benchmark builds its null frontend (cmd/dazzlekit-bench/nullfrontend) this way.
ARG PKG=./cmd/dazzlekit
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/dazzlekit ${PKG}

FROM scratch
COPY --from=build /out/dazzlekit /dazzlekit
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
ENTRYPOINT ["/dazzlekit"]
