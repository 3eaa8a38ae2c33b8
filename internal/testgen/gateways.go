// Package testgen writes random boundary intents for property and
// differential tests. It is imported by tests only; it lives in its own
// package so that tests of generate and of reach draw from one generator.
package testgen

import (
	"fmt"
	"math/rand"
	"strings"
)

// GatewayIntent writes an intent with three gateways (envoy-gateway,
// istio, custom), application namespaces, and data-plane namespaces that
// are sometimes managed and restricted in random ways; HTTP and gRPC
// routes, tls, tcp and udp routes on the managed gateways' listeners and
// listener sets on unmanaged ones, their backends in random namespaces.
func GatewayIntent(r *rand.Rand) string {
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
	for i := 0; i < r.Intn(3); i++ {
		fmt.Fprintf(&b, "grpc_route \"g%d\" {\n  namespace = \"app%d\"\n  gateway = gateway.%s\n  rule {\n    grpc_service = \"svc.V%d\"\n    backend = service.s%d\n  }\n}\n",
			i, r.Intn(3), gateways[r.Intn(3)], i, r.Intn(services))
	}
	l4Routes(r, &b, managed, services)
	listenerSets(r, &b, unmanaged, services)
	return b.String()
}

// l4Routes adds UDP services and tls_route, tcp_route and udp_route
// blocks on the L4 listeners of the managed gateways.
func l4Routes(r *rand.Rand, b *strings.Builder, managed []string, services int) {
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

// listenerSets adds, on some gateways the stack does not manage, a
// listener_set with a TCP and a UDP listener and routes on them.
func listenerSets(r *rand.Rand, b *strings.Builder, gateways []string, services int) {
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
