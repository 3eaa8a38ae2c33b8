package generate

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// ClusterNetworkPolicyKind is the kind guardrail and baseline blocks
// compile to (policy.networking.k8s.io/v1beta1, cluster-scoped).
var ClusterNetworkPolicyKind = cnp.SchemeGroupVersion.WithKind("ClusterNetworkPolicy")

// clusterPolicies renders one ClusterNetworkPolicy per guardrail and
// baseline block. Rules keep their written order, which is their
// precedence within the policy.
func (c *compiler) clusterPolicies() {
	for _, p := range c.in.ClusterPolicies {
		c.add(ClusterPolicyObject(p), origins{p.Origin})
	}
}

// ClusterPolicyObject compiles one guardrail or baseline block.
func ClusterPolicyObject(p *hclspec.ClusterPolicy) *cnp.ClusterNetworkPolicy {
	obj := &cnp.ClusterNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: ClusterNetworkPolicyKind.GroupVersion().String(), Kind: ClusterNetworkPolicyKind.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name},
		Spec: cnp.ClusterNetworkPolicySpec{
			Tier:     cnp.Tier(p.Tier),
			Priority: p.Priority,
			Subject:  clusterSubject(p.Subject),
		},
	}
	for _, r := range p.Ingress {
		rule := cnp.ClusterNetworkPolicyIngressRule{Name: r.Name, Action: cnp.ClusterNetworkPolicyRuleAction(r.Action), Protocols: clusterProtocols(r.Ports)}
		for _, e := range r.Peers {
			ns, pods := podPeer(e)
			rule.From = append(rule.From, cnp.ClusterNetworkPolicyIngressPeer{Namespaces: ns, Pods: pods})
		}
		obj.Spec.Ingress = append(obj.Spec.Ingress, rule)
	}
	for _, r := range p.Egress {
		rule := cnp.ClusterNetworkPolicyEgressRule{Name: r.Name, Action: cnp.ClusterNetworkPolicyRuleAction(r.Action), Protocols: clusterProtocols(r.Ports)}
		rule.To = egressPeers(r.Peers)
		obj.Spec.Egress = append(obj.Spec.Egress, rule)
	}
	return obj
}

// clusterSubject selects the pods an endpoint stands for.
func clusterSubject(e hclspec.Endpoint) cnp.ClusterNetworkPolicySubject {
	ns, pods := podPeer(e)
	return cnp.ClusterNetworkPolicySubject{Namespaces: ns, Pods: pods}
}

// podPeer expresses a pod endpoint as the API's namespaces or pods peer:
// namespace.X and namespaces({...}) select whole namespaces, pods(...) and
// service.X pods by label in one namespace (by its name label).
func podPeer(e hclspec.Endpoint) (*metav1.LabelSelector, *cnp.NamespacedPod) {
	switch e.Kind {
	case hclspec.EndpointNamespace:
		return &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: e.Namespace}}, nil
	case hclspec.EndpointNamespaces:
		sel := selector(e.NamespaceSelector)
		return &sel, nil
	case hclspec.EndpointPods:
		return nil, &cnp.NamespacedPod{NamespaceSelector: selector(map[string]string{namespaceNameLabel: e.Namespace}), PodSelector: selector(e.PodSelector)}
	case hclspec.EndpointService:
		return nil, &cnp.NamespacedPod{NamespaceSelector: selector(map[string]string{namespaceNameLabel: e.Namespace}), PodSelector: selector(e.Service.Selector)}
	}
	return nil, nil
}

// egressPeers turns a rule's destinations into peers: one per pod
// endpoint, then one networks peer holding every IP block and one
// domainNames peer holding every domain name (the API allows 25 of each in
// a peer, which validate checks).
func egressPeers(es []hclspec.Endpoint) []cnp.ClusterNetworkPolicyEgressPeer {
	var out []cnp.ClusterNetworkPolicyEgressPeer
	var networks []cnp.CIDR
	var names []cnp.DomainName
	for _, e := range es {
		switch e.Kind {
		case hclspec.EndpointCIDR:
			networks = append(networks, cnp.CIDR(e.CIDR))
		case hclspec.EndpointFQDN:
			names = append(names, cnp.DomainName(e.FQDN))
		default:
			ns, pods := podPeer(e)
			out = append(out, cnp.ClusterNetworkPolicyEgressPeer{Namespaces: ns, Pods: pods})
		}
	}
	if len(networks) > 0 {
		out = append(out, cnp.ClusterNetworkPolicyEgressPeer{Networks: dedupe(networks)})
	}
	if len(names) > 0 {
		out = append(out, cnp.ClusterNetworkPolicyEgressPeer{DomainNames: dedupe(names)})
	}
	return out
}

