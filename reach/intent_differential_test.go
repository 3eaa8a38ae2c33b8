package reach

import (
	"fmt"
	"math/rand"
	"net/netip"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// This file checks the intent-level model against the engine on concrete
// objects: for random intents, every verdict of Intent that is not unknown
// must equal the engine's verdict over the rendered YAML plus pods and
// namespaces built from the intent's declarations, with every fact the
// intent does not hold (labels of unmanaged namespaces, undeclared named
// ports, pod IPs) drawn at random.

var (
	diffTeams     = []string{"shop", "tools", "ops"}
	diffPortNames = []string{"http", "metrics", "grpc"}
	diffPortNums  = []int32{8080, 9102, 9000}
	diffCIDRs     = []string{"10.0.0.0/8", "10.1.0.0/16", "203.0.113.0/24", "0.0.0.0/0"}
	diffQueries   = []Port{
		{Number: 8080, Protocol: corev1.ProtocolTCP}, {Number: 9102, Protocol: corev1.ProtocolTCP},
		{Number: 53, Protocol: corev1.ProtocolUDP}, {Name: "http", Protocol: corev1.ProtocolTCP},
		{Name: "metrics", Protocol: corev1.ProtocolTCP},
	}
)

// randIntent writes a random intent: managed namespaces a and b (random
// labels), an unmanaged namespace ext, services, at times a gateway with
// routes to them, allow blocks between random endpoints. It returns the HCL and the endpoint expressions.
func randIntent(r *rand.Rand) (string, []string) { return randIntentWith(r) }

// randIntentWith is randIntent with extra endpoints to pick from.
func randIntentWith(r *rand.Rand, extra ...string) (string, []string) {
	var b strings.Builder
	b.WriteString("perimeter {\n  stack = \"diff\"\n}\n")
	for _, ns := range []string{"a", "b"} {
		fmt.Fprintf(&b, "namespace %q {\n  default_deny = %s\n", ns, pick(r, `["ingress", "egress"]`, `["ingress"]`, `["egress"]`, `[]`))
		if r.Intn(3) > 0 {
			fmt.Fprintf(&b, "  labels = { team = %q }\n", pick(r, diffTeams...))
		}
		b.WriteString("}\n")
	}
	ends := []string{`namespace.a`, `pods("ext", { app = "x" })`, fmt.Sprintf(`namespaces({ team = %q })`, pick(r, diffTeams...)),
		fmt.Sprintf(`cidr(%q)`, pick(r, diffCIDRs...))}
	ends = append(ends, extra...)
	for i := 0; i < 2+r.Intn(2); i++ {
		writeService(&b, r, i)
		ends = append(ends, fmt.Sprintf("service.s%d", i))
	}
	if r.Intn(2) == 0 {
		writeGateway(&b, r, 2)
	}
	for i := r.Intn(5); i > 0; i-- {
		fmt.Fprintf(&b, "allow \"r%d\" {\n  from = %s\n  to = %s\n", i, pick(r, ends...), pick(r, ends...))
		if r.Intn(2) == 0 {
			fmt.Fprintf(&b, "  ports = [%s]\n", pick(r, `"8080"`, `"metrics"`, `"http"`, `"9000-9200"`, `"udp"`))
		}
		b.WriteString("}\n")
	}
	writeTiers(&b, r, ends)
	return b.String(), ends
}

// writeTiers adds, half the time, guardrails and baselines with random
// subjects, peers, actions and ports, so that the tiers are compared too.
func writeTiers(b *strings.Builder, r *rand.Rand, ends []string) {
	if r.Intn(2) == 0 {
		return
	}
	var subjects []string
	for _, e := range ends {
		if !strings.HasPrefix(e, "cidr(") {
			subjects = append(subjects, e)
		}
	}
	peers := append(append([]string(nil), subjects...), `cidr("169.254.169.254/32")`, `cidr("10.0.0.0/8")`, `cidr("0.0.0.0/0")`)
	for i := r.Intn(3); i >= 0; i-- {
		fmt.Fprintf(b, "%s \"t%d\" {\n  priority = %d\n  subject = %s\n", pick(r, "guardrail", "baseline"), i, 10*i+r.Intn(5), pick(r, subjects...))
		for j := 1 + r.Intn(3); j > 0; j-- {
			dir, attr, list := "egress", "to", peers
			if r.Intn(2) == 0 {
				dir, attr, list = "ingress", "from", subjects
			}
			fmt.Fprintf(b, "  %s \"r%d\" {\n    action = %q\n    %s = %s\n", dir, j, pick(r, "accept", "deny", "pass"), attr, pick(r, list...))
			if r.Intn(2) == 0 {
				fmt.Fprintf(b, "    ports = [%s]\n", pick(r, `"8080"`, `"9000-9200"`, `"udp"`, `"53/udp"`))
			}
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
	}
}

func writeService(b *strings.Builder, r *rand.Rand, i int) {
	fmt.Fprintf(b, "service \"s%d\" {\n  namespace = %q\n  selector = { app = \"s%d\" }\n  port = 80\n", i, pick(r, "a", "b"), i)
	target := ""
	if r.Intn(2) == 0 {
		target = pick(r, diffPortNames...)
		fmt.Fprintf(b, "  target_port = %q\n", target)
	} else {
		fmt.Fprintf(b, "  target_port = %d\n", diffPortNums[r.Intn(len(diffPortNums))])
	}
	if r.Intn(2) == 0 {
		var decl []string
		for j, n := range diffPortNames {
			if n == target || r.Intn(2) == 0 {
				decl = append(decl, fmt.Sprintf("%s = %d", n, diffPortNums[(j+r.Intn(2))%len(diffPortNums)]))
			}
		}
		fmt.Fprintf(b, "  ports = { %s }\n", strings.Join(decl, ", "))
	}
	b.WriteString("}\n")
}

// writeGateway adds a custom gateway whose data plane lives in a, b or ext
// (so that namespace labels, default denies and allows of the random
// intent bear on it), managed or not, with clients at times, an HTTP route
// and, when managed, a TCP route to services s0 and s1 (each in a or b, so
// the backends are in the route's namespace or not).
func writeGateway(b *strings.Builder, r *rand.Rand, services int) {
	ns := pick(r, "a", "b", "ext")
	fmt.Fprintf(b, "gateway \"gw\" {\n  namespace = %q\n  implementation = \"custom\"\n  data_plane {\n    namespace = %q\n    selector = { app = \"gw\" }\n  }\n", ns, ns)
	if r.Intn(2) == 0 {
		fmt.Fprintf(b, "  clients = [%s]\n", pick(r, `cidr("203.0.113.0/24")`, `namespace.a`, `service.s0`))
	}
	managed := r.Intn(2) == 0
	if managed {
		b.WriteString("  manage {\n    class = \"custom\"\n    listener \"web\" {\n      protocol = \"HTTP\"\n      port = 8080\n    }\n    listener \"pg\" {\n      protocol = \"TCP\"\n      port = 9102\n    }\n  }\n")
	}
	b.WriteString("}\n")
	fmt.Fprintf(b, "route \"web\" {\n  namespace = %q\n  gateway = gateway.gw\n  rule {\n    backend = service.s%d\n  }\n}\n", pick(r, "a", "b"), r.Intn(services))
	if managed {
		fmt.Fprintf(b, "tcp_route \"pg\" {\n  namespace = %q\n  gateway = gateway.gw\n  listener = \"pg\"\n  backend = service.s%d\n}\n", pick(r, "a", "b"), r.Intn(services))
	}
}

func pick(r *rand.Rand, s ...string) string { return s[r.Intn(len(s))] }

// truth is a concrete world consistent with an intent's declarations.
type truth struct {
	r          *rand.Rand
	namespaces map[string]Namespace
	pods       []*Pod
	ip         byte
	// open marks the pods made for a representative whose other labels
	// are unknown (Pod.LabelsOpen).
	open map[*Pod]bool
}

// podsFor builds two concrete pods (a source and a destination, so that an
// endpoint reaching itself is not loopback) for the representative pod p
// of an endpoint: the same namespace and labels, the declared ports or,
// where they are open, random ones, and random IPs.
func (t *truth) podsFor(p *Pod) [2]*Pod {
	var out [2]*Pod
	ports := t.ports(p)
	for i := range out {
		t.ip++
		ip := netip.AddrFrom4([4]byte{10, byte(t.r.Intn(3)), 0, t.ip})
		out[i] = &Pod{Namespace: p.Namespace, Name: fmt.Sprintf("%s-%d", p.Name, i), Labels: p.Labels, IPs: []netip.Addr{ip}, Ports: ports}
		t.pods = append(t.pods, out[i])
		if p.LabelsOpen {
			if t.open == nil {
				t.open = map[*Pod]bool{}
			}
			t.open[out[i]] = true
		}
	}
	if _, ok := t.namespaces[p.Namespace]; !ok {
		l := map[string]string{}
		if t.r.Intn(2) == 0 {
			l["team"] = pick(t.r, diffTeams...)
		}
		t.namespaces[p.Namespace] = Namespace{Name: p.Namespace, Labels: l}
	}
	return out
}

// ports fills in what a representative pod leaves open: numbers of named
// ports, and other named ports.
func (t *truth) ports(p *Pod) []NamedPort {
	var out []NamedPort
	have := map[string]bool{}
	for _, np := range p.Ports {
		if np.Port == 0 {
			np.Port = diffPortNums[t.r.Intn(len(diffPortNums))]
		}
		have[np.Name] = true
		out = append(out, np)
	}
	if !p.PortsOpen {
		return out
	}
	for _, n := range diffPortNames {
		if !have[n] && t.r.Intn(2) == 0 {
			out = append(out, NamedPort{Name: n, Port: diffPortNums[t.r.Intn(len(diffPortNums))], Protocol: corev1.ProtocolTCP})
		}
	}
	return out
}

// renderedPolicies renders the intent to YAML and reads the policies back.
func renderedPolicies(t *testing.T, in *hclspec.Intent) (Objects, bool) {
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		return Objects{}, false
	}
	var back []*unstructured.Unstructured
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(y, &u.Object); err != nil {
			t.Fatal(err)
		}
		back = append(back, u)
	}
	o, err := FromObjects(back)
	if err != nil {
		t.Fatal(err)
	}
	return o, true
}

