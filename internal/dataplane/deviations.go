package dataplane

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/perimeter-dev/perimeter/reach"
)

// Deviation is a documented way kube-router v2.1.0 departs from the
// NetworkPolicy API (docs/dataplane.md): a rewrite of the policies that
// makes reach's verdicts those of kube-router.
type Deviation struct {
	Name    string
	Rewrite func(pols []networkingv1.NetworkPolicy, ns []reach.Namespace, pods []*reach.Pod) []networkingv1.NetworkPolicy
}

// Deviations are the known ones.
var Deviations = []Deviation{{
	// kube-router resolves a rule's named ports against the pods the rule
	// is about (an ingress rule's: the policy's pods; an egress rule's:
	// its peers' pods). When none of them has any of the names and the
	// rule has no numeric port, its port list comes out empty, which
	// kube-router then treats as "every port" (policy.go, "len(ports) == 0
	// && len(namedPorts) == 0"). The API says such a rule admits nothing.
	Name:    "kube-router: a rule whose named ports no pod has admits every port",
	Rewrite: unresolvedNamedPortsOpen,
}}

// unresolvedNamedPortsOpen drops the ports of every rule whose ports are
// all names that none of the rule's pods declares.
func unresolvedNamedPortsOpen(pols []networkingv1.NetworkPolicy, nss []reach.Namespace, pods []*reach.Pod) []networkingv1.NetworkPolicy {
	nsLabels := map[string]labels.Set{}
	for _, ns := range nss {
		nsLabels[ns.Name] = ns.Labels
	}
	out := make([]networkingv1.NetworkPolicy, len(pols))
	for i, p := range pols {
		p = *p.DeepCopy()
		targets := selectPods(pods, p.Namespace, &p.Spec.PodSelector)
		for j, r := range p.Spec.Ingress {
			if unresolved(r.Ports, targets) {
				p.Spec.Ingress[j].Ports = nil
			}
		}
		for j, r := range p.Spec.Egress {
			var peers []*reach.Pod
			for _, peer := range r.To {
				peers = append(peers, peerPods(pods, nsLabels, p.Namespace, peer)...)
			}
			if unresolved(r.Ports, peers) {
				p.Spec.Egress[j].Ports = nil
			}
		}
		out[i] = p
	}
	return out
}

// unresolved reports whether ports are all named (at least one) and no
// pod has any of those names with the port's protocol.
func unresolved(ports []networkingv1.NetworkPolicyPort, pods []*reach.Pod) bool {
	if len(ports) == 0 {
		return false
	}
	for _, pp := range ports {
		if pp.Port == nil || pp.Port.IntVal != 0 || pp.Port.StrVal == "" {
			return false
		}
		proto := corev1.ProtocolTCP
		if pp.Protocol != nil {
			proto = *pp.Protocol
		}
		for _, pod := range pods {
			for _, np := range pod.Ports {
				if np.Name == pp.Port.StrVal && np.Protocol == proto {
					return false
				}
			}
		}
	}
	return true
}

func selectPods(pods []*reach.Pod, ns string, sel *metav1.LabelSelector) []*reach.Pod {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil
	}
	var out []*reach.Pod
	for _, p := range pods {
		if p.Namespace == ns && s.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// peerPods are the pods a peer selects (none for an ipBlock).
func peerPods(pods []*reach.Pod, nsLabels map[string]labels.Set, policyNS string, peer networkingv1.NetworkPolicyPeer) []*reach.Pod {
	if peer.IPBlock != nil {
		return nil
	}
	podSel := labels.Everything()
	if peer.PodSelector != nil {
		s, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
		if err != nil {
			return nil
		}
		podSel = s
	}
	var out []*reach.Pod
	for _, p := range pods {
		inNS := p.Namespace == policyNS
		if peer.NamespaceSelector != nil {
			s, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
			inNS = err == nil && s.Matches(nsLabels[p.Namespace])
		}
		if inNS && podSel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// Deviated returns the name of the deviation that explains a comparison
// (reach over the rewritten policies agrees with the packets where reach
// over the policies as written does not), or "".
func (en *Enacted) Deviated(c Comparison) string {
	if c.Agree() || c.Invalid != "" {
		return ""
	}
	for _, d := range Deviations {
		e, err := reach.New(d.Rewrite(en.World.Policies, en.namespaces, en.reachPods), en.namespaces, en.reachPods)
		if err != nil {
			continue
		}
		if e.Evaluate(en.peers[c.From], en.peers[c.To], reach.Port{Number: c.Port.Number, Protocol: c.Port.Protocol}).Allowed == c.Open {
			return d.Name
		}
	}
	return ""
}
