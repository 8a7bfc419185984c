# Entry points. Every target that builds uses the running BuildKit (BUILDKIT_HOST) or the local stack
# that hack/stack-up.sh starts.
REGISTRY ?= localhost:5000
IMAGE ?= $(REGISTRY)/dazzlekit/frontend:dev

.PHONY: image example test unit bench stack stack-down lint

## Build the frontend image through BuildKit and push it to $(IMAGE).
image:
	IMAGE=$(IMAGE) bash hack/image.sh

## The main job: build the example project with the frontend image and show the result.
example:
	bash hack/example.sh

## Every test: unit tests, then integration tests against a real buildkitd and registry.
test:
	bash hack/test.sh

## Unit tests only (no daemon).
unit:
	go test ./...

bench:
	bash hack/bench.sh

stack:
	bash hack/stack-up.sh

stack-down:
	bash hack/stack-down.sh

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" && go vet ./... && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
