package reach

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The grid of the upstream network-policy e2e suite: namespaces x, y and z
// (labelled ns=<name>), each with pods a, b and c (labelled pod=<name>),
// serving 80 and 81 over TCP and UDP on ports named serve-<port>-<proto>.
// Pod b also carries extra=yes. Two external addresses complete it.
var (
	gridNamespaces = []string{"x", "y", "z"}
	gridPodNames   = []string{"a", "b", "c"}
	ext1           = netip.MustParseAddr("192.0.2.10")
	ext2           = netip.MustParseAddr("198.51.100.5")
)

func gridPorts() []NamedPort {
	var out []NamedPort
	for _, n := range []int32{80, 81} {
		for _, p := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
			out = append(out, NamedPort{Name: fmt.Sprintf("serve-%d-%s", n, lowerProto(p)), Port: n, Protocol: p})
		}
	}
	return out
}

func lowerProto(p corev1.Protocol) string {
	if p == corev1.ProtocolTCP {
		return "tcp"
	}
	return "udp"
}

func grid() ([]Namespace, []*Pod) {
	var nss []Namespace
	var pods []*Pod
	for i, ns := range gridNamespaces {
		nss = append(nss, Namespace{Name: ns, Labels: map[string]string{"ns": ns}})
		for j, name := range gridPodNames {
			l := map[string]string{"pod": name}
			if name == "b" {
				l["extra"] = "yes"
			}
			ip := netip.AddrFrom4([4]byte{10, 0, byte(i), byte(j + 1)})
			pods = append(pods, &Pod{Namespace: ns, Name: name, Labels: l, IPs: []netip.Addr{ip}, Ports: gridPorts()})
		}
	}
	return nss, pods
}

// Policy-building shorthands.

func sel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	for i := 0; i+1 < len(kv); i += 2 {
		if s.MatchLabels == nil {
			s.MatchLabels = map[string]string{}
		}
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func exprSel(key string, op metav1.LabelSelectorOperator, vals ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: vals}}}
}

func podsPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: s}
}

func nsPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: s}
}

func bothPeer(ns, pod *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: ns, PodSelector: pod}
}

func ipPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

func portNum(proto corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
	v := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &v}
}

func portNamed(name string) networkingv1.NetworkPolicyPort {
	v := intstr.FromString(name)
	proto := corev1.ProtocolTCP
	if len(name) > 3 && name[len(name)-3:] == "udp" {
		proto = corev1.ProtocolUDP
	}
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &v}
}

func portRange(proto corev1.Protocol, from, to int32) networkingv1.NetworkPolicyPort {
	p := portNum(proto, from)
	p.EndPort = &to
	return p
}

// portNoProto is a numeric port with the protocol left to its TCP default.
func portNoProto(n int32) networkingv1.NetworkPolicyPort {
	v := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Port: &v}
}

func protoOnly(proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: &proto}
}

func in(peers []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicyIngressRule {
	return networkingv1.NetworkPolicyIngressRule{From: peers, Ports: ports}
}

func out(peers []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicyEgressRule {
	return networkingv1.NetworkPolicyEgressRule{To: peers, Ports: ports}
}

func peers(p ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyPeer { return p }

var (
	ingressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egressOnly  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	bothTypes   = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
)

// policy is one NetworkPolicy; types nil leaves policyTypes implicit.
func policy(ns, name string, podSel *metav1.LabelSelector, types []networkingv1.PolicyType,
	ingress []networkingv1.NetworkPolicyIngressRule, egress []networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: *podSel, PolicyTypes: types, Ingress: ingress, Egress: egress},
	}
}
