package generate_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
)

// TestDataPlaneReachesEveryBackend is the property that no route is ever
// blackholed by the stack's own policies: for random intents (managed
// data-plane namespaces that deny ingress or egress, or are isolated by an
// allow; envoy-gateway, istio and custom gateways; managed and unmanaged
// gateways; cross-namespace backends; tls_route, tcp_route and udp_route
// on managed TCP, TLS and UDP listeners), the compiled policies let each
// gateway's data plane reach every backend of every route on its target
// port, and let clients reach the data plane on each listener port.
func TestDataPlaneReachesEveryBackend(t *testing.T) {
	l4Checked := map[string]int{} // by kind, and "set" for routes on listener sets
	defer func() {
		for _, kind := range []string{hclspec.TLSRouteKind, hclspec.TCPRouteKind, hclspec.UDPRouteKind, "set"} {
			if l4Checked[kind] < 20 {
				t.Errorf("only %d %s backends checked; the generator no longer covers them", l4Checked[kind], kind)
			}
		}
	}()
	for seed := int64(0); seed < 300; seed++ {
		src := randomGatewayIntent(rand.New(rand.NewSource(seed)))
		files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
		if diags.HasErrors() {
			t.Fatalf("seed %d: %s\n%s", seed, diags.Error(), src)
		}
		in, diags := hclspec.Decode(files, hclspec.Options{})
		if diags.HasErrors() {
			t.Fatalf("seed %d: %s\n%s", seed, diags.Error(), src)
		}
		objs, diags := generate.Objects(in)
		if diags.HasErrors() {
			t.Fatalf("seed %d: %s\n%s", seed, diags.Error(), src)
		}
		pols, err := reach.PoliciesOf(objs)
		if err != nil {
			t.Fatal(err)
		}
		w, err := reach.FromIntent(in, pols)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range in.HTTPRoutes {
			for _, p := range r.Parents {
				for _, rule := range r.Rules {
					for _, b := range rule.Backends {
						checkDataPlaneToBackend(t, seed, src, w, p.Gateway, b.Service, "TCP")
					}
				}
			}
		}
		for _, r := range in.L4Routes {
			for _, p := range r.Parents {
				for _, b := range r.Backends {
					checkDataPlaneToBackend(t, seed, src, w, p.Gateway, b.Service, r.Protocol())
					l4Checked[r.Kind]++
					if p.ListenerSet != nil {
						l4Checked["set"]++
					}
				}
			}
		}
		for _, g := range in.Gateways {
			checkClientsToDataPlane(t, seed, src, w, g)
			checkDataPlaneToControlPlane(t, seed, src, w, g)
		}
	}
}

func checkDataPlaneToBackend(t *testing.T, seed int64, src string, w *reach.Intent, g *hclspec.Gateway, s *hclspec.Service, protocol string) {
	t.Helper()
	to, _ := w.Peer(hclspec.Endpoint{Kind: hclspec.EndpointService, Service: s, Namespace: s.Namespace})
	port := reach.Port{Number: s.TargetPort.Number, Name: s.TargetPort.Name, Protocol: corev1.Protocol(protocol)}
	if v := w.Evaluate(w.GatewayPeer(g), to, port); !v.Allowed {
		t.Fatalf("seed %d: gateway %s cannot reach service %s on %s:\n%s\n%s", seed, g.Label, s.Label, port, fmt.Sprintf("egress %+v ingress %+v", v.Egress, v.Ingress), src)
	}
}

func checkDataPlaneToControlPlane(t *testing.T, seed int64, src string, w *reach.Intent, g *hclspec.Gateway) {
	t.Helper()
	cp, ok := generate.ControlPlane(g)
	if !ok {
		return
	}
	to, _ := w.Peer(hclspec.Endpoint{Kind: hclspec.EndpointPods, Namespace: cp.Pods.Namespace, PodSelector: cp.Pods.Selector})
	port := reach.Port{Number: cp.Port.Port, Protocol: "TCP"}
	if v := w.Evaluate(w.GatewayPeer(g), to, port); !v.Allowed {
		t.Fatalf("seed %d: gateway %s cannot reach its control plane on %s:\n%s", seed, g.Label, port, src)
	}
}

