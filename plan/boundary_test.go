package plan

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func parse(t *testing.T, src string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

const route = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop, annotations: {perimeter.dev/source: "main.hcl:3"}}
spec:
  hostnames: [api.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /orders}}]
    backendRefs: [{name: orders, port: 80, weight: 95}, {name: canary, port: 80, weight: 5}]
  - matches: [{path: {type: Exact, value: /health}}]
    backendRefs: [{name: orders, namespace: other, port: 80}]
`

const policy = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: users}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: infra}}
      podSelector: {matchLabels: {gateway.networking.k8s.io/gateway-name: public}}
    ports: [{port: 8080, protocol: TCP}]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
    ports: [{port: 8000, endPort: 8100, protocol: UDP}]
`

func TestStatements(t *testing.T) {
	got := Statements([]*unstructured.Unstructured{parse(t, route), parse(t, policy)})
	want := []string{
		"expose api.example.com/health (exact) -> other/orders:80",
		"expose api.example.com/orders -> shop/canary:80 (weight 5)",
		"expose api.example.com/orders -> shop/orders:80 (weight 95)",
		"allow gateway public -> shop/app=users 8080/tcp",
		"allow shop/app=users -> 0.0.0.0/0 except 10.0.0.0/8 8000-8100/udp",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestBoundaryChangesOnlyDifferences(t *testing.T) {
	live := []*unstructured.Unstructured{parse(t, route), parse(t, policy)}
	edited := parse(t, route)
	rules, _, _ := unstructured.NestedSlice(edited.Object, "spec", "rules")
	edited.Object["spec"].(map[string]any)["rules"] = rules[:1]
	got := boundaryChanges(live, []*unstructured.Unstructured{edited, parse(t, policy)})
	if len(got) != 1 || got[0].Added || got[0].Text != "api.example.com/health (exact) -> other/orders:80" {
		t.Fatalf("got %+v", got)
	}
}
