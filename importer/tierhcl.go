package importer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// writeTiers writes the guardrail and baseline blocks, by name. A policy
// with a selector or port the language cannot express is not written, and
// the report says why; domain names set the stack's fqdn_egress.
func (m *model) writeTiers(body *hclwrite.Body) {
	sort.SliceStable(m.tiers, func(i, j int) bool { return m.tiers[i].p.Name < m.tiers[j].p.Name })
	for _, t := range m.tiers {
		b := hclwrite.NewEmptyFile().Body()
		names, why := writeTier(b, t.p)
		if why != "" {
			m.note(t.from, "", Dropped, "%s; write it as a guardrail or baseline block by hand, or keep it outside the stack.", why)
			continue
		}
		if t.how != "" {
			m.note(t.from, "", Translated, "%s", t.how)
		}
		if names {
			body.FirstMatchingBlock("perimeter", nil).Body().SetAttributeValue("fqdn_egress", cty.StringVal(hclspec.FQDNClusterNetworkPolicy))
			m.note(t.from, "domainNames", Warning, "domain names need an implementation that enforces them; the stack now says fqdn_egress = %q.", hclspec.FQDNClusterNetworkPolicy)
		}
		body.AppendUnstructuredTokens(b.BuildTokens(nil))
		body.AppendNewline()
	}
}

// writeTier writes one policy into b; names says whether it has domain
// names, why (when not "") why it cannot be written.
func writeTier(b *hclwrite.Body, p *cnp.ClusterNetworkPolicy) (names bool, why string) {
	kind := "baseline"
	if p.Spec.Tier == cnp.AdminTier {
		kind = "guardrail"
	}
	blk := b.AppendNewBlock(kind, []string{p.Name}).Body()
	blk.SetAttributeValue("priority", cty.NumberIntVal(int64(p.Spec.Priority)))
	subject, why := podsTokens(p.Spec.Subject.Namespaces, p.Spec.Subject.Pods)
	if why != "" {
		return false, "its subject " + why
	}
	blk.SetAttributeRaw("subject", subject)
	for i, r := range p.Spec.Ingress {
		var peers []hclwrite.Tokens
		for _, x := range r.From {
			t, why := podsTokens(x.Namespaces, x.Pods)
			if why != "" {
				return false, fmt.Sprintf("ingress rule %d: a peer %s", i, why)
			}
			peers = append(peers, t)
		}
		if why := writeTierRule(blk, "ingress", "from", i, r.Name, string(r.Action), peers, r.Protocols); why != "" {
			return false, why
		}
	}
	for i, r := range p.Spec.Egress {
		var peers []hclwrite.Tokens
		for _, x := range r.To {
			ts, hasNames, why := egressTokens(x)
			if why != "" {
				return false, fmt.Sprintf("egress rule %d: a peer %s", i, why)
			}
			names = names || hasNames
			peers = append(peers, ts...)
		}
		if why := writeTierRule(blk, "egress", "to", i, r.Name, string(r.Action), peers, r.Protocols); why != "" {
			return false, why
		}
	}
	return names, ""
}

func writeTierRule(b *hclwrite.Body, dir, attr string, i int, name, action string, peers []hclwrite.Tokens, protos []cnp.ClusterNetworkPolicyProtocol) string {
	if name == "" {
		name = fmt.Sprintf("rule %d", i)
	}
	ports, why := portStrings(protos)
	if why != "" {
		return fmt.Sprintf("%s rule %d: %s", dir, i, why)
	}
	r := b.AppendNewBlock(dir, []string{name}).Body()
	r.SetAttributeValue("action", cty.StringVal(strings.ToLower(action)))
	if len(peers) == 1 {
		r.SetAttributeRaw(attr, peers[0])
	} else {
		r.SetAttributeRaw(attr, hclwrite.TokensForTuple(peers))
	}
	if len(ports) > 0 {
		r.SetAttributeValue("ports", stringList(ports))
	}
	return ""
}

// podsTokens writes a namespaces or pods selector as an endpoint:
// namespaces({...}), or pods("ns", {...}) for pods of one namespace named
// by kubernetes.io/metadata.name. Label expressions have no form.
func podsTokens(ns *metav1.LabelSelector, pods *cnp.NamespacedPod) (hclwrite.Tokens, string) {
	if pods != nil {
		name := pods.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
		if len(pods.NamespaceSelector.MatchLabels) != 1 || name == "" || len(pods.NamespaceSelector.MatchExpressions) > 0 || len(pods.PodSelector.MatchExpressions) > 0 {
			return nil, "selects pods across namespaces by label, or by label expressions, which pods(\"namespace\", {...}) cannot say"
		}
		return hclwrite.TokensForFunctionCall("pods", hclwrite.TokensForValue(cty.StringVal(name)), stringMap(pods.PodSelector.MatchLabels)), ""
	}
	if ns == nil || len(ns.MatchExpressions) > 0 {
		return nil, "selects namespaces by label expressions, which namespaces({...}) cannot say"
	}
	return hclwrite.TokensForFunctionCall("namespaces", stringMap(ns.MatchLabels)), ""
}

// egressTokens writes an egress peer: its pods, or one cidr(...) per
// network, or one fqdn(...) per domain name.
func egressTokens(x cnp.ClusterNetworkPolicyEgressPeer) (out []hclwrite.Tokens, names bool, why string) {
	switch {
	case len(x.Networks) > 0:
		for _, n := range x.Networks {
			out = append(out, hclwrite.TokensForFunctionCall("cidr", hclwrite.TokensForValue(cty.StringVal(string(n)))))
		}
	case len(x.DomainNames) > 0:
		for _, n := range x.DomainNames {
			out = append(out, hclwrite.TokensForFunctionCall("fqdn", hclwrite.TokensForValue(cty.StringVal(string(n)))))
		}
		names = true
	case x.Nodes != nil:
		return nil, false, "selects nodes (experimental), which the language has no endpoint for"
	default:
		t, why := podsTokens(x.Namespaces, x.Pods)
		return []hclwrite.Tokens{t}, false, why
	}
	return out, names, ""
}

// portStrings writes protocols as ports ("443/tcp", "8000-8100/udp").
func portStrings(protos []cnp.ClusterNetworkPolicyProtocol) ([]string, string) {
	var out []string
	for _, p := range protos {
		proto, port, ok := generate.TierProtocol(p)
		if !ok {
			return nil, fmt.Sprintf("named port %q (experimental) has no standard-channel form", p.DestinationNamedPort)
		}
		lower := strings.ToLower(string(proto))
		switch {
		case port == nil || port.Range != nil && port.Range.Start == 1 && port.Range.End == 65535:
			out = append(out, lower)
		case port.Range != nil:
			out = append(out, fmt.Sprintf("%d-%d/%s", port.Range.Start, port.Range.End, lower))
		default:
			out = append(out, fmt.Sprintf("%d/%s", port.Number, lower))
		}
	}
	return out, ""
}