func checkClientsToDataPlane(t *testing.T, seed int64, src string, w *reach.Intent, g *hclspec.Gateway) {
	t.Helper()
	client := reach.IPPeer(netip.MustParseAddr("192.0.2.10"))
	if len(g.Clients) > 0 {
		p, err := w.Peer(g.Clients[0])
		if err != nil {
			t.Fatal(err)
		}
		client = p
	}
	ports := generate.DataPlanePorts(g)
	if g.Manage == nil && g.ListenerPorts == nil {
		// the Gateway's own ports are unknown: any TCP port must stay open
		ports = []hclspec.PortSpec{{Protocol: "TCP", Port: 443}}
		for _, ls := range g.ListenerSets {
			for _, l := range ls.Listeners {
				ports = append(ports, hclspec.PortSpec{Protocol: map[bool]string{true: "UDP", false: "TCP"}[l.Protocol == "UDP"], Port: l.Port})
			}
		}
	}
	for _, p := range ports {
		port := reach.Port{Number: p.Port, Protocol: corev1.Protocol(p.Protocol)}
		if v := w.Evaluate(client, w.GatewayPeer(g), port); !v.Allowed {
			t.Fatalf("seed %d: clients cannot reach gateway %s on %s:\n%s\n%s", seed, g.Label, port, fmt.Sprintf("egress %+v ingress %+v", v.Egress, v.Ingress), src)
		}
	}
}

// randomGatewayIntent writes an intent with three gateways (envoy-gateway,
// istio, custom), application namespaces, and data-plane namespaces that
// are sometimes managed and restricted in random ways.
func randomGatewayIntent(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("perimeter {\n  stack = \"prop\"\n}\n")
	deny := func() string {
		return [...]string{`[]`, `["ingress"]`, `["egress"]`, `["ingress", "egress"]`}[r.Intn(4)]
	}
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&b, "namespace \"app%d\" {\n  default_deny = %s\n}\n", i, deny())
	}
	// the data-plane namespaces: envoy's controller namespace, istio's
	// gateway namespace, the custom proxy's namespace
	dataNS := []string{"envoy-gateway-system", "infra", "edge"}
	for i, ns := range dataNS {
		if r.Intn(4) == 0 {
			continue // not managed
		}
		fmt.Fprintf(&b, "namespace \"dp%d\" {\n  name = %q\n  default_deny = %s\n}\n", i, ns, deny())
		if r.Intn(3) == 0 {
			// an allow that isolates the whole namespace for one direction
			if r.Intn(2) == 0 {
				fmt.Fprintf(&b, "allow \"dp%d out\" {\n  from = namespace.dp%d\n  to = cidr(\"198.51.100.0/24\")\n}\n", i, i)
			} else {
				fmt.Fprintf(&b, "allow \"dp%d in\" {\n  from = service.s0\n  to = namespace.dp%d\n}\n", i, i)
			}
		}
	}
	gateways := []string{"envoy", "mesh", "proxy"}
	var managed, unmanaged []string
	extras := func(name, class string) string {
		s, m := gatewayExtras(r, class)
		if m {
			managed = append(managed, name)
		} else {
			unmanaged = append(unmanaged, name)
		}
		return s
	}
	fmt.Fprintf(&b, "gateway \"envoy\" {\n  namespace = \"infra\"\n  implementation = \"envoy-gateway\"\n%s}\n", extras("envoy", "eg"))
	fmt.Fprintf(&b, "gateway \"mesh\" {\n  namespace = \"infra\"\n  implementation = \"istio\"\n%s}\n", extras("mesh", "istio"))
	fmt.Fprintf(&b, "gateway \"proxy\" {\n  namespace = \"edge\"\n  implementation = \"custom\"\n  data_plane {\n    namespace = \"edge\"\n    selector = { app = \"proxy\" }\n  }\n%s}\n", extras("proxy", "custom"))
	services := 2 + r.Intn(4)
	for i := 0; i < services; i++ {
		target := fmt.Sprint(8000 + r.Intn(3))
		if r.Intn(5) == 0 {
			target = `"http"`
		}
		fmt.Fprintf(&b, "service \"s%d\" {\n  namespace = \"app%d\"\n  selector = { app = \"s%d\" }\n  port = 80\n  target_port = %s\n}\n", i, r.Intn(3), i, target)
	}
	for i := 0; i < 1+r.Intn(4); i++ {
		fmt.Fprintf(&b, "route \"r%d\" {\n  namespace = \"app%d\"\n  gateway = gateway.%s\n  rule {\n    backend = service.s%d\n  }\n}\n",
			i, r.Intn(3), gateways[r.Intn(3)], r.Intn(services))
	}
	randomL4Routes(r, &b, managed, services)
	randomListenerSets(r, &b, unmanaged, services)
	return b.String()
}

