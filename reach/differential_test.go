package reach

import (
	"fmt"
	"math/rand"
	"net"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// This file holds a naive reference evaluator, written from the
// NetworkPolicy API documentation without using any engine code, and a
// differential test comparing the two on random worlds.

// refEnd is a connection end for the reference: a pod or an address.
type refEnd struct {
	pod *Pod
	ip  string
}

// refAllowed decides a connection from first principles: "the connection
// is allowed when the source's egress and the destination's ingress both
// allow it"; loopback is always allowed.
func refAllowed(pols []networkingv1.NetworkPolicy, nsLabels map[string]map[string]string, src, dst refEnd, port int32, proto string) (egressOK, ingressOK bool) {
	if src.pod != nil && src.pod == dst.pod {
		return true, true
	}
	egressOK, ingressOK = true, true
	if src.pod != nil {
		egressOK = refDirection(pols, nsLabels, "Egress", src.pod, dst, dst, port, proto)
	}
	if dst.pod != nil {
		ingressOK = refDirection(pols, nsLabels, "Ingress", dst.pod, src, dst, port, proto)
	}
	return egressOK, ingressOK
}

// refDirection: "a pod is isolated for a direction if any policy that
// selects it has that direction in its policyTypes; then only what some
// rule of those policies allows may pass; otherwise everything passes".
func refDirection(pols []networkingv1.NetworkPolicy, nsLabels map[string]map[string]string, dir string, subject *Pod, far, dst refEnd, port int32, proto string) bool {
	isolated := false
	for _, p := range pols {
		if p.Namespace != subject.Namespace || !refSelects(&p.Spec.PodSelector, subject.Labels) || !refHasType(p.Spec, dir) {
			continue
		}
		isolated = true
		if dir == "Ingress" {
			for _, r := range p.Spec.Ingress {
				if refPeersMatch(r.From, p.Namespace, far, nsLabels) && refPortsMatch(r.Ports, dst, port, proto) {
					return true
				}
			}
		} else {
			for _, r := range p.Spec.Egress {
				if refPeersMatch(r.To, p.Namespace, far, nsLabels) && refPortsMatch(r.Ports, dst, port, proto) {
					return true
				}
			}
		}
	}
	return !isolated
}

// refHasType: "if no policyTypes are specified, Ingress is always set and
// Egress is set if the policy has any egress rules".
func refHasType(spec networkingv1.NetworkPolicySpec, dir string) bool {
	if len(spec.PolicyTypes) == 0 {
		return dir == "Ingress" || len(spec.Egress) > 0
	}
	for _, t := range spec.PolicyTypes {
		if string(t) == dir {
			return true
		}
	}
	return false
}

// refSelects: "an empty label selector matches all objects"; matchLabels
// and matchExpressions requirements are ANDed.
func refSelects(s *metav1.LabelSelector, l map[string]string) bool {
	for k, v := range s.MatchLabels {
		if got, ok := l[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range s.MatchExpressions {
		got, has := l[e.Key]
		inValues := false
		for _, v := range e.Values {
			if has && v == got {
				inValues = true
			}
		}
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			if !inValues {
				return false
			}
		case metav1.LabelSelectorOpNotIn:
			if inValues {
				return false
			}
		case metav1.LabelSelectorOpExists:
			if !has {
				return false
			}
		case metav1.LabelSelectorOpDoesNotExist:
			if has {
				return false
			}
		}
	}
	return true
}

// refPeersMatch: "if this field is empty or missing, this rule matches all
// sources/destinations; otherwise traffic must match at least one item".
func refPeersMatch(ps []networkingv1.NetworkPolicyPeer, policyNS string, far refEnd, nsLabels map[string]map[string]string) bool {
	if len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if refPeerMatch(p, policyNS, far, nsLabels) {
			return true
		}
	}
	return false
}

func refPeerMatch(p networkingv1.NetworkPolicyPeer, policyNS string, far refEnd, nsLabels map[string]map[string]string) bool {
	if p.IPBlock != nil {
		ips := []string{far.ip}
		if far.pod != nil {
			ips = nil
			for _, a := range far.pod.IPs {
				ips = append(ips, a.String())
			}
		}
		for _, ip := range ips {
			if refInBlock(p.IPBlock, ip) {
				return true
			}
		}
		return false
	}
	if far.pod == nil {
		return false
	}
	// "If namespaceSelector is also set, the peer selects the pods matching
	// podSelector in the namespaces selected by namespaceSelector; otherwise
	// it selects pods in the policy's own namespace."
	if p.NamespaceSelector == nil {
		if far.pod.Namespace != policyNS {
			return false
		}
	} else {
		l := map[string]string{}
		for k, v := range nsLabels[far.pod.Namespace] {
			l[k] = v
		}
		l["kubernetes.io/metadata.name"] = far.pod.Namespace
		if !refSelects(p.NamespaceSelector, l) {
			return false
		}
	}
	return p.PodSelector == nil || refSelects(p.PodSelector, far.pod.Labels)
}

func refInBlock(b *networkingv1.IPBlock, ip string) bool {
	addr := net.ParseIP(ip)
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if addr == nil || err != nil || !cidr.Contains(addr) {
		return false
	}
	for _, x := range b.Except {
		if _, ex, err := net.ParseCIDR(x); err == nil && ex.Contains(addr) {
			return false
		}
	}
	return true
}

// refPortsMatch: "if this field is empty or missing, this rule matches all
// ports; otherwise traffic must match at least one port". Protocol
// defaults to TCP; a named port is looked up on the destination pod; endPort
// makes a range from port.
func refPortsMatch(ports []networkingv1.NetworkPolicyPort, dst refEnd, port int32, proto string) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := "TCP"
		if p.Protocol != nil {
			pp = string(*p.Protocol)
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		want := p.Port.IntVal
		if p.Port.Type == intstr.String {
			want = refLookupNamed(dst, p.Port.StrVal, proto)
			if want == 0 {
				continue
			}
		}
		if port == want || (p.EndPort != nil && p.Port.Type == intstr.Int && port >= want && port <= *p.EndPort) {
			return true
		}
	}
	return false
}

