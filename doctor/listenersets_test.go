package doctor

import (
	"strings"
	"testing"
)

const setIntent = `
perimeter {
  stack = "t"
}
gateway "shared" {
  namespace      = "infra"
  implementation = "istio"
}
gateway "open" {
  namespace      = "infra"
  implementation = "istio"
}
gateway "gone" {
  namespace      = "infra"
  implementation = "istio"
}
listener_set "team" {
  namespace = "team"
  gateway   = gateway.shared
  listener "redis" {
    protocol = "TCP"
    port     = 6379
  }
}
listener_set "other" {
  namespace = "team"
  gateway   = gateway.open
  listener "pg" {
    protocol = "TCP"
    port     = 5432
  }
}
listener_set "lost" {
  namespace = "team"
  gateway   = gateway.gone
  listener "pg" {
    protocol = "TCP"
    port     = 5432
  }
}
`

const setCluster = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gateways.gateway.networking.k8s.io}
spec: {group: gateway.networking.k8s.io, names: {plural: gateways}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team, labels: {tier: apps}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: eg
  allowedListeners: {namespaces: {from: Same}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: open, namespace: infra}
spec:
  gatewayClassName: eg
  allowedListeners: {namespaces: {from: Selector, selector: {matchLabels: {tier: apps}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: team, namespace: team}
spec: {parentRef: {name: shared, namespace: infra}}
status:
  conditions:
  - {type: Accepted, status: "False", reason: NotAllowed, message: "namespace team is not allowed"}
`

// TestListenerSetFindings: a Gateway that allows only its own namespace
// refuses the set (and its controller said so in the set's status), one
// that selects the set's namespace by label allows it, and a missing
// Gateway is reported.
func TestListenerSetFindings(t *testing.T) {
	fs := findings(t, setCluster, intentOf(t, setIntent))
	var got []string
	for _, f := range fs {
		if f.Topic == "listenerset" {
			got = append(got, f.String())
		}
	}
	want := []string{
		`error    listenerset   listener_set "team": Gateway infra/shared only allows ListenerSets from its own namespace "infra"; its owner must allow them (spec.allowedListeners.namespaces)`,
		`error    listenerset   listener_set "team": ListenerSet team/team is not accepted (NotAllowed: namespace team is not allowed)`,
		`warning  listenerset   listener_set "lost": Gateway infra/gone does not exist`,
		`ok       listenerset   listener_set "other": Gateway infra/open allows it`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