// randomL4Routes adds UDP services and tls_route, tcp_route and udp_route
// blocks on the L4 listeners of the managed gateways.
func randomL4Routes(r *rand.Rand, b *strings.Builder, managed []string, services int) {
	udp := 1 + r.Intn(2)
	for i := 0; i < udp; i++ {
		fmt.Fprintf(b, "service \"u%d\" {\n  namespace = \"app%d\"\n  selector = { app = \"u%d\" }\n  port = 53\n  target_port = %d\n  protocol = \"udp\"\n}\n",
			i, r.Intn(3), i, 5353+r.Intn(2))
	}
	for i, g := range managed {
		for j := 0; j < r.Intn(4); j++ {
			ns := fmt.Sprintf("app%d", r.Intn(3))
			switch r.Intn(3) {
			case 0:
				fmt.Fprintf(b, "tcp_route \"l%dx%d\" {\n  namespace = %q\n  gateway = gateway.%s\n  listener = \"pg\"\n  backend = service.s%d\n}\n", i, j, ns, g, r.Intn(services))
			case 1:
				fmt.Fprintf(b, "tls_route \"l%dx%d\" {\n  namespace = %q\n  gateway = gateway.%s\n  listener = \"tls\"\n  hostnames = [\"db.example.com\"]\n  backend = service.s%d\n}\n", i, j, ns, g, r.Intn(services))
			default:
				fmt.Fprintf(b, "udp_route \"l%dx%d\" {\n  namespace = %q\n  gateway = gateway.%s\n  listener = \"dns\"\n  backend = service.u%d\n}\n", i, j, ns, g, r.Intn(udp))
			}
		}
	}
}

// randomListenerSets adds, on some gateways the stack does not manage, a
// listener_set with a TCP and a UDP listener and routes on them.
func randomListenerSets(r *rand.Rand, b *strings.Builder, gateways []string, services int) {
	for i, g := range gateways {
		if r.Intn(2) == 0 {
			continue
		}
		fmt.Fprintf(b, "listener_set \"ls%d\" {\n  namespace = \"app%d\"\n  gateway = gateway.%s\n  listener \"pg\" {\n    protocol = \"TCP\"\n    port = 15432\n  }\n  listener \"dns\" {\n    protocol = \"UDP\"\n    port = 1053\n  }\n}\n", i, r.Intn(3), g)
		fmt.Fprintf(b, "tcp_route \"ls%dtcp\" {\n  namespace = \"app%d\"\n  gateway = listener_set.ls%d\n  listener = \"pg\"\n  backend = service.s%d\n}\n", i, r.Intn(3), i, r.Intn(services))
		fmt.Fprintf(b, "udp_route \"ls%dudp\" {\n  namespace = \"app%d\"\n  gateway = listener_set.ls%d\n  listener = \"dns\"\n  backend = service.u0\n}\n", i, r.Intn(3), i)
	}
}

// gatewayExtras adds, at random, clients, listener ports or a managed
// Gateway with its listeners (HTTP, and TCP, TLS passthrough and UDP ones
// for the L4 routes); managed reports the last.
func gatewayExtras(r *rand.Rand, class string) (extras string, managed bool) {
	var b strings.Builder
	if r.Intn(2) == 0 {
		b.WriteString("  clients = [cidr(\"203.0.113.0/24\")]\n")
	}
	switch r.Intn(3) {
	case 0:
		fmt.Fprintf(&b, "  manage {\n    class = %q\n    listener \"http\" {\n      protocol = \"HTTP\"\n      port = %d\n    }\n%s  }\n", class, []int{80, 8080}[r.Intn(2)], l4Listeners)
		managed = true
	case 1:
		b.WriteString("  listener_ports = [80, 443]\n")
	}
	return b.String(), managed
}

const l4Listeners = `    listener "pg" {
      protocol = "TCP"
      port = 5432
    }
    listener "tls" {
      protocol = "TLS"
      port = 443
      tls_mode = "passthrough"
    }
    listener "dns" {
      protocol = "UDP"
      port = 53
    }
`