func refLookupNamed(dst refEnd, name, proto string) int32 {
	if dst.pod == nil {
		return 0
	}
	for _, c := range dst.pod.Ports {
		if c.Name == name && string(c.Protocol) == proto {
			return c.Port
		}
	}
	return 0
}

// A random world.

var (
	randLabelKeys   = []string{"app", "tier", "extra"}
	randLabelValues = []string{"a", "b", "c"}
	randPorts       = []NamedPort{
		{"http", 80, corev1.ProtocolTCP}, {"dns", 53, corev1.ProtocolUDP}, {"https", 443, corev1.ProtocolTCP},
		{"alt", 8080, corev1.ProtocolTCP}, {"sctp", 9000, corev1.ProtocolSCTP}, {"http", 8081, corev1.ProtocolTCP},
	}
	randQueries = []Port{
		{Number: 80, Protocol: corev1.ProtocolTCP}, {Number: 53, Protocol: corev1.ProtocolUDP},
		{Number: 443, Protocol: corev1.ProtocolTCP}, {Number: 8080, Protocol: corev1.ProtocolTCP},
		{Number: 8081, Protocol: corev1.ProtocolTCP}, {Number: 9000, Protocol: corev1.ProtocolSCTP},
		{Number: 80, Protocol: corev1.ProtocolUDP},
	}
	randCIDRs = []string{"10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/24", "192.0.2.0/24", "0.0.0.0/0", "10.1.0.2/32"}
	randIPs   = []string{"192.0.2.7", "198.51.100.1", "10.9.9.9"}
)

type world struct {
	nsLabels map[string]map[string]string
	pods     []*Pod
	policies []networkingv1.NetworkPolicy
}

func randLabels(r *rand.Rand, max int) map[string]string {
	l := map[string]string{}
	for i := r.Intn(max + 1); i > 0; i-- {
		l[randLabelKeys[r.Intn(len(randLabelKeys))]] = randLabelValues[r.Intn(len(randLabelValues))]
	}
	return l
}

func randSelector(r *rand.Rand) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	if r.Intn(3) > 0 {
		if l := randLabels(r, 2); len(l) > 0 {
			s.MatchLabels = l
		}
	}
	if r.Intn(3) == 0 {
		ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
		op := ops[r.Intn(len(ops))]
		req := metav1.LabelSelectorRequirement{Key: randLabelKeys[r.Intn(len(randLabelKeys))], Operator: op}
		if op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
			req.Values = []string{randLabelValues[r.Intn(3)], randLabelValues[r.Intn(3)]}
		}
		s.MatchExpressions = append(s.MatchExpressions, req)
	}
	return s
}

func randPeer(r *rand.Rand) networkingv1.NetworkPolicyPeer {
	switch r.Intn(4) {
	case 0:
		return networkingv1.NetworkPolicyPeer{PodSelector: randSelector(r)}
	case 1:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: randSelector(r)}
	case 2:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: randSelector(r), PodSelector: randSelector(r)}
	}
	b := &networkingv1.IPBlock{CIDR: randCIDRs[r.Intn(len(randCIDRs))]}
	if r.Intn(2) == 0 {
		b.Except = []string{"10.1.0.0/24", "192.0.2.7/32"}[r.Intn(2):]
	}
	return networkingv1.NetworkPolicyPeer{IPBlock: b}
}

