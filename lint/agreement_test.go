package lint

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/reach"
)

// TestLintAgreesWithEngine checks every isolation-related lint finding of
// random intents against package reach evaluated over the rendered YAML,
// with pods built by hand (not through the lint's own helpers): "Egress left
// open" exactly where an unlabelled pod of the namespace is not isolated
// for egress, "Allow isolates" only where the subject really is isolated
// and no default_deny says so (and for every namespace an allow isolates),
// and "Egress denied without DNS" only where DNS is really denied.
func TestLintAgreesWithEngine(t *testing.T) {
	counts := map[string]int{}
	defer func() { t.Logf("findings checked: %v", counts) }()
	for seed := int64(0); seed < 200; seed++ {
		src := randomLintIntent(rand.New(rand.NewSource(seed)))
		in := loadQuiet(t, src)
		objs, diags := generate.Objects(in)
		if diags.HasErrors() {
			t.Fatalf("seed %d: %s\n%s", seed, diags.Error(), src)
		}
		e := engineOverYAML(t, objs)
		fs := Intent(in, objs)
		for _, f := range fs {
			counts[f.Summary]++
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: %s\n%s\n%s", seed, fmt.Sprintf(format, args...), render(fs), src)
		}
		for _, n := range in.Namespaces {
			open := !e.isolated(&reach.Pod{Namespace: n.Name, Name: "bare"}, "egress")
			if has(fs, "Egress left open", n.Block) != open {
				fail("namespace %s: egress open per engine = %v, lint disagrees", n.Name, open)
			}
		}
		for _, a := range in.Allows {
			checkAllowIsolation(in, e, fs, a, a.From, "egress", fail)
			checkAllowIsolation(in, e, fs, a, a.To, "ingress", fail)
		}
		checkRedundantRules(t, in, e, fs, fail)
		for _, s := range in.Services {
			dnsOK := e.allowed(servicePod(s), &reach.Pod{Namespace: "kube-system", Name: "dns", Labels: map[string]string{"k8s-app": "kube-dns"}}, 53, corev1.ProtocolUDP)
			if has(fs, "Egress denied without DNS", s.Block) && dnsOK {
				fail("service %s: lint says DNS is denied, engine allows it", s.Label)
			}
		}
	}
}

func checkAllowIsolation(in *hclspec.Intent, e *yamlEngine, fs []Finding, a *hclspec.Allow, ends []hclspec.Endpoint, dir string, fail func(string, ...any)) {
	for _, end := range ends {
		pod := endpointPod(end)
		if pod == nil {
			continue
		}
		isolated := e.isolated(pod, dir)
		mentioned := mentions(fs, "Allow isolates "+dir, subjectText(end))
		if mentioned && (!isolated || declaredDeny(in, end, dir)) {
			fail("%s: lint says %s isolates %s, engine says isolated = %v", a.Block, subjectText(end), dir, isolated)
		}
		if end.Kind == hclspec.EndpointNamespace && isolated && !declaredDeny(in, end, dir) && !mentioned {
			fail("%s isolates %s of namespace %s and no lint says so", a.Block, dir, end.Namespace)
		}
	}
}

// checkRedundantRules removes each rule reported redundant and checks that
// no connection between the intent's pods changes its verdict.
func checkRedundantRules(t *testing.T, in *hclspec.Intent, e *yamlEngine, fs []Finding, fail func(string, ...any)) {
	t.Helper()
	for _, f := range fs {
		if f.Summary != "Redundant rule" {
			continue
		}
		var dir string
		var index int
		if _, err := fmt.Sscanf(f.Detail, "%s rule %d", &dir, &index); err != nil {
			t.Fatalf("cannot read %q: %v", f.Detail, err)
		}
		without := withoutRule(t, e.pols, strings.TrimPrefix(f.Object, "NetworkPolicy "), dir, index)
		for _, c := range connections(in) {
			if a, b := e.e.Evaluate(c.from, c.to, c.port).Allowed, without.Evaluate(c.from, c.to, c.port).Allowed; a != b {
				fail("removing %s %s rule %d (reported redundant) changes %s -> %s %s from %v to %v", f.Object, dir, index, c.from, c.to, c.port, a, b)
			}
		}
	}
}

