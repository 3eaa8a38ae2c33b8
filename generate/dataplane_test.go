package generate_test

import (
	"fmt"
	"math/rand"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/testgen"
	"github.com/perimeter-dev/perimeter/reach"
)

// TestDataPlaneReachesEveryBackend is the property that no route is ever
// blackholed by the stack's own policies: for random intents (managed
// data-plane namespaces that deny ingress or egress, or are isolated by an
// allow; envoy-gateway, istio and custom gateways; managed and unmanaged
// gateways; HTTP and gRPC routes; cross-namespace backends; tls_route, tcp_route and udp_route
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
		src := testgen.GatewayIntent(rand.New(rand.NewSource(seed)))
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
		for _, r := range in.GRPCRoutes {
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