// TestIntentDifferential: every definite intent-level verdict holds in a
// random concrete world consistent with the declarations.
func TestIntentDifferential(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	compiled, tiered, gateways, decided, unknown := 0, 0, 0, 0, 0
	for n := 0; n < 400; n++ {
		src, ends := randIntent(r)
		in, objs, ok := loadIntent(t, src)
		if !ok {
			continue
		}
		compiled++
		if len(objs.ClusterPolicies) > 0 {
			tiered++
		}
		if len(in.Gateways) > 0 {
			gateways++
			checkRoutes(t, in)
		}
		d, u := compareIntent(t, r, n, src, in, objs, ends, diffQueries)
		decided, unknown = decided+d, unknown+u
		if t.Failed() {
			return
		}
	}
	t.Logf("%d intents compiled (%d with guardrails or baselines, %d with a gateway), %d verdicts decided and confirmed, %d unknown", compiled, tiered, gateways, decided, unknown)
	if compiled < 100 || tiered < 50 || gateways < 50 || decided == 0 || unknown == 0 {
		t.Fatalf("too few cases: %d intents, %d with tiers, %d with a gateway, %d decided, %d unknown", compiled, tiered, gateways, decided, unknown)
	}
}

func loadIntent(t *testing.T, src string) (*hclspec.Intent, Objects, bool) {
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("generated HCL does not parse: %s\n%s", diags, src)
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if in == nil || diags.HasErrors() {
		return nil, Objects{}, false
	}
	objs, ok := renderedPolicies(t, in)
	return in, objs, ok
}

