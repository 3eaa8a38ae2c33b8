package plan

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const l4Gateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: edge}
spec:
  gatewayClassName: eg
  listeners:
  - {name: pg, port: 5432, protocol: TCP}
  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}
  - {name: alt, port: 8443, protocol: TLS, tls: {mode: Passthrough}}
  - {name: dns, port: 53, protocol: UDP}
`

const l4Routes = `
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: pg, namespace: data}
spec:
  parentRefs: [{name: edge, namespace: edge, sectionName: pg}, {name: shared, namespace: infra, sectionName: postgres}]
  rules: [{backendRefs: [{name: pg, port: 5432, weight: 90}, {name: pg2, port: 5432, weight: 10}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: vault, namespace: data}
spec:
  parentRefs: [{name: edge, namespace: edge, sectionName: tls}, {name: edge, namespace: edge, sectionName: alt}]
  hostnames: [vault.example.com]
  rules: [{backendRefs: [{name: vault, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: dns, namespace: data}
spec:
  parentRefs: [{name: edge, namespace: edge, sectionName: dns}]
  rules: [{backendRefs: [{name: resolver, port: 53}]}]
`

// TestL4Statements: TCP and UDP exposures name the listener port when the
// Gateway is among the objects and say "port unknown" when it is not; TLS
// exposures name each SNI hostname, with the port when it is not 443.
func TestL4Statements(t *testing.T) {
	objs := []*unstructured.Unstructured{parse(t, l4Gateway)}
	for _, doc := range splitDocs(l4Routes) {
		objs = append(objs, parse(t, doc))
	}
	want := []string{
		"expose tcp (listener postgres of gateway infra/shared, port unknown) -> data/pg2:5432 (weight 10)",
		"expose tcp (listener postgres of gateway infra/shared, port unknown) -> data/pg:5432 (weight 90)",
		"expose tcp/5432 -> data/pg2:5432 (weight 10)",
		"expose tcp/5432 -> data/pg:5432 (weight 90)",
		"expose tls://vault.example.com -> data/vault:443",
		"expose tls://vault.example.com:8443 -> data/vault:443",
		"expose udp/53 -> data/resolver:53",
	}
	var got []string
	for _, s := range Statements(objs) {
		if s[:7] == "expose " {
			got = append(got, s)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statements:\n%q\nwant:\n%q", got, want)
	}
	for _, s := range statements(objs, nil) {
		if s.kind == "expose" && s.match == "" {
			t.Errorf("%s: an L4 exposure must carry its listener as match", s.text)
		}
	}
}

func splitDocs(s string) []string {
	var out []string
	for _, d := range strings.Split(s, "\n---\n") {
		out = append(out, d)
	}
	return out
}
