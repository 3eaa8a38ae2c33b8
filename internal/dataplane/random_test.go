package dataplane

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// randomIntents is how many random intents TestRandomIntentsOnPackets
// probes (with the examples, well over 20 intents a run).
const randomIntents = 18

// TestRandomIntentsOnPackets: random intents, each in one of its
// environments, behave on real packets as reach says, pair by pair and
// port by port. The generator covers what the compiler emits: default
// deny per namespace and per service, DNS on and off, cross-namespace
// allows, namespace and namespaces({...}) ends, IP blocks with
// exceptions, named, numbered, ranged and UDP ports, and routes whose
// gateways' data-plane pods must reach their backends.
func TestRandomIntentsOnPackets(t *testing.T) {
	sb := Get(t)
	r := rand.New(rand.NewSource(18))
	done := 0
	var seen coverage
	for i := 0; done < randomIntents && i < 10*randomIntents; i++ {
		src := randomPacketIntent(r)
		files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
		if diags.HasErrors() {
			t.Fatalf("generated HCL does not parse: %s\n%s", diags, src)
		}
		env := []string{"", "dev", "prod"}[r.Intn(3)]
		in, diags := hclspec.Decode(files, hclspec.Options{Env: env})
		if in == nil || diags.HasErrors() {
			continue
		}
		if _, diags := generate.Objects(in); diags.HasErrors() {
			continue // e.g. an allow into a namespace the stack does not manage
		}
		name := fmt.Sprintf("random-%d/%s", i, env)
		ok := t.Run(name, func(t *testing.T) {
			seen.add(probeIntent(t, sb, in, name))
		})
		if !ok {
			t.Logf("intent %s:\n%s", name, src)
		}
		done++
	}
	if done < randomIntents {
		t.Fatalf("only %d random intents compiled", done)
	}
	seen.check(t)
}

// coverage counts kinds of probes over the random intents, open and
// closed, so that a generator that stops producing one fails the test.
type coverage map[string][2]int

func (c *coverage) add(cs []Comparison) {
	if *c == nil {
		*c = coverage{}
	}
	for _, x := range cs {
		var kinds []string
		if x.Port.Protocol == "UDP" {
			kinds = append(kinds, "UDP")
		}
		if x.To.Host != nil {
			kinds = append(kinds, "to an external host")
		}
		if x.From.Host != nil {
			kinds = append(kinds, "from an external host")
		}
		if x.From.Pod != nil && strings.HasPrefix(x.From.Pod.Spec.Name, "gateway-") {
			kinds = append(kinds, "from a gateway's data plane")
		}
		if x.From.Pod != nil && x.To.Pod != nil && x.From.Pod.Spec.Namespace != x.To.Pod.Spec.Namespace {
			kinds = append(kinds, "across namespaces")
		}
		if x.To.Pod != nil && x.Reach.Ingress.Isolated && len(x.Reach.Ingress.AllowedBy) > 0 {
			for _, cp := range x.To.Pod.Spec.ContainerPorts {
				if cp.Name != "" && cp.ContainerPort == x.Port.Number {
					kinds = append(kinds, "to a named port")
				}
			}
		}
		for _, k := range kinds {
			v := (*c)[k]
			if x.Open {
				v[0]++
			} else {
				v[1]++
			}
			(*c)[k] = v
		}
	}
}

func (c coverage) check(t *testing.T) {
	for _, k := range []string{"UDP", "to an external host", "from an external host", "from a gateway's data plane", "across namespaces", "to a named port"} {
		v := c[k]
		t.Logf("probes %s: %d open, %d closed", k, v[0], v[1])
		if v[0] == 0 || v[1] == 0 {
			t.Errorf("the random intents produced no %s probe that is open and closed both: %v", k, v)
		}
	}
}

var (
	rTeams = []string{"shop", "ops", "data"}
	rCIDRs = []string{
		`cidr("203.0.113.0/24")`, `cidr("198.51.100.0/24", ["198.51.100.0/25"])`,
		`cidr("192.0.2.0/24", ["192.0.2.0/28", "192.0.2.128/25"])`, `cidr(var.partner)`, `cidr("8.8.8.8/32")`,
		// blocks that hold pod addresses (10.244.0.0/16): ipBlocks match pods too
		`cidr("10.0.0.0/8")`, `cidr("10.244.0.0/16", ["10.244.1.0/30"])`,
	}
	rPorts = []string{`"8080"`, `"http"`, `"metrics"`, `"9000-9200"`, `"udp"`, `"53/udp"`, `"5000-5100/udp"`, `"443/tcp"`, `var.port`}
)

