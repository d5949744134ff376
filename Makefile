# anyctl: anycast + GSLB control plane.
GO        ?= go
BIN       := $(CURDIR)/bin
BUF_VERSION            := v1.75.0
PROTOC_GEN_GO_VERSION  := v1.36.12
PROTOC_GEN_GRPC_VERSION := v1.6.1
TEST_TIMEOUT ?= 30m
GOTESTFLAGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/anyctl
	$(GO) build -o $(BIN)/anyctl ./cli/anyctl

.PHONY: run
run: build ## run anyctl dev: embedded etcd, controller, examples applied
	$(BIN)/anyctl dev

.PHONY: test
test: test-deps verify ## install test dependencies, check drift, run every test
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(GOTESTFLAGS) $$($(GO) list ./... | grep -v '/lab$$')
	@# The routed lab times client requests to 100 ms: it runs alone, after the rest.
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(GOTESTFLAGS) ./lab/

.PHONY: test-deps
test-deps: ## install the system packages the tests need (as root, when missing)
	@bash scripts/test-deps.sh

.PHONY: bench
bench: ## run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: tools
tools: $(BIN)/buf $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc ## install pinned code generators into bin/

$(BIN)/buf:
	GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(BIN)/protoc-gen-go:
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(BIN)/protoc-gen-go-grpc:
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GRPC_VERSION)

.PHONY: proto
proto: tools ## lint and regenerate the committed protobuf code
	$(BIN)/buf lint
	$(BIN)/buf generate

.PHONY: verify
verify: tools ## fail on drift: gofmt, vet, go.mod/go.sum, generated code, buf lint
	@bash scripts/verify.sh

.PHONY: clean
clean: ## remove build output
	rm -rf $(BIN)
