# perimeter — developer entry points. See docs/controlplane.md.
#
#   make demo          build, start a local control plane, render an example
#   make test          build the control plane binaries if missing, vet, test
#   make image         a container image of perimeter, built without Docker
#   make dataplane-test the policies on real packets (kube-router, root, Linux)
#
# The first run of either builds kube-apiserver, etcd and kubectl from the Go
# module proxy into .cache/controlplane/ (5-10 minutes on 2 cores, once).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
# kustomize links Go's plugin package unless told not to: 27 MB more resident
# pages for every command (internal/buildtags).
TAGS ?= kustomize_disable_go_plugin_support

.PHONY: help
help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  make %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: controlplane
controlplane: ## build kube-apiserver, etcd, kubectl into the cache (once); print the folder
	@hack/controlplane.sh

.PHONY: kuberouter
kuberouter: ## install iptables and ipset, build kube-router into the cache (once); print the folder
	@hack/kuberouter.sh

.PHONY: dataplane-test
dataplane-test: controlplane ## the compiled policies on real packets (kube-router in network namespaces; root, Linux) vs reach
	@hack/dataplane-test.sh

.PHONY: build
build: ## build bin/perimeter
	$(GO) build -tags $(TAGS) -o bin/perimeter ./cmd/perimeter

.PHONY: image
image: ## build the container image without Docker: bin/image/oci and bin/image/perimeter.tar (ARCH=arm64 for another)
	$(GO) run ./hack/image -out bin/image $(if $(ARCH),-arch $(ARCH)) \
		-revision "$$(git rev-parse HEAD 2>/dev/null)" -version "$$(git describe --tags --exact-match 2>/dev/null)"

.PHONY: vet
vet: ## go vet every package
	$(GO) vet ./...

.PHONY: fmt
fmt: ## gofmt every Go file in place
	$(GO) fmt ./...

.PHONY: test
test: controlplane kuberouter vet ## all tests, against a real local control plane (CI=true: never skipped)
	$(GO) test ./...

.PHONY: cluster
cluster: ## start a long-running local control plane in the background
	@hack/cluster.sh start

.PHONY: cluster-stop
cluster-stop: ## stop it
	@hack/cluster.sh stop

.PHONY: demo
demo: ## build, start the control plane, render (and plan/apply) an example, stop
	@hack/demo.sh