// randomPacketIntent writes a random intent over namespaces a, b (managed,
// random baselines and labels) and c (managed or not), services with
// numbered or named target ports, allows between random ends, and routes
// through istio, envoy-gateway or custom gateways.
func randomPacketIntent(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("perimeter {\n  stack = \"packets\"\n}\n")
	b.WriteString("variable \"partner\" {\n  type = string\n  default = \"198.51.100.0/24\"\n}\n")
	b.WriteString("variable \"port\" {\n  type = string\n  default = \"8080\"\n}\n")
	b.WriteString("environment \"dev\" {\n  variables = { partner = \"203.0.113.0/25\", port = \"9100\" }\n}\n")
	b.WriteString("environment \"prod\" {\n  variables = { partner = \"192.0.2.64/26\", port = \"5353/udp\" }\n}\n")
	for _, ns := range []string{"a", "b", "c"} {
		if ns == "c" && r.Intn(2) == 0 {
			continue // not managed
		}
		fmt.Fprintf(&b, "namespace %q {\n  default_deny = %s\n", ns, pick(r, `["ingress", "egress"]`, `["ingress"]`, `["egress"]`, `[]`))
		if r.Intn(3) > 0 {
			fmt.Fprintf(&b, "  labels = { team = %q }\n", pick(r, rTeams...))
		}
		if r.Intn(3) == 0 {
			fmt.Fprintf(&b, "  dns = %v\n", r.Intn(2) == 0)
		}
		b.WriteString("}\n")
	}
	ends := []string{"namespace.a", `pods("c", { app = "x" })`, fmt.Sprintf(`namespaces({ team = %q })`, pick(r, rTeams...)),
		`namespaces({ "kubernetes.io/metadata.name" = "b" })`}
	services := 2 + r.Intn(3)
	for i := 0; i < services; i++ {
		writeRandomService(&b, r, i)
		ends = append(ends, fmt.Sprintf("service.s%d", i), fmt.Sprintf("service.s%d", i))
	}
	for i := 0; i < 2+r.Intn(4); i++ {
		from, to := pick(r, ends...), pick(r, ends...)
		if r.Intn(3) == 0 {
			if r.Intn(2) == 0 {
				to = pick(r, rCIDRs...)
			} else {
				from = pick(r, rCIDRs...)
			}
		}
		fmt.Fprintf(&b, "allow \"r%d\" {\n  from = %s\n  to = %s\n", i, from, to)
		if r.Intn(3) > 0 {
			fmt.Fprintf(&b, "  ports = [%s]\n", pick(r, rPorts...))
		}
		b.WriteString("}\n")
	}
	writeRandomRoutes(&b, r, services)
	return b.String()
}

func writeRandomService(b *strings.Builder, r *rand.Rand, i int) {
	fmt.Fprintf(b, "service \"s%d\" {\n  namespace = %q\n  selector = { app = \"s%d\" }\n  port = 80\n", i, pick(r, "a", "a", "b", "c"), i)
	switch r.Intn(4) {
	case 0:
		b.WriteString("  target_port = \"http\"\n  ports = { http = 8081, metrics = 9100 }\n")
	case 1:
		b.WriteString("  target_port = \"http\"\n")
	case 2:
		b.WriteString("  protocol = \"UDP\"\n  target_port = 5353\n")
	default:
		fmt.Fprintf(b, "  target_port = %d\n", []int{8080, 9000, 9150}[r.Intn(3)])
	}
	if r.Intn(4) == 0 {
		fmt.Fprintf(b, "  default_deny = %s\n", pick(r, `["ingress"]`, `["egress"]`, `["ingress", "egress"]`))
	}
	if r.Intn(5) == 0 {
		b.WriteString("  dns = false\n")
	}
	b.WriteString("}\n")
}

// writeRandomRoutes adds, half the time, a gateway (istio in infra,
// envoy-gateway, or a custom data plane in edge) and routes to services.
func writeRandomRoutes(b *strings.Builder, r *rand.Rand, services int) {
	if r.Intn(2) == 0 {
		return
	}
	switch r.Intn(3) {
	case 0:
		b.WriteString("gateway \"gw\" {\n  namespace = \"infra\"\n  implementation = \"istio\"\n  listener_ports = [80]\n}\n")
	case 1:
		b.WriteString("gateway \"gw\" {\n  namespace = \"infra\"\n  implementation = \"envoy-gateway\"\n  clients = [cidr(\"203.0.113.0/24\")]\n}\n")
	default:
		b.WriteString("gateway \"gw\" {\n  namespace = \"edge\"\n  implementation = \"custom\"\n  data_plane {\n    namespace = \"edge\"\n    selector = { app = \"proxy\" }\n  }\n}\n")
		if r.Intn(2) == 0 {
			b.WriteString("namespace \"edge\" {\n  default_deny = [\"ingress\", \"egress\"]\n}\n")
		}
	}
	for i := 0; i < 1+r.Intn(2); i++ {
		fmt.Fprintf(b, "route \"rt%d\" {\n  namespace = %q\n  gateway = gateway.gw\n  rule {\n    backend = service.s%d\n  }\n}\n", i, pick(r, "a", "b"), r.Intn(services))
	}
}

func pick(r *rand.Rand, s ...string) string { return s[r.Intn(len(s))] }