func withoutRule(t *testing.T, pols []networkingv1.NetworkPolicy, id, dir string, index int) *reach.Engine {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for _, p := range pols {
		p = *p.DeepCopy()
		if p.Namespace+"/"+p.Name == id {
			if dir == "egress" {
				p.Spec.Egress = append(p.Spec.Egress[:index:index], p.Spec.Egress[index+1:]...)
			} else {
				p.Spec.Ingress = append(p.Spec.Ingress[:index:index], p.Spec.Ingress[index+1:]...)
			}
		}
		out = append(out, p)
	}
	e, err := reach.New(out, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type connection struct {
	from, to reach.Peer
	port     reach.Port
}

// connections are every pair among the intent's pods (services, an
// unlabelled pod and role pods per namespace, DNS) and two outside
// addresses, on the ports the random intents use.
func connections(in *hclspec.Intent) []connection {
	var ends []reach.Peer
	for _, s := range in.Services {
		ends = append(ends, reach.PodPeer(servicePod(s)))
	}
	for _, n := range in.Namespaces {
		ends = append(ends, reach.PodPeer(&reach.Pod{Namespace: n.Name, Name: "bare"}))
		for _, role := range []string{"r0", "r1"} {
			ends = append(ends, reach.PodPeer(&reach.Pod{Namespace: n.Name, Name: role, Labels: map[string]string{"role": role}}))
		}
	}
	ends = append(ends, reach.PodPeer(&reach.Pod{Namespace: "kube-system", Name: "dns", Labels: map[string]string{"k8s-app": "kube-dns"}}),
		reach.IPPeer(netip.MustParseAddr("203.0.113.1")), far)
	ports := []reach.Port{{Number: 80, Protocol: corev1.ProtocolTCP}, {Number: 443, Protocol: corev1.ProtocolTCP}, {Number: 53, Protocol: corev1.ProtocolUDP}}
	var out []connection
	for _, a := range ends {
		for _, b := range ends {
			if a.Pod == nil && b.Pod == nil {
				continue
			}
			for _, p := range ports {
				out = append(out, connection{a, b, p})
			}
		}
	}
	return out
}

// yamlEngine is reach over the policies as a user would read them back
// from the rendered YAML.
type yamlEngine struct {
	e    *reach.Engine
	pols []networkingv1.NetworkPolicy
}

func engineOverYAML(t *testing.T, objs []*unstructured.Unstructured) *yamlEngine {
	t.Helper()
	var buf bytes.Buffer
	if err := manifest.WriteStream(&buf, objs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := manifest.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	pols, err := reach.PoliciesOf(back)
	if err != nil {
		t.Fatal(err)
	}
	e, err := reach.New(pols, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &yamlEngine{e, pols}
}

var far = reach.IPPeer(netip.MustParseAddr("192.0.2.99"))

func (y *yamlEngine) isolated(p *reach.Pod, dir string) bool {
	port := reach.Port{Number: 1, Protocol: corev1.ProtocolTCP}
	if dir == "egress" {
		return y.e.Evaluate(reach.PodPeer(p), far, port).Egress.Isolated
	}
	return y.e.Evaluate(far, reach.PodPeer(p), port).Ingress.Isolated
}

func (y *yamlEngine) allowed(from, to *reach.Pod, port int32, proto corev1.Protocol) bool {
	return y.e.Evaluate(reach.PodPeer(from), reach.PodPeer(to), reach.Port{Number: port, Protocol: proto}).Allowed
}

func servicePod(s *hclspec.Service) *reach.Pod {
	return &reach.Pod{Namespace: s.Namespace, Name: "svc-" + s.Label, Labels: s.Selector}
}

// endpointPod is a pod an endpoint that policies attach to stands for.
func endpointPod(e hclspec.Endpoint) *reach.Pod {
	switch e.Kind {
	case hclspec.EndpointService:
		return servicePod(e.Service)
	case hclspec.EndpointNamespace:
		return &reach.Pod{Namespace: e.Namespace, Name: "bare"}
	case hclspec.EndpointPods:
		return &reach.Pod{Namespace: e.Namespace, Name: "pods", Labels: e.PodSelector}
	}
	return nil
}

func has(fs []Finding, summary, block string) bool {
	for _, f := range fs {
		if f.Summary == summary && f.Block == block {
			return true
		}
	}
	return false
}

func mentions(fs []Finding, summary, text string) bool {
	for _, f := range fs {
		if f.Summary == summary && strings.Contains(f.Detail, "isolates "+strings.TrimPrefix(summary, "Allow isolates ")+" for "+text+":") {
			return true
		}
	}
	return false
}

func loadQuiet(t *testing.T, src string) *hclspec.Intent {
	t.Helper()
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags.Error(), src)
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags.Error(), src)
	}
	return in
}

// randomLintIntent writes namespaces with random baselines, services, and
// allows between namespaces, services, pod sets and IP blocks.
func randomLintIntent(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("perimeter {\n  stack = \"agree\"\n}\n")
	deny := []string{`[]`, `["ingress"]`, `["egress"]`, `["ingress", "egress"]`}
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&b, "namespace \"n%d\" {\n  default_deny = %s\n}\n", i, deny[r.Intn(4)])
	}
	for i := 0; i < 3; i++ {
		extra := ""
		if r.Intn(4) == 0 {
			extra = "  default_deny = " + deny[1+r.Intn(3)] + "\n"
		}
		if r.Intn(4) == 0 {
			extra += "  dns = false\n"
		}
		fmt.Fprintf(&b, "service \"s%d\" {\n  namespace = \"n%d\"\n  selector = { app = \"s%d\" }\n  port = 80\n%s}\n", i, r.Intn(3), i, extra)
	}
	subject := func() string {
		switch r.Intn(3) {
		case 0:
			return fmt.Sprintf("namespace.n%d", r.Intn(3))
		case 1:
			return fmt.Sprintf("service.s%d", r.Intn(3))
		}
		return fmt.Sprintf("pods(\"n%d\", { role = \"r%d\" })", r.Intn(3), r.Intn(2))
	}
	for i := 0; i < r.Intn(7); i++ {
		to := subject()
		if r.Intn(3) == 0 {
			to = `cidr("203.0.113.0/24")`
		}
		ports := ""
		if r.Intn(2) == 0 {
			ports = "  ports = [\"443/tcp\"]\n"
		}
		fmt.Fprintf(&b, "allow \"a%d\" {\n  from = %s\n  to = %s\n%s}\n", i, subject(), to, ports)
	}
	return b.String()
}
