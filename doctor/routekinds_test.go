package doctor

import (
	"strings"
	"testing"
)

const routeKindsIntent = `
perimeter {
  stack = "t"
}
gateway "edge" {
  namespace      = "infra"
  implementation = "istio"
  manage {
    class = "eg"
    listener "pg" {
      protocol = "TCP"
      port     = 5432
    }
    listener "term" {
      protocol     = "TLS"
      port         = 443
      tls_mode     = "terminate"
      certificates = ["cert"]
    }
    listener "dns" {
      protocol = "UDP"
      port     = 53
    }
  }
}
gateway "shared" {
  namespace      = "platform"
  implementation = "istio"
}
gateway "web" {
  namespace      = "platform"
  implementation = "istio"
}
service "db" {
  namespace = "data"
  selector  = { app = "db" }
  port      = 5432
}
service "dns" {
  namespace = "data"
  selector  = { app = "dns" }
  port      = 53
  protocol  = "udp"
}
tcp_route "db" {
  gateway  = gateway.edge
  listener = "pg"
  backend  = service.db
}
tls_route "db" {
  gateway   = gateway.edge
  listener  = "term"
  hostnames = ["db.example.com"]
  backend   = service.db
}
udp_route "dns" {
  gateway  = gateway.edge
  listener = "dns"
  backend  = service.dns
}
tcp_route "shared" {
  gateway  = gateway.shared
  listener = "pg"
  backend  = service.db
}
route "web" {
  gateway = gateway.web
  rule {
    backend = service.db
  }
}
`

const routeKindsCluster = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gatewayclasses.gateway.networking.k8s.io}
spec: {group: gateway.networking.k8s.io, names: {plural: gatewayclasses}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: example.com/eg}
status:
  supportedFeatures: [{name: HTTPRoute}, {name: TCPRoute}, {name: TLSRoute}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: mesh}
spec: {controllerName: example.com/mesh}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: platform}
spec: {gatewayClassName: mesh}
status:
  listeners:
  - name: pg
    supportedKinds: [{group: gateway.networking.k8s.io, kind: HTTPRoute}]
`

// TestRouteKindSupport: doctor says which route kinds a GatewayClass does
// not support (by its supportedFeatures, including TLS termination), says
// "unknown" for a class that publishes none, reads a live Gateway's
// listener supportedKinds, and stays quiet about HTTPRoute-only gateways.
func TestRouteKindSupport(t *testing.T) {
	fs := findings(t, routeKindsCluster, intentOf(t, routeKindsIntent))
	var got []string
	for _, f := range fs {
		if strings.HasPrefix(f.Message, "gateway.") {
			got = append(got, f.String())
		}
	}
	want := []string{
		`error    gatewayclass  gateway.edge: GatewayClass eg does not support TLSRouteModeTerminate, UDPRoute (status.supportedFeatures); its routes will not be served`,
		`error    gatewayclass  gateway.shared: listener "pg" of Gateway platform/shared does not support TCPRoute (status.listeners supportedKinds: HTTPRoute)`,
		`warning  gatewayclass  gateway.shared: GatewayClass mesh publishes no status.supportedFeatures, so whether it supports TCPRoute is unknown`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
