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
		"isolate egress of shop/app=users",
		"isolate ingress of shop/app=users",
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
	got := boundaryChanges(live, []*unstructured.Unstructured{edited, parse(t, policy)}, nil)
	if len(got) != 1 || got[0].Added || got[0].Text != "api.example.com/health (exact) -> other/orders:80" {
		t.Fatalf("got %+v", got)
	}
}

// np is a NetworkPolicy in ns selecting sel for types, without rules,
// made by the HCL at source.
func np(t *testing.T, ns, name, sel, types, source string) *unstructured.Unstructured {
	t.Helper()
	return parse(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: `+name+`, namespace: `+ns+`, annotations: {perimeter.dev/source: "`+source+`"}}
spec:
  podSelector: `+sel+`
  policyTypes: `+types)
}

func TestIsolationChanges(t *testing.T) {
	nsDeny := func() *unstructured.Unstructured {
		return np(t, "shop", "default-deny", "{}", "[Ingress]", "main.hcl:5")
	}
	users := func() *unstructured.Unstructured {
		return np(t, "shop", "users", "{matchLabels: {app: users}}", "[Ingress]", "main.hcl:20")
	}
	tools := func() *unstructured.Unstructured { return np(t, "tools", "x-egress", "{}", "[Egress]", "main.hcl:30") }
	gw := func() *unstructured.Unstructured {
		return np(t, "infra", "gateway-public-proxy-egress", "{matchLabels: {gateway.networking.k8s.io/gateway-name: public}}", "[Egress]", "main.hcl:40")
	}
	type objs = []*unstructured.Unstructured
	for _, c := range []struct {
		name          string
		live, desired objs
		want          []string
	}{
		{"an allow isolates a whole namespace", nil, objs{tools()},
			[]string{"+ egress of every pod in tools (main.hcl:30)"}},
		{"a workload inside a new namespace baseline is not listed twice", nil, objs{nsDeny(), users()},
			[]string{"+ ingress of every pod in shop (main.hcl:5)"}},
		{"a workload already inside a live baseline is not news", objs{nsDeny()}, objs{nsDeny(), users()}, nil},
		{"a baseline removed while a workload stays isolated", objs{nsDeny(), users()}, objs{users()},
			[]string{"- ingress of every pod in shop (main.hcl:5)"}},
		{"a workload newly isolated", objs{tools()}, objs{tools(), users()},
			[]string{"+ ingress of shop/app=users (main.hcl:20)"}},
		{"a gateway's proxies", nil, objs{gw()},
			[]string{"+ egress of gateway public (its proxies in infra) (main.hcl:40)"}},
		{"nothing changes", objs{nsDeny(), tools()}, objs{tools(), nsDeny()}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			added, removed := isolationChanges(isolations(c.live, nil), isolations(c.desired, nil))
			var got []string
			for _, bc := range append(added, removed...) {
				sign := "+"
				if !bc.Added {
					sign = "-"
				}
				if bc.Kind != "isolate" {
					t.Errorf("kind %q", bc.Kind)
				}
				got = append(got, sign+" "+bc.Text+" ("+bc.Source+")")
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

func TestStatementsNameTheGatewayProxies(t *testing.T) {
	egress := parse(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: gateway-public-proxy-egress, namespace: envoy-gateway-system}
spec:
  podSelector: {matchLabels: {gateway.envoyproxy.io/owning-gateway-name: public, gateway.envoyproxy.io/owning-gateway-namespace: infra}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}, podSelector: {matchLabels: {app: users}}}]
    ports: [{port: 8080, protocol: TCP}]
`)
	want := []string{
		"allow gateway infra/public -> shop/app=users 8080/tcp",
		"isolate egress of gateway infra/public (its proxies in envoy-gateway-system)",
	}
	if got := Statements([]*unstructured.Unstructured{egress}); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// sources give live objects without a line their block's line, whatever
// metadata they have, keep a line an object has (even an empty one), and
// boundaryChanges changes none of the live objects it reads.
func TestSourcesOfLiveObjects(t *testing.T) {
	spec := map[string]any{"podSelector": map[string]any{}}
	bare := &unstructured.Unstructured{Object: map[string]any{"kind": "NetworkPolicy", "spec": spec}}
	live := &unstructured.Unstructured{Object: map[string]any{"kind": "NetworkPolicy", "spec": spec, "metadata": map[string]any{
		"name": "a", "namespace": "shop", "annotations": map[string]any{"perimeter.dev/block": `allow "x"`, "other": "1"}}}}
	sourced := &unstructured.Unstructured{Object: map[string]any{"kind": "NetworkPolicy", "metadata": map[string]any{
		"annotations": map[string]any{"perimeter.dev/block": `allow "x"`, "perimeter.dev/source": "old.hcl:1,old.hcl:9"}}}}
	empty := &unstructured.Unstructured{Object: map[string]any{"kind": "NetworkPolicy", "metadata": map[string]any{
		"annotations": map[string]any{"perimeter.dev/block": `allow "x"`, "perimeter.dev/source": ""}}}}
	lines := sources{`allow "x"`: "main.hcl:7,main.hcl:12", "": "none.hcl:1"}
	for _, c := range []struct {
		o     *unstructured.Unstructured
		lines sources
		want  string
	}{{bare, lines, "none.hcl:1"}, {live, lines, "main.hcl:7"}, {sourced, lines, "old.hcl:1"}, {empty, lines, ""}, {live, nil, ""}} {
		if got := c.lines.of(c.o); got != c.want {
			t.Errorf("%v with %v: %q, want %q", c.o.Object["metadata"], c.lines, got, c.want)
		}
	}
	before := live.DeepCopy()
	got := boundaryChanges([]*unstructured.Unstructured{live}, nil, lines)
	if !reflect.DeepEqual(live, before) {
		t.Errorf("the live object changed: %v", live.Object)
	}
	if len(got) == 0 {
		t.Fatal("no boundary change for a withdrawn policy")
	}
	for _, c := range got {
		if c.Source != "main.hcl:7" {
			t.Errorf("%s %s: source %q, want main.hcl:7", c.Action, c.Text, c.Source)
		}
	}
}
