package reach

import (
	"fmt"
	"sort"

	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ciliumNamespaceLabel is how Cilium's endpoint selectors name a pod's
// namespace.
const ciliumNamespaceLabel = "k8s:io.kubernetes.pod.namespace"

// AddCiliumPolicies adds CiliumNetworkPolicies (cilium.io/v2) to the
// NetworkPolicy tier: Cilium allows the union of its policies and the
// Kubernetes NetworkPolicies selecting a pod, and a policy with egress
// rules isolates the pods it selects for egress. The egress rules perimeter
// writes are modelled — toFQDNs with exact names, toEndpoints, toPorts; L7
// rules (the DNS proxy's) do not change an L4 verdict — and a policy using
// anything else is refused rather than guessed.
func (e *Engine) AddCiliumPolicies(objs []*unstructured.Unstructured) error {
	for _, u := range objs {
		c, err := compileCilium(u)
		if err != nil {
			return fmt.Errorf("CiliumNetworkPolicy %s/%s: %w", u.GetNamespace(), u.GetName(), err)
		}
		e.policies = append(e.policies, c)
		e.byRef[c.ref] = &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace(), Annotations: u.GetAnnotations()}}
		if e.cilium == nil {
			e.cilium = map[PolicyRef]bool{}
		}
		e.cilium[c.ref] = true
	}
	sort.Slice(e.policies, func(i, j int) bool { return refLess(e.policies[i].ref, e.policies[j].ref) })
	e.index = indexPolicies(e.policies)
	return nil
}

func compileCilium(u *unstructured.Unstructured) (*compiled, error) {
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	for k := range spec {
		if k != "endpointSelector" && k != "egress" {
			return nil, fmt.Errorf("spec.%s is not modelled", k)
		}
	}
	sel, err := ciliumSelector(spec["endpointSelector"])
	if err != nil {
		return nil, fmt.Errorf("endpointSelector: %w", err)
	}
	c := &compiled{ref: PolicyRef{u.GetNamespace(), u.GetName()}, selector: sel}
	rules, _, _ := unstructured.NestedSlice(spec, "egress")
	c.egress = len(rules) > 0
	for i, r := range rules {
		cr, err := compileCiliumRule(r)
		if err != nil {
			return nil, fmt.Errorf("egress[%d]: %w", i, err)
		}
		c.outRules = append(c.outRules, cr)
	}
	return c, nil
}

func compileCiliumRule(r any) (rule, error) {
	m, _ := r.(map[string]any)
	var out rule
	for k := range m {
		if k != "toFQDNs" && k != "toEndpoints" && k != "toPorts" {
			return out, fmt.Errorf("%s is not modelled", k)
		}
	}
	fqdns, _, _ := unstructured.NestedSlice(m, "toFQDNs")
	for _, f := range fqdns {
		fm, _ := f.(map[string]any)
		name, ok := fm["matchName"].(string)
		if !ok {
			return out, fmt.Errorf("toFQDNs: only matchName is modelled")
		}
		out.peers = append(out.peers, peer{names: []string{canonicalName(name)}})
	}
	eps, _, _ := unstructured.NestedSlice(m, "toEndpoints")
	for _, ep := range eps {
		p, err := ciliumEndpointPeer(ep)
		if err != nil {
			return out, err
		}
		out.peers = append(out.peers, p)
	}
	ports, err := ciliumPorts(m)
	out.ports = ports
	return out, err
}

// ciliumEndpointPeer reads a toEndpoints selector: its namespace label
// picks the namespace (none: the policy's own), the other labels the pods.
func ciliumEndpointPeer(ep any) (peer, error) {
	m, _ := ep.(map[string]any)
	ml, _, _ := unstructured.NestedStringMap(m, "matchLabels")
	if _, has := m["matchExpressions"]; has {
		return peer{}, fmt.Errorf("toEndpoints: matchExpressions are not modelled")
	}
	pods := labels.Set{}
	var p peer
	for k, v := range ml {
		if k == ciliumNamespaceLabel {
			p.namespaces = labels.SelectorFromSet(labels.Set{NamespaceNameLabel: v})
			continue
		}
		pods[strings.TrimPrefix(k, "k8s:")] = v
	}
	p.pods = labels.SelectorFromSet(pods)
	return p, nil
}

// ciliumPorts reads toPorts: protocol ANY is TCP, UDP and SCTP; port "0"
// every port.
func ciliumPorts(m map[string]any) ([]networkingv1.NetworkPolicyPort, error) {
	tps, _, _ := unstructured.NestedSlice(m, "toPorts")
	var out []networkingv1.NetworkPolicyPort
	for _, tp := range tps {
		tm, _ := tp.(map[string]any)
		ps, _, _ := unstructured.NestedSlice(tm, "ports")
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			protos := []corev1.Protocol{corev1.Protocol(fmt.Sprint(pm["protocol"]))}
			if protos[0] == "ANY" || protos[0] == "<nil>" {
				protos = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
			}
			for _, proto := range protos {
				np := networkingv1.NetworkPolicyPort{Protocol: &proto}
				if s := fmt.Sprint(pm["port"]); s != "0" && s != "<nil>" {
					v := intstr.Parse(s)
					np.Port = &v
				}
				if end, ok := pm["endPort"].(int64); ok {
					e := int32(end)
					np.EndPort = &e
				}
				out = append(out, np)
			}
		}
	}
	return out, nil
}

func ciliumSelector(v any) (labels.Selector, error) {
	m, _ := v.(map[string]any)
	ml, _, _ := unstructured.NestedStringMap(m, "matchLabels")
	if _, has := m["matchExpressions"]; has {
		return nil, fmt.Errorf("matchExpressions are not modelled")
	}
	return labels.SelectorFromSet(labels.Set(ml)), nil
}

// matchNames matches a toFQDNs peer: a destination by that exact name.
func matchNames(names []string, other Peer) match {
	for _, n := range names {
		if other.Name != "" && canonicalName(other.Name) == n {
			return match{is: yes}
		}
	}
	return match{}
}

// PolicyKind is the kind of the NetworkPolicy-tier policy r names:
// NetworkPolicy, or CiliumNetworkPolicy.
func (e *Engine) PolicyKind(r PolicyRef) string {
	if e.cilium[r] {
		return "CiliumNetworkPolicy"
	}
	return "NetworkPolicy"
}
