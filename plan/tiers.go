package plan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/perimeter-dev/perimeter/generate"
)

// tierStatements are the boundary statements of a ClusterNetworkPolicy:
// one per rule and peer, kind "guardrail" for the Admin tier (evaluated
// before every NetworkPolicy) and "baseline" for the Baseline tier (after
// them), e.g. `deny */* -> 169.254.169.254/32 (all ports) [priority 10,
// egress rule 0 "metadata"]`.
func tierStatements(o *unstructured.Unstructured) []statement {
	var p cnp.ClusterNetworkPolicy
	if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &p) != nil {
		return nil
	}
	kind := "baseline"
	if p.Spec.Tier == cnp.AdminTier {
		kind = "guardrail"
	}
	subject := tierPodsText(p.Spec.Subject.Namespaces, p.Spec.Subject.Pods)
	var out []statement
	add := func(dir string, i int, name string, action cnp.ClusterNetworkPolicyRuleAction, peer string, protos []cnp.ClusterNetworkPolicyProtocol) {
		from, to := peer, subject
		if dir == "egress" {
			from, to = subject, peer
		}
		ports := tierPorts(protos)
		where := fmt.Sprintf("[priority %d, %s rule %d", p.Spec.Priority, dir, i)
		if name != "" {
			where += fmt.Sprintf(" %q", name)
		}
		order := fmt.Sprintf("%04d %s %s %02d ", p.Spec.Priority, p.Name, dir, i)
		out = append(out, statement{kind: kind, from: from, to: to, ports: ports, order: order,
			text: fmt.Sprintf("%s %s -> %s %s %s]", strings.ToLower(string(action)), from, to, portsText(ports), where)})
	}
	for i, r := range p.Spec.Ingress {
		for _, peer := range r.From {
			add("ingress", i, r.Name, r.Action, tierPodsText(peer.Namespaces, peer.Pods), r.Protocols)
		}
	}
	for i, r := range p.Spec.Egress {
		for _, peer := range r.To {
			add("egress", i, r.Name, r.Action, tierPeerText(peer), r.Protocols)
		}
	}
	return out
}

func tierPeerText(p cnp.ClusterNetworkPolicyEgressPeer) string {
	switch {
	case len(p.Networks) > 0:
		parts := make([]string, len(p.Networks))
		for i, n := range p.Networks {
			parts[i] = string(n)
		}
		return strings.Join(parts, ",")
	case len(p.DomainNames) > 0:
		parts := make([]string, len(p.DomainNames))
		for i, n := range p.DomainNames {
			parts[i] = string(n)
		}
		return strings.Join(parts, ",")
	}
	return tierPodsText(p.Namespaces, p.Pods)
}

// tierPodsText writes a namespaces or pods selector as the NetworkPolicy
// lines do: namespace/pod-selector, "*" for every one.
func tierPodsText(ns any, pods *cnp.NamespacedPod) string {
	toMap := func(v any) map[string]any {
		m, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(v)
		return m
	}
	if pods != nil {
		return tierNamespaceText(toMap(&pods.NamespaceSelector)) + "/" + selectorText(toMap(&pods.PodSelector))
	}
	if m := toMap(ns); m != nil {
		return tierNamespaceText(m) + "/*"
	}
	return "?"
}

func tierNamespaceText(sel map[string]any) string {
	if name, ok, _ := unstructured.NestedString(sel, "matchLabels", "kubernetes.io/metadata.name"); ok && len(nested(sel, "matchLabels")) == 1 {
		return name
	}
	if t := selectorText(sel); t != "*" {
		return "namespaces{" + t + "}"
	}
	return "*"
}

func tierPorts(protos []cnp.ClusterNetworkPolicyProtocol) []string {
	var out []string
	for _, p := range protos {
		proto, port, ok := generate.TierProtocol(p)
		lower := strings.ToLower(string(proto))
		switch {
		case !ok:
			out = append(out, p.DestinationNamedPort)
		case port == nil:
			out = append(out, "all/"+lower)
		case port.Range != nil:
			out = append(out, fmt.Sprintf("%d-%d/%s", port.Range.Start, port.Range.End, lower))
		default:
			out = append(out, fmt.Sprintf("%d/%s", port.Number, lower))
		}
	}
	return out
}
