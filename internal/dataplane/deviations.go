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
	// its peers' pods). For the rule's pod and namespace selector peers,
	// when none of those pods has any of the names and the rule has no
	// numeric port, the port list comes out empty, which kube-router then
	// treats as "every port" (policy.go: "len(ingressRule.ports) == 0 &&
	// len(ingressRule.namedPorts) == 0", likewise for egress). The API
	// says such a rule admits nothing. ipBlock peers and rules without
	// peers are not affected.
	Name:    "kube-router: a rule with pod peers whose named ports none of its pods has admits every port",
	Rewrite: unresolvedNamedPortsOpen,
}}

// unresolvedNamedPortsOpen gives the selector peers of every rule whose
// ports are all names that none of the rule's pods declares a rule of
// their own without ports; the rule keeps its ipBlock peers and ports.
func unresolvedNamedPortsOpen(pols []networkingv1.NetworkPolicy, nss []reach.Namespace, pods []*reach.Pod) []networkingv1.NetworkPolicy {
	nsLabels := map[string]labels.Set{}
	for _, ns := range nss {
		nsLabels[ns.Name] = ns.Labels
	}
	out := make([]networkingv1.NetworkPolicy, len(pols))
	for i, p := range pols {
		p = *p.DeepCopy()
		targets := selectPods(pods, p.Namespace, &p.Spec.PodSelector)
		var ingress []networkingv1.NetworkPolicyIngressRule
		for _, r := range p.Spec.Ingress {
			sel, blocks := splitPeers(r.From)
			if len(sel) == 0 || !unresolved(r.Ports, targets) {
				ingress = append(ingress, r)
				continue
			}
			ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: sel})
			if len(blocks) > 0 {
				ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: blocks, Ports: r.Ports})
			}
		}
		var egress []networkingv1.NetworkPolicyEgressRule
		for _, r := range p.Spec.Egress {
			sel, blocks := splitPeers(r.To)
			var peers []*reach.Pod
			for _, peer := range sel {
				peers = append(peers, peerPods(pods, nsLabels, p.Namespace, peer)...)
			}
			if len(sel) == 0 || !unresolved(r.Ports, peers) {
				egress = append(egress, r)
				continue
			}
			egress = append(egress, networkingv1.NetworkPolicyEgressRule{To: sel})
			if len(blocks) > 0 {
				egress = append(egress, networkingv1.NetworkPolicyEgressRule{To: blocks, Ports: r.Ports})
			}
		}
		p.Spec.Ingress, p.Spec.Egress = ingress, egress
		out[i] = p
	}
	return out
}

// splitPeers separates selector peers from ipBlock peers.
func splitPeers(peers []networkingv1.NetworkPolicyPeer) (sel, blocks []networkingv1.NetworkPolicyPeer) {
	for _, p := range peers {
		if p.IPBlock != nil {
			blocks = append(blocks, p)
		} else {
			sel = append(sel, p)
		}
	}
	return sel, blocks
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