func randPolicyPort(r *rand.Rand) networkingv1.NetworkPolicyPort {
	protos := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	var p networkingv1.NetworkPolicyPort
	if r.Intn(3) > 0 {
		proto := protos[r.Intn(3)]
		p.Protocol = &proto
	}
	switch r.Intn(4) {
	case 0: // every port of the protocol
	case 1:
		v := intstr.FromString(randPorts[r.Intn(len(randPorts))].Name)
		p.Port = &v
	case 2:
		v := intstr.FromInt32(randQueries[r.Intn(len(randQueries))].Number)
		p.Port = &v
	default: // a range, often ending exactly on a probed port
		a, b := randQueries[r.Intn(len(randQueries))].Number, randQueries[r.Intn(len(randQueries))].Number
		if a > b {
			a, b = b, a
		}
		if r.Intn(2) == 0 {
			a = int32(50 + r.Intn(500))
			b = a + int32(r.Intn(8000))
		}
		v := intstr.FromInt32(a)
		p.Port, p.EndPort = &v, &b
	}
	return p
}

func randRule(r *rand.Rand) ([]networkingv1.NetworkPolicyPeer, []networkingv1.NetworkPolicyPort) {
	var peers []networkingv1.NetworkPolicyPeer
	var ports []networkingv1.NetworkPolicyPort
	for i := r.Intn(3); i > 0; i-- {
		peers = append(peers, randPeer(r))
	}
	for i := r.Intn(3); i > 0; i-- {
		ports = append(ports, randPolicyPort(r))
	}
	return peers, ports
}

func randPolicy(r *rand.Rand, i int, nss []string) networkingv1.NetworkPolicy {
	p := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: nss[r.Intn(len(nss))], Name: fmt.Sprintf("p%d", i)}}
	p.Spec.PodSelector = *randSelector(r)
	p.Spec.PolicyTypes = [][]networkingv1.PolicyType{nil, ingressOnly, egressOnly, bothTypes}[r.Intn(4)]
	for j := r.Intn(3); j > 0; j-- {
		from, ports := randRule(r)
		p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: from, Ports: ports})
	}
	for j := r.Intn(3); j > 0; j-- {
		to, ports := randRule(r)
		p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: to, Ports: ports})
	}
	return p
}

func randWorld(r *rand.Rand) world {
	w := world{nsLabels: map[string]map[string]string{}}
	nss := []string{"x", "y", "z"}
	for i, ns := range nss {
		w.nsLabels[ns] = randLabels(r, 2)
		for j := 0; j < 1+r.Intn(3); j++ {
			pod := &Pod{Namespace: ns, Name: fmt.Sprintf("p%d", j), Labels: randLabels(r, 3),
				IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(i), 0, byte(j + 1)})}}
			for _, np := range randPorts {
				if r.Intn(2) == 0 {
					pod.Ports = append(pod.Ports, np)
				}
			}
			w.pods = append(w.pods, pod)
		}
	}
	for i := r.Intn(6); i > 0; i-- {
		w.policies = append(w.policies, randPolicy(r, i, nss))
	}
	return w
}

// engine is the engine of world n's policies, namespaces and pods.
func (w world) engine(t *testing.T, n int) *Engine {
	t.Helper()
	var nss []Namespace
	for name, l := range w.nsLabels {
		nss = append(nss, Namespace{Name: name, Labels: l})
	}
	e, err := New(w.policies, nss, w.pods)
	if err != nil {
		t.Fatalf("world %d: %v", n, err)
	}
	return e
}

// TestDifferential compares the engine with the reference on random worlds,
// for every pair of pods and external addresses and every probe port.
func TestDifferential(t *testing.T) {
	const worlds = 2000
	r := rand.New(rand.NewSource(7))
	checked, allowed := 0, 0
	for n := 0; n < worlds; n++ {
		w := randWorld(r)
		e := w.engine(t, n)
		ends := []refEnd{}
		for _, p := range w.pods {
			ends = append(ends, refEnd{pod: p})
		}
		for _, ip := range randIPs {
			ends = append(ends, refEnd{ip: ip})
		}
		for _, src := range ends {
			for _, dst := range ends {
				if src.pod == nil && dst.pod == nil {
					continue
				}
				for _, q := range randQueries {
					checked++
					if compare(t, n, w, e, src, dst, q) {
						allowed++
					}
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d worlds, %d connections compared, %d allowed", worlds, checked, allowed)
}

func enginePeer(end refEnd) Peer {
	if end.pod != nil {
		return PodPeer(end.pod)
	}
	return IPPeer(netip.MustParseAddr(end.ip))
}

// compare checks one connection and returns the engine's verdict.
func compare(t *testing.T, n int, w world, e *Engine, src, dst refEnd, q Port) bool {
	t.Helper()
	eg, ing := refAllowed(w.policies, w.nsLabels, src, dst, q.Number, string(q.Protocol))
	v := e.Evaluate(enginePeer(src), enginePeer(dst), q)
	if v.Allowed != (eg && ing) || (!v.Loopback && (v.Egress.Allowed() != eg || v.Ingress.Allowed() != ing)) {
		t.Errorf("world %d: %v -> %v on %s: engine %v (egress %v, ingress %v), reference egress %v, ingress %v\npolicies: %+v",
			n, enginePeer(src), enginePeer(dst), q, v.Allowed, v.Egress.Allowed(), v.Ingress.Allowed(), eg, ing, w.policies)
	}
	return v.Allowed
}
