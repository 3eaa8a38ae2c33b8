package doctor

import (
	"strings"
	"testing"
)

const setKindsIntent = `
perimeter {
  stack = "t"
}
gateway "shared" {
  namespace      = "infra"
  implementation = "istio"
}
listener_set "team" {
  namespace = "team"
  gateway   = gateway.shared
  listener "pg" {
    protocol = "TCP"
    port     = 5432
  }
  listener "dns" {
    protocol = "UDP"
    port     = 53
  }
  listener "cache" {
    protocol = "TCP"
    port     = 6379
  }
  listener "queue" {
    protocol = "TCP"
    port     = 5672
  }
}
service "db" {
  namespace = "team"
  selector  = { app = "db" }
  port      = 5432
}
service "dns" {
  namespace = "team"
  selector  = { app = "dns" }
  port      = 53
  protocol  = "udp"
}
tcp_route "db" {
  gateway  = listener_set.team
  listener = "pg"
  backend  = service.db
}
udp_route "dns" {
  gateway  = listener_set.team
  listener = "dns"
  backend  = service.dns
}
tcp_route "cache" {
  gateway  = listener_set.team
  listener = "cache"
  backend  = service.db
}
tcp_route "queue" {
  gateway  = listener_set.team
  listener = "queue"
  backend  = service.db
}
`

// The Gateway has a listener "pg" of its own that serves HTTPRoutes only:
// the set's "pg" is another listener and must not be judged by it.
const setKindsCluster = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: example.com/eg}
status:
  supportedFeatures: [{name: HTTPRoute}, {name: TCPRoute}, {name: UDPRoute}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec: {gatewayClassName: eg, allowedListeners: {namespaces: {from: All}}}
status:
  listeners:
  - name: pg
    supportedKinds: [{group: gateway.networking.k8s.io, kind: HTTPRoute}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: team, namespace: team}
spec: {parentRef: {name: shared, namespace: infra}}
status:
  listeners:
  - name: pg
    supportedKinds: [{group: gateway.networking.k8s.io, kind: TCPRoute}]
  - name: dns
    supportedKinds: [{group: gateway.networking.k8s.io, kind: TCPRoute}]
  - name: cache
    supportedKinds: []
`

// TestSetListenerKinds: doctor reads a ListenerSet's status.listeners
// supportedKinds: a listener lacking its route's kind is an error, one
// reported with no kinds too (it serves none), one without status says
// nothing, and a set listener named like one of the Gateway's is judged by
// the set's status, not the Gateway's.
func TestSetListenerKinds(t *testing.T) {
	fs := findings(t, setKindsCluster, intentOf(t, setKindsIntent))
	var got []string
	for _, f := range fs {
		if strings.Contains(f.Message, "supportedKinds") || strings.Contains(f.Message, "GatewayClass") {
			got = append(got, f.String())
		}
	}
	want := []string{
		`ok       gatewayclass  gateway.shared: GatewayClass eg supports TCPRoute, UDPRoute`,
		`error    listenerset   listener_set "team": listener "cache" of ListenerSet team/team does not support TCPRoute (status.listeners supportedKinds: none); its routes there will not be served`,
		`error    listenerset   listener_set "team": listener "dns" of ListenerSet team/team does not support UDPRoute (status.listeners supportedKinds: TCPRoute); its routes there will not be served`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
