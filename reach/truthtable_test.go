package reach

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ep is a cell coordinate of a truth table: a grid pod "x/a" or an
// external address "ext1"/"ext2".
type ep struct{ ns, pod string }

func (e ep) ext() bool { return e.ns == "" }

func (e ep) String() string {
	if e.ext() {
		return e.pod
	}
	return e.ns + "/" + e.pod
}

var (
	tcp80 = Port{Number: 80, Protocol: corev1.ProtocolTCP}
	tcp81 = Port{Number: 81, Protocol: corev1.ProtocolTCP}
	udp80 = Port{Number: 80, Protocol: corev1.ProtocolUDP}
	udp81 = Port{Number: 81, Protocol: corev1.ProtocolUDP}
)

// scenario is one truth table: a policy set and the expected verdict for
// every pair of the grid (plus external addresses) on every probed port.
// Loopback is always expected to be allowed and need not be spelled out.
type scenario struct {
	name     string
	policies []networkingv1.NetworkPolicy
	ports    []Port // default: 80 and 81, TCP and UDP
	want     func(from, to ep, p Port) bool
}

func allowAll(ep, ep, Port) bool { return true }

// is reports whether e is the grid cell key ("x/a", "ext1").
func is(e ep, key string) bool { return e.String() == key }

func scenarios() []scenario {
	xa := sel("pod", "a")
	return []scenario{
		{name: "no policies: everything open", want: allowAll},
		{name: "default-deny ingress in x", policies: []networkingv1.NetworkPolicy{
			policy("x", "deny", sel(), ingressOnly, nil, nil),
		}, want: func(f, t ep, p Port) bool { return t.ns != "x" }},
		{name: "default-deny egress in x", policies: []networkingv1.NetworkPolicy{
			policy("x", "deny", sel(), egressOnly, nil, nil),
		}, want: func(f, t ep, p Port) bool { return f.ns != "x" }},
		{name: "default-deny both in x", policies: []networkingv1.NetworkPolicy{
			policy("x", "deny", sel(), bothTypes, nil, nil),
		}, want: func(f, t ep, p Port) bool { return f.ns != "x" && t.ns != "x" }},
		{name: "implicit policyTypes without egress rules: ingress only", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, nil, nil, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") }},
		{name: "implicit policyTypes with egress rules: both directions", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, nil, nil, []networkingv1.NetworkPolicyEgressRule{out(peers(podsPeer(sel("pod", "b"))))}),
		}, want: func(f, t ep, p Port) bool {
			if is(t, "x/a") {
				return false
			}
			return !is(f, "x/a") || is(t, "x/b")
		}},
		{name: "explicit Egress type ignores ingress rules", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, egressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(podsPeer(sel("pod", "b"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(f, "x/a") }},
		{name: "ingress from a pod selector: same namespace only", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(podsPeer(sel("pod", "b"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || is(f, "x/b") }},
		{name: "ingress from a namespace selector", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(nsPeer(sel("ns", "y"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || f.ns == "y" }},
		{name: "namespace and pod selector in one peer: AND", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(bothPeer(sel("ns", "y"), sel("pod", "b"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || is(f, "y/b") }},
		{name: "two peers in one rule: OR", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(nsPeer(sel("ns", "y")), podsPeer(sel("pod", "b"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || f.ns == "y" || is(f, "x/b") }},
		{name: "empty namespace selector: every pod of every namespace", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(nsPeer(sel())))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || !f.ext() }},
		{name: "empty pod selector: every pod of the policy's namespace", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(podsPeer(sel())))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || f.ns == "x" }},
		{name: "matchExpressions In on namespaces", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(nsPeer(exprSel("ns", metav1.LabelSelectorOpIn, "y", "z"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || f.ns == "y" || f.ns == "z" }},
		{name: "matchExpressions NotIn on pods", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(podsPeer(exprSel("pod", metav1.LabelSelectorOpNotIn, "c"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || (f.ns == "x" && f.pod != "c") }},
		{name: "matchExpressions Exists and DoesNotExist", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", exprSel("extra", metav1.LabelSelectorOpDoesNotExist), ingressOnly,
				[]networkingv1.NetworkPolicyIngressRule{in(peers(bothPeer(sel(), exprSel("extra", metav1.LabelSelectorOpExists))))}, nil),
		}, want: func(f, t ep, p Port) bool { return t.ns != "x" || t.pod == "b" || f.pod == "b" && !f.ext() }},
		{name: "a policy only affects its own namespace", policies: []networkingv1.NetworkPolicy{
			policy("y", "p", xa, bothTypes, nil, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "y/a") && !is(f, "y/a") }},
		{name: "numeric port: only 80/TCP", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, portNum(corev1.ProtocolTCP, 80))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || p == tcp80 }},
		{name: "protocol defaults to TCP", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, portNoProto(81))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || p == tcp81 }},
		{name: "protocol only: every UDP port", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, protoOnly(corev1.ProtocolUDP))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || p.Protocol == corev1.ProtocolUDP }},
		{name: "named port on ingress resolves on the selected pod", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, portNamed("serve-81-udp"))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || p == udp81 }},
		{name: "named port on egress: destination pods only, never external", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{out(nil, portNamed("serve-80-tcp"))}),
		}, want: func(f, t ep, p Port) bool { return !is(f, "x/a") || (!t.ext() && p == tcp80) }},
		{name: "named port the destination lacks matches nothing", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, portNamed("metrics"))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") }},
		{name: "port range with endPort", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, portRange(corev1.ProtocolTCP, 81, 90))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || p == tcp81 }},
		{name: "port range covering both ports", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, portRange(corev1.ProtocolUDP, 1, 81))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || p.Protocol == corev1.ProtocolUDP }},
		{name: "union of policies selecting a pod", policies: []networkingv1.NetworkPolicy{
			policy("x", "from-b", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(podsPeer(sel("pod", "b"))), portNum(corev1.ProtocolTCP, 80))}, nil),
			policy("x", "from-y", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(nsPeer(sel("ns", "y"))), portNum(corev1.ProtocolTCP, 81))}, nil),
		}, want: func(f, t ep, p Port) bool {
			switch {
			case t.ns != "x":
				return true
			case is(t, "x/a") && is(f, "x/b") && p == tcp80:
				return true
			}
			return f.ns == "y" && p == tcp81
		}},
		{name: "ingress and egress both required", policies: []networkingv1.NetworkPolicy{
			policy("x", "egress-to-y", xa, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{out(peers(nsPeer(sel("ns", "y"))))}),
			policy("y", "ingress-from-xa", sel("pod", "b"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(bothPeer(sel("ns", "x"), sel("pod", "a"))))}, nil),
		}, want: func(f, t ep, p Port) bool {
			if is(f, "x/a") && t.ns != "y" {
				return false
			}
			return !is(t, "y/b") || is(f, "x/a")
		}},
		{name: "empty ingress rule admits everyone", policies: []networkingv1.NetworkPolicy{
			policy("x", "deny", sel(), ingressOnly, nil, nil),
			policy("x", "open", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{{}}, nil),
		}, want: allowAll},
		{name: "egress ports without peers", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{out(nil, portNum(corev1.ProtocolUDP, 80))}),
		}, want: func(f, t ep, p Port) bool { return !is(f, "x/a") || p == udp80 }},
		{name: "ipBlock egress with except", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{out(peers(ipPeer("192.0.2.0/24", "192.0.2.10/32"), ipPeer("198.51.100.0/24")))}),
		}, want: func(f, t ep, p Port) bool { return !is(f, "x/a") || t.pod == "ext2" }},
		{name: "ipBlock ingress from outside", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(ipPeer("198.51.100.0/24")))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || f.pod == "ext2" }},
		{name: "ipBlock matches pod IPs", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{out(peers(ipPeer("10.0.1.0/24", "10.0.1.3/32")))}),
		}, want: func(f, t ep, p Port) bool { return !is(f, "x/a") || (t.ns == "y" && t.pod != "c") }},
		{name: "ipBlock 0.0.0.0/0 on egress opens everything", policies: []networkingv1.NetworkPolicy{
			policy("x", "deny", sel(), egressOnly, nil, nil),
			policy("x", "world", sel(), egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{out(peers(ipPeer("0.0.0.0/0")), portNum(corev1.ProtocolTCP, 80))}),
		}, want: func(f, t ep, p Port) bool { return f.ns != "x" || p == tcp80 }},
		{name: "cross-namespace egress with pod selector", policies: []networkingv1.NetworkPolicy{
			policy("z", "p", sel(), egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{out(peers(bothPeer(sel("ns", "x"), sel("pod", "c"))), portRange(corev1.ProtocolTCP, 80, 81))}),
		}, want: func(f, t ep, p Port) bool { return f.ns != "z" || (is(t, "x/c") && p.Protocol == corev1.ProtocolTCP) }},
		{name: "namespace label other than the name", policies: []networkingv1.NetworkPolicy{
			policy("x", "p", xa, ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(nsPeer(sel(NamespaceNameLabel, "z"))))}, nil),
		}, want: func(f, t ep, p Port) bool { return !is(t, "x/a") || f.ns == "z" }},
	}
}

