#!/usr/bin/env bash
# The demo behind `make demo`: build perimeter, start the local control plane
# (unless one already runs: then use it and leave it running), render an
# example, check the API server accepts it, and stop what it started.
#
# The first run also builds kube-apiserver, etcd and kubectl (about 5
# minutes on 2 cores, once); later runs take seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
example="${1:-examples/seed}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Building bin/perimeter"
go build -o bin/perimeter ./cmd/perimeter

step "Starting the local control plane (kube-apiserver v1.37 + etcd, Gateway API CRDs)"
if hack/cluster.sh status >/dev/null 2>&1; then
	echo "(using the control plane that is already running; it keeps running)"
else
	trap 'step "Stopping the local control plane"; hack/cluster.sh stop' EXIT
	hack/cluster.sh start >/dev/null
fi
export KUBECONFIG="$root/.cache/cluster/kubeconfig"
PATH="$(hack/controlplane.sh):$PATH"
export PATH
kubectl version
kubectl api-resources --api-group=gateway.networking.k8s.io

step "perimeter render $example"
bin/perimeter render "$example" | tee "$root/.cache/cluster/demo-rendered.yaml"

# EXTEND HERE once plan/apply exist: plan -> apply -> plan against the
# cluster, e.g.
#   bin/perimeter plan "$example"
#   bin/perimeter apply ...
#   bin/perimeter plan "$example"     # expect: no changes
if bin/perimeter plan --help >/dev/null 2>&1; then
	echo "(perimeter plan exists: extend hack/demo.sh with plan -> apply -> plan)"
fi

step "The API server accepts every object (server-side apply, dry-run)"
for ns in $(awk '$1 == "namespace:" && /^  / { print $2 }' "$root/.cache/cluster/demo-rendered.yaml" | sort -u); do
	kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply --server-side -f - >/dev/null
done
kubectl apply --server-side --field-manager=perimeter --dry-run=server -f "$root/.cache/cluster/demo-rendered.yaml"
