#!/usr/bin/env bash
# The demo behind `make demo`: build perimeter, start the local control plane
# (unless one already runs: then use it and leave it running), render an
# example, plan -> apply -> plan it against the cluster, and stop what it
# started.
#
# The first run also builds kube-apiserver, etcd and kubectl (5-10
# minutes on 2 cores, once); later runs take seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
example="${1:-examples/seed}"

step() {
	if [[ -t 1 && -z ${NO_COLOR+x} ]]; then printf '\n\033[1m==> %s\033[0m\n' "$*"; else printf '\n==> %s\n' "$*"; fi
}

step "Building bin/perimeter"
go build -tags kustomize_disable_go_plugin_support -o bin/perimeter ./cmd/perimeter

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

step "perimeter check $example   (the check blocks, against the compiled policies)"
bin/perimeter check "$example"

# The gateway's namespace belongs to the platform team; the namespaces the
# stack declares are created by the plan below (as members of its ApplySet).
kubectl create namespace infra --dry-run=client -o yaml | kubectl apply --server-side -f - >/dev/null

# The gateway the example routes through is platform-owned, not part of the
# stack: stand in for the platform team.
kubectl apply --server-side -f - <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: envoy-gateway
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: infra
spec:
  gatewayClassName: envoy-gateway
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    hostname: "*.example.com"
    tls:
      mode: Terminate
      certificateRefs:
      - name: wildcard-example-com
    allowedRoutes:
      namespaces:
        from: All
YAML

plan="$root/.cache/cluster/demo.plan"
step "perimeter plan $example --out $plan"
bin/perimeter plan "$example" --out "$plan"

step "perimeter apply $plan"
bin/perimeter apply "$plan"

step "perimeter plan $example   (the cluster now matches the intent)"
bin/perimeter plan "$example" --detailed-exitcode

step "What the API server holds"
kubectl get httproutes,grpcroutes,referencegrants,backendtlspolicies,networkpolicies --all-namespaces
