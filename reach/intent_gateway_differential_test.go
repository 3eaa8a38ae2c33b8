package reach

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/testgen"
)

// gatewayQueries are the ports testgen's gateway intents use: the
// services' target ports (8000-8002, "http"; UDP 5353-5354), the managed
// listeners' ports (80, 8080, 443, 5432/tcp, 53/udp) and the listener
// sets' (15432/tcp, 1053/udp).
var gatewayQueries = []Port{
	{Number: 8000, Protocol: corev1.ProtocolTCP}, {Number: 8001, Protocol: corev1.ProtocolTCP},
	{Number: 8002, Protocol: corev1.ProtocolTCP}, {Name: "http", Protocol: corev1.ProtocolTCP},
	{Number: 5353, Protocol: corev1.ProtocolUDP}, {Number: 5354, Protocol: corev1.ProtocolUDP},
	{Number: 80, Protocol: corev1.ProtocolTCP}, {Number: 8080, Protocol: corev1.ProtocolTCP},
	{Number: 443, Protocol: corev1.ProtocolTCP}, {Number: 5432, Protocol: corev1.ProtocolTCP},
	{Number: 53, Protocol: corev1.ProtocolUDP}, {Number: 15432, Protocol: corev1.ProtocolTCP},
	{Number: 1053, Protocol: corev1.ProtocolUDP},
}

// gatewayIntent is testgen's gateway intent (managed and unmanaged
// envoy-gateway, istio and custom gateways; HTTP and gRPC routes and tls,
// tcp and udp routes with same- and cross-namespace backends; listener
// sets) with a few allow blocks between its services and outside endpoints
// added, and at times guardrails and baselines (some on envoy's data-plane
// namespace), and
// the endpoint expressions to probe (the gateways' data planes are added by
// compareIntent).
func gatewayIntent(t *testing.T, r *rand.Rand) (string, []string) {
	src := testgen.GatewayIntent(r)
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("generated HCL does not parse: %s\n%s", diags, src)
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if in == nil || diags.HasErrors() {
		t.Fatalf("generated intent does not decode: %s\n%s", diags, src)
	}
	ends := []string{`namespace.app0`, `pods("ext", { app = "x" })`, `cidr("203.0.113.0/24")`, `cidr("192.0.2.0/24")`}
	for _, s := range in.Services {
		ends = append(ends, "service."+s.Label)
	}
	var b strings.Builder
	b.WriteString(src)
	for i := r.Intn(4); i > 0; i-- {
		fmt.Fprintf(&b, "allow \"g%d\" {\n  from = %s\n  to = %s\n", i, pick(r, ends...), pick(r, ends...))
		if r.Intn(2) == 0 {
			fmt.Fprintf(&b, "  ports = [%s]\n", pick(r, `"8000"`, `"http"`, `"8000-8002"`, `"udp"`, `"5353/udp"`))
		}
		b.WriteString("}\n")
	}
	writeTiers(&b, r, append(ends, `namespaces({ "kubernetes.io/metadata.name" = "envoy-gateway-system" })`, `namespace.app1`))
	return b.String(), ends
}

// TestIntentDifferentialGateways: with gateways and routes in the intent,
// every definite verdict (between services, outside clients and the
// gateways' data planes, on backend target ports and listener ports) holds
// in a random concrete world consistent with the declarations.
func TestIntentDifferentialGateways(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	compiled, tiered, decided, unknown, routes := 0, 0, 0, 0, 0
	for n := 0; n < 120; n++ {
		src, ends := gatewayIntent(t, r)
		in, objs, ok := loadIntent(t, src)
		if !ok {
			continue
		}
		compiled++
		if len(objs.ClusterPolicies) > 0 {
			tiered++
		}
		routes += checkRoutes(t, in)
		if t.Failed() {
			t.Logf("intent %d:\n%s", n, src)
			return
		}
		d, u := compareIntent(t, r, n, src, in, objs, ends, gatewayQueries)
		decided, unknown = decided+d, unknown+u
		if t.Failed() {
			return
		}
	}
	t.Logf("%d intents compiled (%d with guardrails or baselines), %d route parents matched, %d verdicts decided and confirmed, %d unknown", compiled, tiered, routes, decided, unknown)
	if compiled < 80 || tiered < 30 || routes < 200 || decided == 0 || unknown == 0 {
		t.Fatalf("too few cases: %d intents, %d with tiers, %d routes, %d decided, %d unknown", compiled, tiered, routes, decided, unknown)
	}
}