// compareIntent evaluates every pair of endpoints on every probe port at
// the intent level and in a concrete world, and returns how many verdicts
// were decided and how many unknown.
func compareIntent(t *testing.T, r *rand.Rand, n int, src string, in *hclspec.Intent, objs Objects, exprs []string, queries []Port) (int, int) {
	w, tr, ends := intentWorld(t, r, in, objs, exprs)
	e, err := New(objs.Policies, tr.namespaceList(), tr.pods)
	if err == nil {
		err = e.AddClusterPolicies(objs.ClusterPolicies)
	}
	if err != nil {
		t.Fatal(err)
	}
	decided, unknown := 0, 0
	for _, f := range ends {
		for _, to := range ends {
			if f.peer.Pod == nil && to.peer.Pod == nil {
				continue
			}
			for _, q := range queries {
				v := w.Evaluate(f.peer, to.peer, q)
				if v.Unknown {
					unknown++
					continue
				}
				decided++
				if msg := confirm(v, e, f, to, q); msg != "" {
					t.Errorf("intent %d: %s -> %s on %s: %s\nintent facts: %v, pairs %+v\nworld: %s\n%s",
						n, f.expr, to.expr, q, msg, v.Facts, v.Pairs, tr.describe(), src)
					return decided, unknown
				}
			}
		}
	}
	return decided, unknown
}