// endpoints lists every cell coordinate with its engine peer.
func endpoints(pods []*Pod) ([]ep, map[ep]Peer) {
	var eps []ep
	m := map[ep]Peer{}
	for _, p := range pods {
		e := ep{p.Namespace, p.Name}
		eps = append(eps, e)
		m[e] = PodPeer(p)
	}
	eps = append(eps, ep{pod: "ext1"}, ep{pod: "ext2"})
	m[ep{pod: "ext1"}] = IPPeer(ext1)
	m[ep{pod: "ext2"}] = IPPeer(ext2)
	return eps, m
}

func TestTruthTables(t *testing.T) {
	all := scenarios()
	if len(all) < 25 {
		t.Fatalf("only %d scenarios", len(all))
	}
	for _, sc := range all {
		t.Run(sc.name, func(t *testing.T) {
			nss, pods := grid()
			e, err := New(sc.policies, nss, pods)
			if err != nil {
				t.Fatal(err)
			}
			ports := sc.ports
			if ports == nil {
				ports = []Port{tcp80, tcp81, udp80, udp81}
			}
			eps, peerOf := endpoints(pods)
			for _, p := range ports {
				var wrong []string
				for _, f := range eps {
					for _, to := range eps {
						if f.ext() && to.ext() {
							continue
						}
						want := f == to || sc.want(f, to, p)
						if got := e.Evaluate(peerOf[f], peerOf[to], p); got.Allowed != want {
							wrong = append(wrong, fmt.Sprintf("%s -> %s: got %v, want %v", f, to, got.Allowed, want))
						}
					}
				}
				if len(wrong) > 0 {
					t.Errorf("%s:\n%s\n%s", p, strings.Join(wrong, "\n"), table(e, eps, peerOf, p))
				}
			}
		})
	}
}

// table renders the engine's verdicts as an upstream-style grid, for
// failure messages.
func table(e *Engine, eps []ep, peerOf map[ep]Peer, p Port) string {
	var b strings.Builder
	b.WriteString("      ")
	for _, to := range eps {
		fmt.Fprintf(&b, "%-5s", to)
	}
	b.WriteString("\n")
	for _, f := range eps {
		fmt.Fprintf(&b, "%-6s", f)
		for _, to := range eps {
			cell := "-"
			if !(f.ext() && to.ext()) {
				cell = "X"
				if e.Evaluate(peerOf[f], peerOf[to], p).Allowed {
					cell = "."
				}
			}
			fmt.Fprintf(&b, "%-5s", cell)
		}
		b.WriteString("\n")
	}
	return b.String()
}