// routeWant is what the intent says a route (one of its parents) does: it
// is attached to a gateway (or a listener set of it) and sends traffic to
// these services.
type routeWant struct {
	kind, namespace, name string
	parent                hclspec.ParentRef
	backends              []hclspec.Backend
	host                  string // TLSRoute: an SNI name it serves
}

// intentRoutes lists, per route kind and parent, what the intent says.
func intentRoutes(in *hclspec.Intent) []routeWant {
	var out []routeWant
	for _, r := range in.HTTPRoutes {
		for _, p := range r.Parents {
			for _, rule := range r.Rules {
				out = append(out, routeWant{kind: "HTTPRoute", namespace: r.Namespace, name: r.Name, parent: p, backends: rule.Backends})
			}
		}
	}
	for _, r := range in.GRPCRoutes {
		for _, p := range r.Parents {
			for _, rule := range r.Rules {
				out = append(out, routeWant{kind: "GRPCRoute", namespace: r.Namespace, name: r.Name, parent: p, backends: rule.Backends})
			}
		}
	}
	for _, r := range in.L4Routes {
		for _, p := range r.Parents {
			w := routeWant{kind: r.Kind, namespace: r.Namespace, name: r.Name, parent: p, backends: r.Backends}
			if len(r.Hostnames) > 0 {
				w.host = r.Hostnames[0]
			}
			out = append(out, w)
		}
	}
	return out
}

// checkRoutes compares the intent's routes with the rendered ones read back:
// each is attached to its gateway (or listener set) on its listener, an L4
// route is the one (or among the tied ones) package reach resolves for a
// connection on that listener, its backendRefs name exactly the intent's
// services, and every cross-namespace backend is permitted by a rendered
// ReferenceGrant (without one the gateway refuses the reference, and the
// traffic the intent exposes would never flow).
func checkRoutes(t *testing.T, in *hclspec.Intent) int {
	t.Helper()
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rendered := readBack(t, objs)
	l4, err := L4RoutesOf(rendered)
	if err != nil {
		t.Fatal(err)
	}
	others, grants := otherRoutes(t, rendered)
	checked := 0
	for _, want := range intentRoutes(in) {
		var got *L4Route
		if want.kind == "HTTPRoute" || want.kind == "GRPCRoute" {
			got = others[want.kind+"/"+want.namespace+"/"+want.name]
		} else {
			got = resolvedL4(l4, want)
		}
		if got == nil {
			t.Errorf("%s %s/%s: not found on parent %+v in the rendered objects", want.kind, want.namespace, want.name, want.parent)
			return checked
		}
		if msg := sameBackends(want, got, grants); msg != "" {
			t.Errorf("%s %s/%s: %s", want.kind, want.namespace, want.name, msg)
			return checked
		}
		checked++
	}
	return checked
}

