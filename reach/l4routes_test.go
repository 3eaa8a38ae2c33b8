package reach

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const l4Objects = `
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: wild, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: tls}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: wild, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: db, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: tls}]
  hostnames: [db.example.com]
  rules: [{backendRefs: [{name: db, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: pg, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: pg}]
  rules: [{backendRefs: [{name: pg, port: 5432, weight: 3}, {name: pg2, port: 5432}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: pg-copy, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: pg}]
  rules: [{backendRefs: [{name: pg, port: 5432}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: dns, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules: [{backendRefs: [{name: dns, port: 53}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
`

func TestResolveL4(t *testing.T) {
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(l4Objects, "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	routes, err := L4RoutesOf(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 5 {
		t.Fatalf("read %d L4 routes, want 5 (the HTTPRoute is not one)", len(routes))
	}
	if got := len(routes[2].Backends); got != 2 || *routes[2].Backends[0].Weight != 3 {
		t.Errorf("TCPRoute pg backends: %+v", routes[2].Backends)
	}
	for _, tc := range []struct {
		name      string
		req       L4Request
		want      string // route name; "" = none
		tied      int
		wantFound bool
	}{
		{"precise SNI beats the wildcard", L4Request{Kind: "TLSRoute", Host: "db.example.com"}, "db", 0, true},
		{"wildcard covers a subdomain", L4Request{Kind: "TLSRoute", Host: "vault.example.com"}, "wild", 0, true},
		{"wildcard does not cover the apex", L4Request{Kind: "TLSRoute", Host: "example.com"}, "", 0, false},
		{"listener filter", L4Request{Kind: "TLSRoute", Host: "db.example.com", Listeners: []string{"other"}}, "", 0, false},
		{"two TCP routes on one listener tie", L4Request{Kind: "TCPRoute", Listeners: []string{"pg"}}, "pg", 2, true},
		{"a route on the whole gateway", L4Request{Kind: "UDPRoute", Listeners: []string{"dns"}}, "dns", 0, true},
		{"kind must match", L4Request{Kind: "UDPRoute", Listeners: []string{"pg"}, Host: "x"}, "dns", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := ResolveL4(routes, "infra", "gw", tc.req)
			if ok != tc.wantFound {
				t.Fatalf("found %v, want %v", ok, tc.wantFound)
			}
			if !ok {
				return
			}
			if m.Route.Name != tc.want || len(m.Tied) != tc.tied {
				t.Errorf("route %s (tied %d), want %s (tied %d)", m.Route.Name, len(m.Tied), tc.want, tc.tied)
			}
		})
	}
	if _, ok := ResolveL4(routes, "infra", "other-gw", L4Request{Kind: "TCPRoute"}); ok {
		t.Error("a route of another gateway matched")
	}
}
