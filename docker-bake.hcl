# docker buildx bake targets. The local stack (hack/stack-up.sh) provides REGISTRY and the Go image.
variable "REGISTRY" {
  default = "localhost:5000"
}

# The frontend image. Offline, the golang stage comes from the local registry.
target "frontend" {
  context    = "."
  dockerfile = "Dockerfile"
  contexts = {
    "golang:1.26" = "docker-image://${REGISTRY}/golang:1.26"
  }
  tags   = ["${REGISTRY}/dazzlekit/frontend:dev"]
  output = ["type=image,push=true"]
}

# The example project's "full" combination, built through the frontend named in dazzle.yaml's # syntax line.
target "example-full" {
  context    = "examples/devtools"
  dockerfile = "dazzle.yaml"
  target     = "full"
  args = {
    REGISTRY = "${REGISTRY}"
  }
  tags       = ["${REGISTRY}/dazzlekit/examples/devtools:full"]
  output     = ["type=image,push=true"]
  attest     = ["type=provenance,disabled=true"]
}