// openNamespaceOf lists the namespaces the intent's engine holds open.
func openNamespaceOf(w *Intent) ([]Namespace, bool) {
	var out []Namespace
	for name, ns := range w.Engine.namespaces {
		if ns.open {
			out = append(out, Namespace{Name: name, Labels: ns.labels})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, len(out) > 0
}

// namespaceFor gives an open namespace its known labels, its name label and
// random others.
func (t *truth) namespaceFor(ns Namespace) {
	l := map[string]string{}
	if t.r.Intn(2) == 0 {
		l["team"] = pick(t.r, diffTeams...)
	}
	for k, v := range ns.Labels {
		l[k] = v
	}
	if l[NamespaceNameLabel] == "" {
		delete(l, NamespaceNameLabel)
	}
	t.namespaces[ns.Name] = Namespace{Name: ns.Name, Labels: l}
}

func (t *truth) namespaceList() []Namespace {
	var out []Namespace
	for _, ns := range t.namespaces {
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (t *truth) describe() string {
	var b strings.Builder
	for _, ns := range t.namespaceList() {
		fmt.Fprintf(&b, "namespace %s %v\n", ns.Name, ns.Labels)
	}
	for _, p := range t.pods {
		fmt.Fprintf(&b, "pod %s %v %v %v\n", p.Key(), p.Labels, p.IPs, p.Ports)
	}
	return b.String()
}

// end is an endpoint: its intent-level peer and the concrete pods it
// stands for (each a source and a destination pod).
type end struct {
	expr  string
	peer  Peer
	truth [][2]Peer
}

// endFor builds the concrete pods of an endpoint: those of its
// representative pod and, for namespaces({...}), of the declared namespaces
// it matches (the representative's own then only at random: other
// namespaces may or may not carry the labels).
func (t *truth) endFor(in *hclspec.Intent, e hclspec.Endpoint, expr string, p Peer) end {
	ed := end{expr: expr, peer: p}
	if p.Pod == nil {
		ed.truth = [][2]Peer{{p, p}}
		return ed
	}
	var members []*Pod
	if e.Kind == hclspec.EndpointNamespaces {
		for _, ns := range in.Namespaces {
			if labels.SelectorFromSet(e.NamespaceSelector).Matches(namespaceLabels(ns.Name, ns.Labels)) {
				members = append(members, &Pod{Namespace: ns.Name, Name: "member", PortsOpen: true})
			}
		}
	}
	if len(members) == 0 || t.r.Intn(2) == 0 {
		pods := t.podsFor(p.Pod)
		ed.truth = append(ed.truth, [2]Peer{PodPeer(pods[0]), PodPeer(pods[1])})
	}
	for _, m := range members {
		pods := t.podsFor(m)
		ed.truth = append(ed.truth, [2]Peer{PodPeer(pods[0]), PodPeer(pods[1])})
	}
	return ed
}

// confirm checks a definite intent verdict against every concrete pair:
// allowed means all are; denied with no allowed or unknown pair means none
// is; denied or allowed pairs counted mean some concrete pair is.
func confirm(v Verdict, e *Engine, from, to end, q Port) string {
	allowed, denied := 0, 0
	for _, f := range from.truth {
		for _, t := range to.truth {
			if e.Evaluate(f[0], t[1], q).Allowed {
				allowed++
			} else {
				denied++
			}
		}
	}
	c := v.pairCounts()
	switch {
	case v.Allowed && denied > 0:
		return fmt.Sprintf("intent says allowed, %d concrete pair(s) are denied", denied)
	case !v.Allowed && c.Allowed == 0 && c.Unknown == 0 && allowed > 0:
		return fmt.Sprintf("intent says denied, %d concrete pair(s) are allowed", allowed)
	case c.Denied > 0 && denied == 0:
		return "intent counts denied pairs, no concrete pair is"
	case c.Allowed > 0 && allowed == 0:
		return "intent counts allowed pairs, no concrete pair is"
	}
	return ""
}

// intentWorld builds the intent-level evaluator and a concrete world with
// one end per endpoint expression and per gateway.
func intentWorld(t *testing.T, r *rand.Rand, in *hclspec.Intent, objs Objects, exprs []string) (*Intent, *truth, []end) {
	t.Helper()
	w, err := FromIntent(in, objs.Policies, objs.ClusterPolicies...)
	if err != nil {
		t.Fatal(err)
	}
	tr := &truth{r: r, namespaces: map[string]Namespace{}}
	for _, ns := range in.Namespaces {
		tr.namespaces[ns.Name] = Namespace{Name: ns.Name, Labels: ns.Labels}
	}
	var ends []end
	for _, x := range exprs {
		e, _, diags := in.EvalEndpoint(x, "test")
		if diags.HasErrors() {
			t.Fatalf("%s: %s", x, diags)
		}
		p, err := w.Peer(e)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, tr.endFor(in, e, x, p))
	}
	for _, g := range in.Gateways {
		ends = append(ends, tr.gatewayEnd(g, w.GatewayPeer(g)))
	}
	if nsw, ok := openNamespaceOf(w); ok {
		for _, ns := range nsw {
			tr.namespaceFor(ns)
		}
	}
	return w, tr, ends
}
