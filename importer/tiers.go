package importer

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	anp "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// tierBlock is a guardrail or baseline block being imported: a
// ClusterNetworkPolicy, or an AdminNetworkPolicy / BaselineAdminNetworkPolicy
// (v1alpha1) expressed as one.
type tierBlock struct {
	from string // the object, for the report
	p    *cnp.ClusterNetworkPolicy
	how  string // how a v1alpha1 policy was translated, for the report
}

// loadTier reads a ClusterNetworkPolicy, AdminNetworkPolicy or
// BaselineAdminNetworkPolicy.
func (m *model) loadTier(u *unstructured.Unstructured) error {
	conv := runtime.DefaultUnstructuredConverter
	var p cnp.ClusterNetworkPolicy
	how := ""
	switch u.GetKind() {
	case "ClusterNetworkPolicy":
		if err := conv.FromUnstructured(u.Object, &p); err != nil {
			return err
		}
	case "AdminNetworkPolicy":
		var a anp.AdminNetworkPolicy
		if err := conv.FromUnstructured(u.Object, &a); err != nil {
			return err
		}
		p = fromANP(&a)
		how = "an AdminNetworkPolicy (v1alpha1) is a guardrail: a ClusterNetworkPolicy of the Admin tier with its priority; Allow is accept."
	case "BaselineAdminNetworkPolicy":
		var b anp.BaselineAdminNetworkPolicy
		if err := conv.FromUnstructured(u.Object, &b); err != nil {
			return err
		}
		p = fromBANP(&b)
		how = fmt.Sprintf("a BaselineAdminNetworkPolicy (v1alpha1) is a baseline: a ClusterNetworkPolicy of the Baseline tier, given priority %d (the singleton had none); Allow is accept.", hclspec.MaxPriority)
	}
	m.tiers = append(m.tiers, &tierBlock{from: objectRef(u), p: &p, how: how})
	return nil
}

func fromANP(a *anp.AdminNetworkPolicy) cnp.ClusterNetworkPolicy {
	p := cnp.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: a.Name}, Spec: cnp.ClusterNetworkPolicySpec{
		Tier: cnp.AdminTier, Priority: a.Spec.Priority, Subject: subjectOf(a.Spec.Subject)}}
	for _, r := range a.Spec.Ingress {
		p.Spec.Ingress = append(p.Spec.Ingress, cnp.ClusterNetworkPolicyIngressRule{Name: r.Name, Action: actionOf(string(r.Action)),
			From: ingressPeersOf(r.From), Protocols: protocolsOf(r.Ports)})
	}
	for _, r := range a.Spec.Egress {
		var to []cnp.ClusterNetworkPolicyEgressPeer
		for _, x := range r.To {
			to = append(to, egressPeerOf(x.Namespaces, x.Pods, x.Networks, x.DomainNames))
		}
		p.Spec.Egress = append(p.Spec.Egress, cnp.ClusterNetworkPolicyEgressRule{Name: r.Name, Action: actionOf(string(r.Action)), To: to, Protocols: protocolsOf(r.Ports)})
	}
	return p
}

func fromBANP(b *anp.BaselineAdminNetworkPolicy) cnp.ClusterNetworkPolicy {
	p := cnp.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: b.Name}, Spec: cnp.ClusterNetworkPolicySpec{
		Tier: cnp.BaselineTier, Priority: hclspec.MaxPriority, Subject: subjectOf(b.Spec.Subject)}}
	for _, r := range b.Spec.Ingress {
		p.Spec.Ingress = append(p.Spec.Ingress, cnp.ClusterNetworkPolicyIngressRule{Name: r.Name, Action: actionOf(string(r.Action)),
			From: ingressPeersOf(r.From), Protocols: protocolsOf(r.Ports)})
	}
	for _, r := range b.Spec.Egress {
		var to []cnp.ClusterNetworkPolicyEgressPeer
		for _, x := range r.To {
			to = append(to, egressPeerOf(x.Namespaces, x.Pods, x.Networks, nil))
		}
		p.Spec.Egress = append(p.Spec.Egress, cnp.ClusterNetworkPolicyEgressRule{Name: r.Name, Action: actionOf(string(r.Action)), To: to, Protocols: protocolsOf(r.Ports)})
	}
	return p
}

func actionOf(a string) cnp.ClusterNetworkPolicyRuleAction {
	if a == "Allow" {
		return cnp.ClusterNetworkPolicyRuleActionAccept
	}
	return cnp.ClusterNetworkPolicyRuleAction(a)
}

func subjectOf(s anp.AdminNetworkPolicySubject) cnp.ClusterNetworkPolicySubject {
	return cnp.ClusterNetworkPolicySubject{Namespaces: s.Namespaces, Pods: podsOf(s.Pods)}
}

func podsOf(p *anp.NamespacedPod) *cnp.NamespacedPod {
	if p == nil {
		return nil
	}
	return &cnp.NamespacedPod{NamespaceSelector: p.NamespaceSelector, PodSelector: p.PodSelector}
}

func ingressPeersOf(ps []anp.AdminNetworkPolicyIngressPeer) []cnp.ClusterNetworkPolicyIngressPeer {
	var out []cnp.ClusterNetworkPolicyIngressPeer
	for _, x := range ps {
		out = append(out, cnp.ClusterNetworkPolicyIngressPeer{Namespaces: x.Namespaces, Pods: podsOf(x.Pods)})
	}
	return out
}

func egressPeerOf(ns *metav1.LabelSelector, pods *anp.NamespacedPod, nets []anp.CIDR, names []anp.DomainName) cnp.ClusterNetworkPolicyEgressPeer {
	out := cnp.ClusterNetworkPolicyEgressPeer{Namespaces: ns, Pods: podsOf(pods)}
	for _, n := range nets {
		out.Networks = append(out.Networks, cnp.CIDR(n))
	}
	for _, n := range names {
		out.DomainNames = append(out.DomainNames, cnp.DomainName(n))
	}
	return out
}

// protocolsOf converts v1alpha1 ports; a named port has no standard-channel
// form and is kept as one, which writing reports.
func protocolsOf(ports *[]anp.AdminNetworkPolicyPort) []cnp.ClusterNetworkPolicyProtocol {
	if ports == nil {
		return nil
	}
	var out []cnp.ClusterNetworkPolicyProtocol
	for _, p := range *ports {
		switch {
		case p.PortNumber != nil:
			out = append(out, protocol(string(p.PortNumber.Protocol), &cnp.Port{Number: p.PortNumber.Port}))
		case p.PortRange != nil:
			out = append(out, protocol(string(p.PortRange.Protocol), &cnp.Port{Range: &cnp.PortRange{Start: p.PortRange.Start, End: p.PortRange.End}}))
		case p.NamedPort != nil:
			out = append(out, cnp.ClusterNetworkPolicyProtocol{DestinationNamedPort: *p.NamedPort})
		}
	}
	return out
}

func protocol(proto string, port *cnp.Port) cnp.ClusterNetworkPolicyProtocol {
	switch proto {
	case "UDP":
		return cnp.ClusterNetworkPolicyProtocol{UDP: &cnp.ClusterNetworkPolicyProtocolUDP{DestinationPort: port}}
	case "SCTP":
		return cnp.ClusterNetworkPolicyProtocol{SCTP: &cnp.ClusterNetworkPolicyProtocolSCTP{DestinationPort: port}}
	}
	return cnp.ClusterNetworkPolicyProtocol{TCP: &cnp.ClusterNetworkPolicyProtocolTCP{DestinationPort: port}}
}