// dedupe drops repeats, keeping the first: networks and domainNames are
// sets (x-kubernetes-list-type: set), which the API server refuses with
// duplicates.
func dedupe[T comparable](in []T) []T {
	seen := map[T]bool{}
	var out []T
	for _, x := range in {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// clusterProtocols expresses ports as the API's protocols. A bare protocol
// ("udp": every UDP port) becomes the range 1-65535, because the API needs
// a destination port in every protocol match.
func clusterProtocols(ports []hclspec.PortSpec) []cnp.ClusterNetworkPolicyProtocol {
	var out []cnp.ClusterNetworkPolicyProtocol
	for _, p := range ports {
		port := &cnp.Port{Number: p.Port}
		switch {
		case p.EndPort != 0:
			port = &cnp.Port{Range: &cnp.PortRange{Start: p.Port, End: p.EndPort}}
		case p.Port == 0:
			port = &cnp.Port{Range: &cnp.PortRange{Start: 1, End: 65535}}
		}
		var proto cnp.ClusterNetworkPolicyProtocol
		switch p.Protocol {
		case "UDP":
			proto.UDP = &cnp.ClusterNetworkPolicyProtocolUDP{DestinationPort: port}
		case "SCTP":
			proto.SCTP = &cnp.ClusterNetworkPolicyProtocolSCTP{DestinationPort: port}
		default:
			proto.TCP = &cnp.ClusterNetworkPolicyProtocolTCP{DestinationPort: port}
		}
		out = append(out, proto)
	}
	return out
}

// FQDNAllowPriority is the Admin-tier priority of the ClusterNetworkPolicies
// that accept an allow's egress to domain names: the last one, so every
// platform guardrail (priority below 1000) is evaluated first and can
// still deny it.
const FQDNAllowPriority = hclspec.MaxPriority

// fqdnAllows renders, for each allow with fqdn() destinations and each of
// its sources, an Admin-tier ClusterNetworkPolicy accepting that egress by
// name (the only tier that can: NetworkPolicy has no domain names). The
// allow's egress NetworkPolicy still selects the source, so the rest of its
// egress stays denied, as for any allow.
func (c *compiler) fqdnAllows() {
	for _, a := range c.in.Allows {
		var names []hclspec.Endpoint
		for _, t := range a.To {
			if t.Kind == hclspec.EndpointFQDN {
				names = append(names, t)
			}
		}
		if len(names) == 0 {
			continue
		}
		n := subjects(a.From)
		for i, src := range a.From {
			if !isSubject(src) || c.managed[src.Namespace] == nil {
				continue
			}
			p := &hclspec.ClusterPolicy{Name: subjectPolicyName(objectName(c.in.Stack, slug(a.Label)), "fqdn", src, i, n),
				Tier: hclspec.TierAdmin, Priority: FQDNAllowPriority, Subject: src,
				Egress: []*hclspec.TierRule{{Name: a.Label, Action: hclspec.ActionAccept, Peers: names, Ports: a.Ports}}}
			c.add(ClusterPolicyObject(p), origins{a.Origin})
		}
	}
}

// TierProtocol splits a ClusterNetworkPolicy protocol entry into its
// protocol and destination port (nil: every port of it); ok is false for a
// named port (DestinationNamedPort) or an empty entry.
func TierProtocol(p cnp.ClusterNetworkPolicyProtocol) (proto corev1.Protocol, port *cnp.Port, ok bool) {
	switch {
	case p.TCP != nil:
		return corev1.ProtocolTCP, p.TCP.DestinationPort, true
	case p.UDP != nil:
		return corev1.ProtocolUDP, p.UDP.DestinationPort, true
	case p.SCTP != nil:
		return corev1.ProtocolSCTP, p.SCTP.DestinationPort, true
	}
	return "", nil, false
}