// readBack renders objects to YAML and reads them back.
func readBack(t *testing.T, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(y, &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// resolvedL4 is the rendered L4 route package reach resolves for a
// connection on want's listener, when want is it or tied with it.
func resolvedL4(routes []L4Route, want routeWant) *L4Route {
	g := want.parent.Gateway
	req := L4Request{Kind: want.kind, Host: want.host, Listeners: []string{want.parent.Listener}}
	if ls := want.parent.ListenerSet; ls != nil {
		g = ls.Gateway
		req.Sets, req.OnlySets = []string{ls.Namespace + "/" + ls.Name}, true
	}
	m, ok := ResolveL4(routes, g.Namespace, g.Name, req)
	if !ok {
		return nil
	}
	for _, r := range append([]*L4Route{m.Route}, m.Tied...) {
		if r.Namespace == want.namespace && r.Name == want.name {
			return r
		}
	}
	return nil
}

// otherRoutes reads the rendered HTTPRoutes and GRPCRoutes (their parents
// and backends, in L4Route's shape) by kind/namespace/name, and the
// ReferenceGrants.
func otherRoutes(t *testing.T, objs []*unstructured.Unstructured) (map[string]*L4Route, []gwv1.ReferenceGrant) {
	out := map[string]*L4Route{}
	var grants []gwv1.ReferenceGrant
	for _, u := range objs {
		from := func(obj any) {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
				t.Fatal(err)
			}
		}
		r := &L4Route{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
		switch u.GetKind() {
		case "HTTPRoute":
			var hr gwv1.HTTPRoute
			from(&hr)
			r.ParentRefs = hr.Spec.ParentRefs
			for _, rule := range hr.Spec.Rules {
				for _, b := range rule.BackendRefs {
					r.Backends = append(r.Backends, b.BackendRef)
				}
			}
		case "GRPCRoute":
			var gr gwv1.GRPCRoute
			from(&gr)
			r.ParentRefs = gr.Spec.ParentRefs
			for _, rule := range gr.Spec.Rules {
				for _, b := range rule.BackendRefs {
					r.Backends = append(r.Backends, b.BackendRef)
				}
			}
		case "ReferenceGrant":
			var g gwv1.ReferenceGrant
			from(&g)
			grants = append(grants, g)
			continue
		default:
			continue
		}
		out[r.Kind+"/"+r.Namespace+"/"+r.Name] = r
	}
	return out, grants
}

// sameBackends checks that every backend the intent gives the route is
// among the rendered route's backendRefs (same service, namespace and
// port), and that a cross-namespace one is granted.
func sameBackends(want routeWant, got *L4Route, grants []gwv1.ReferenceGrant) string {
	for _, b := range want.backends {
		found := false
		for _, ref := range got.Backends {
			ns := got.Namespace
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			if string(ref.Name) == b.Service.Name && ns == b.Service.Namespace && ref.Port != nil && int32(*ref.Port) == b.Service.Port &&
				(ref.Kind == nil || *ref.Kind == "Service") {
				found = true
			}
		}
		if !found {
			return fmt.Sprintf("the rendered route has no backendRef to service %s/%s:%d", b.Service.Namespace, b.Service.Name, b.Service.Port)
		}
		if b.Service.Namespace != got.Namespace && !granted(grants, want.kind, got.Namespace, b.Service.Namespace, b.Service.Name) {
			return fmt.Sprintf("no rendered ReferenceGrant lets %s in %s refer to service %s/%s", want.kind, got.Namespace, b.Service.Namespace, b.Service.Name)
		}
	}
	return ""
}

// granted reports whether a ReferenceGrant in namespace ns lets routes of
// kind in fromNS refer to Service name.
func granted(grants []gwv1.ReferenceGrant, kind, fromNS, ns, name string) bool {
	for _, g := range grants {
		if g.Namespace != ns {
			continue
		}
		fromOK, toOK := false, false
		for _, f := range g.Spec.From {
			fromOK = fromOK || (string(f.Group) == gwv1.GroupName && string(f.Kind) == kind && string(f.Namespace) == fromNS)
		}
		for _, to := range g.Spec.To {
			toOK = toOK || (to.Group == "" && to.Kind == "Service" && (to.Name == nil || string(*to.Name) == name))
		}
		if fromOK && toOK {
			return true
		}
	}
	return false
}

// gatewayEnd builds the concrete data-plane pods of a gateway from what the
// implementation really labels them with (not from the intent's
// representative pod, so that a representative with the wrong labels or
// namespace is caught): envoy-gateway's proxies run in its controller's
// namespace, labelled with the owning Gateway's name and namespace; Istio's
// run in the Gateway's namespace, labelled with its name; a custom data
// plane carries what its data_plane block declares.
func (t *truth) gatewayEnd(g *hclspec.Gateway, peer Peer) end {
	ns, l := g.DataPlane.Namespace, map[string]string{}
	switch g.Implementation {
	case hclspec.EnvoyGateway:
		l = map[string]string{"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
			"app.kubernetes.io/managed-by":              "envoy-gateway",
			"gateway.envoyproxy.io/owning-gateway-name": g.Name, "gateway.envoyproxy.io/owning-gateway-namespace": g.Namespace}
	case hclspec.Istio:
		ns = g.Namespace
		l = map[string]string{"gateway.networking.k8s.io/gateway-name": g.Name, "istio.io/gateway-name": g.Name,
			"service.istio.io/canonical-name": g.Name + "-istio"}
	default:
		for k, v := range g.DataPlane.Selector {
			l[k] = v
		}
	}
	pods := t.podsFor(&Pod{Namespace: ns, Name: "gateway-" + g.Label, Labels: l, PortsOpen: true, LabelsOpen: true})
	return end{expr: "gateway." + g.Label + " data plane", peer: peer, truth: [][2]Peer{{PodPeer(pods[0]), PodPeer(pods[1])}}}
}
