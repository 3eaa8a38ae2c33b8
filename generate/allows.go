package generate

import (
	"strconv"

	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// allow renders both sides of a connection: an egress rule on each source
// this stack manages and an ingress rule on each destination. One statement
// between two services therefore always yields both halves.
func (c *compiler) allow(set *policySet, a *hclspec.Allow, egressIsolated map[*hclspec.Service]bool) {
	base := slug(a.Label)
	sources := subjects(a.From)
	dests := subjects(a.To)
	for i, src := range a.From {
		if !isSubject(src) {
			continue
		}
		if c.managed[src.Namespace] == nil {
			c.warnf(src.Range, "Egress side not emitted",
				"Namespace %q is not managed by this stack, so no egress policy is emitted for this source; if that namespace restricts egress, its owners must allow this connection.", src.Namespace)
			continue
		}
		p := c.policy(set, "allow:"+a.Label, src.Namespace, subjectPolicyName(base, "egress", src, i, sources), subjectSelector(src), a.Origin)
		p.egressType = true
		for _, dst := range a.To {
			if dst.Kind == hclspec.EndpointFQDN {
				continue // accepted by name at the Admin tier (fqdnAllows); the policy still isolates
			}
			p.egress = append(p.egress, netv1.NetworkPolicyEgressRule{To: []netv1.NetworkPolicyPeer{peer(dst)}, Ports: ports(connectionPorts(a, dst))})
		}
		if src.Kind == hclspec.EndpointService {
			egressIsolated[src.Service] = true
		} else if !c.namespaceDNS(src.Namespace) && !(c.managed[src.Namespace].DNSSet && !c.managed[src.Namespace].DNS) {
			p.egress = append(p.egress, c.dnsRule())
		}
	}
	for i, dst := range a.To {
		if !isSubject(dst) {
			continue
		}
		if !c.requireManaged(dst.Namespace, dst.Range, "The ingress side of this connection") {
			continue
		}
		p := c.policy(set, "allow:"+a.Label, dst.Namespace, subjectPolicyName(base, "ingress", dst, i, dests), subjectSelector(dst), a.Origin)
		p.ingressType = true
		var peers []netv1.NetworkPolicyPeer
		for _, src := range a.From {
			peers = append(peers, peer(src))
		}
		p.ingress = append(p.ingress, netv1.NetworkPolicyIngressRule{From: peers, Ports: ports(connectionPorts(a, dst))})
	}
}

// isSubject reports whether perimeter can attach a policy to the endpoint:
// it must name pods in one namespace.
func isSubject(e hclspec.Endpoint) bool {
	switch e.Kind {
	case hclspec.EndpointService, hclspec.EndpointNamespace, hclspec.EndpointPods:
		return true
	}
	return false
}

func subjects(es []hclspec.Endpoint) int {
	n := 0
	for _, e := range es {
		if isSubject(e) {
			n++
		}
	}
	return n
}

// subjectPolicyName is <allow>-<direction>, or <allow>-<direction>-<subject>
// when one allow block has several subjects on that side.
func subjectPolicyName(base, direction string, e hclspec.Endpoint, index, count int) string {
	if count <= 1 {
		return objectName(base, direction)
	}
	switch e.Kind {
	case hclspec.EndpointService:
		return objectName(base, direction, e.Service.Name)
	case hclspec.EndpointNamespace:
		return objectName(base, direction, e.Namespace)
	}
	return objectName(base, direction, "pods"+strconv.Itoa(index))
}

func subjectSelector(e hclspec.Endpoint) map[string]string {
	switch e.Kind {
	case hclspec.EndpointService:
		return e.Service.Selector
	case hclspec.EndpointPods:
		return e.PodSelector
	}
	return nil
}

// peer renders the other side of a rule.
func peer(e hclspec.Endpoint) netv1.NetworkPolicyPeer {
	switch e.Kind {
	case hclspec.EndpointService:
		return podsPeer(e.Namespace, e.Service.Selector)
	case hclspec.EndpointPods:
		return podsPeer(e.Namespace, e.PodSelector)
	case hclspec.EndpointNamespace:
		return netv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: e.Namespace}}}
	case hclspec.EndpointNamespaces:
		sel := selector(e.NamespaceSelector)
		return netv1.NetworkPolicyPeer{NamespaceSelector: &sel}
	}
	return netv1.NetworkPolicyPeer{IPBlock: &netv1.IPBlock{CIDR: e.CIDR, Except: e.Except}}
}

// connectionPorts are the allow's ports, or the destination service's pod
// port (NetworkPolicy counts pod ports, not Service ports), or all ports.
func connectionPorts(a *hclspec.Allow, dst hclspec.Endpoint) []hclspec.PortSpec {
	if len(a.Ports) > 0 {
		return a.Ports
	}
	if dst.Kind == hclspec.EndpointService {
		return []hclspec.PortSpec{targetPort(dst.Service)}
	}
	return nil
}
