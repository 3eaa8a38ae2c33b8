package hclspec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// tierBlocks maps the block types of the cluster tiers to their tier:
// guardrails are the platform's Admin tier, evaluated before every
// NetworkPolicy; baselines are the Baseline tier, evaluated after them.
var tierBlocks = []struct {
	block string
	tier  Tier
}{{"guardrail", TierAdmin}, {"baseline", TierBaseline}}

var clusterPolicySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "priority", Required: true}, {Name: "subject", Required: true}, {Name: "description"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "ingress", LabelNames: []string{"name"}}, {Type: "egress", LabelNames: []string{"name"}},
	},
}

var ingressRuleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "action", Required: true}, {Name: "from", Required: true}, {Name: "ports"}, {Name: "description"},
}}

var egressRuleSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "action", Required: true}, {Name: "to", Required: true}, {Name: "ports"}, {Name: "description"},
}}

// decodeClusterPolicies reads guardrail and baseline blocks.
func (d *decoder) decodeClusterPolicies(in *Intent) {
	names := map[string]*ClusterPolicy{}
	for _, tb := range tierBlocks {
		for _, b := range d.blocks[tb.block] {
			if !d.unique(b) {
				continue
			}
			p := d.clusterPolicy(b, tb.tier, in.FQDNEgress)
			if first, dup := names[p.Name]; dup && p.Name != "" {
				d.diags = append(d.diags, errorAt(b.DefRange, "Duplicate cluster policy name",
					"ClusterNetworkPolicy %q is already produced by %s (%s); guardrails and baselines share one cluster-wide kind, so their names must differ.",
					p.Name, first.Block, first.Range))
				continue
			}
			names[p.Name] = p
			in.ClusterPolicies = append(in.ClusterPolicies, p)
		}
	}
	d.warnSamePriority(in.ClusterPolicies)
}

// clusterPolicy decodes one guardrail or baseline block.
func (d *decoder) clusterPolicy(b *hcl.Block, tier Tier, fqdnEgress string) *ClusterPolicy {
	r := open(b.Body, clusterPolicySchema, d.ctx, b.DefRange)
	p := &ClusterPolicy{Label: b.Labels[0], Tier: tier, Origin: origin(b)}
	r.str("description", "")
	p.Name = r.str("name", p.Label)
	if msg := validateObjectName(p.Name); msg != "" {
		rng := r.attrRange("name")
		if !r.has("name") {
			rng = b.LabelRanges[0]
		}
		r.errorf(rng, "Invalid cluster policy name",
			"%q is the name of a ClusterNetworkPolicy, which must be a DNS subdomain: %s. Set name = \"...\" to keep the label.", p.Name, msg)
	}
	// -1 marks a missing or invalid priority (already reported), so that it
	// is not compared with others.
	p.Priority = int32(r.integer("priority", -1, 0, MaxPriority))
	if subj := r.endpoints("subject", &d.refs); len(subj) > 1 {
		r.errorf(r.attrRange("subject"), "One subject per policy",
			"A ClusterNetworkPolicy has exactly one subject: namespace.X, namespaces({...}), pods(\"ns\", {...}) or service.X.")
	} else if len(subj) == 1 {
		p.Subject = subj[0]
		checkSubject(r, p.Subject)
	}
	for _, blk := range r.blocks {
		rule := d.tierRule(blk, fqdnEgress)
		if blk.Type == "ingress" {
			p.Ingress = append(p.Ingress, rule)
		} else {
			p.Egress = append(p.Egress, rule)
		}
	}
	checkRuleCounts(r, b, p)
	d.diags = append(d.diags, r.diags...)
	return p
}

// checkSubject rejects subjects the API cannot express: it selects pods by
// namespace and pod labels only.
func checkSubject(r *body, e Endpoint) {
	switch e.Kind {
	case EndpointNamespace, EndpointNamespaces, EndpointPods, EndpointService:
	default:
		r.errorf(e.Range, "Invalid subject",
			"A cluster policy applies to pods: namespace.X, namespaces({...}), pods(\"ns\", {...}) or service.X; %s selects no pods.", e.Kind)
	}
}

// checkRuleCounts enforces the CRD's 25 rules per direction and warns about
// a policy without rules, which the API accepts and which does nothing.
func checkRuleCounts(r *body, b *hcl.Block, p *ClusterPolicy) {
	for _, dir := range []struct {
		name  string
		rules []*TierRule
	}{{"ingress", p.Ingress}, {"egress", p.Egress}} {
		if rules := dir.rules; len(rules) > MaxTierRules {
			r.errorf(rules[MaxTierRules].Range, "Too many rules",
				"%s has %d %s rules; a ClusterNetworkPolicy holds at most %d per direction. Split it into two policies.",
				p.Block, len(rules), dir.name, MaxTierRules)
		}
	}
	if len(p.Ingress) == 0 && len(p.Egress) == 0 {
		r.warnf(b.DefRange, "Cluster policy without rules",
			"%s has no ingress or egress block, so it affects no traffic.", p.Block)
	}
}

// tierRule decodes one ingress or egress block of a cluster policy.
func (d *decoder) tierRule(b *hcl.Block, fqdnEgress string) *TierRule {
	schema, peers := ingressRuleSchema, "from"
	if b.Type == "egress" {
		schema, peers = egressRuleSchema, "to"
	}
	r := open(b.Body, schema, d.ctx, b.DefRange)
	rule := &TierRule{Name: b.Labels[0], Range: b.DefRange}
	r.str("description", "")
	if n := len(rule.Name); n > MaxRuleName {
		r.errorf(b.LabelRanges[0], "Rule name too long", "The rule's name has %d characters; the API allows at most %d.", n, MaxRuleName)
	}
	if action := r.str("action", ""); r.has("action") && r.oneOf("action", action, "accept", "deny", "pass") {
		rule.Action = strings.ToUpper(action[:1]) + action[1:]
	}
	rule.Peers = r.endpoints(peers, &d.refs)
	rule.Ports = r.ports("ports")
	checkPeers(r, b.Type, peers, rule, fqdnEgress)
	checkTierPorts(r, rule)
	d.diags = append(d.diags, r.diags...)
	return rule
}

// checkPeers mirrors what the CRD allows as peers of a rule. A limit
// exceeded is reported at the first endpoint past it.
func checkPeers(r *body, dir, attr string, rule *TierRule, fqdnEgress string) {
	var groups, cidrs, fqdns []Endpoint
	for _, e := range rule.Peers {
		switch e.Kind {
		case EndpointNamespace, EndpointNamespaces, EndpointPods, EndpointService:
			groups = append(groups, e)
		case EndpointCIDR:
			if len(cidrs) == 0 {
				groups = append(groups, e) // every IP block of a rule goes into one networks peer
			}
			cidrs = append(cidrs, e)
			checkNetworkPeer(r, dir, e)
		case EndpointFQDN:
			if len(fqdns) == 0 {
				groups = append(groups, e) // and every domain name into one domainNames peer
			}
			fqdns = append(fqdns, e)
			checkDomainPeer(r, dir, rule, e, fqdnEgress)
		default:
			r.errorf(e.Range, "Invalid peer", "%s cannot be a peer of a cluster policy rule.", e.Kind)
		}
	}
	for _, c := range []struct {
		what string
		es   []Endpoint
	}{{"peers", groups}, {"IP blocks", cidrs}, {"domain names", fqdns}} {
		if len(c.es) > MaxTierPeers {
			r.errorf(c.es[MaxTierPeers].Range, "Too many peers",
				"%q lists %d %s; a ClusterNetworkPolicy rule holds at most %d.", attr, len(c.es), c.what, MaxTierPeers)
		}
	}
}

func checkNetworkPeer(r *body, dir string, e Endpoint) {
	if dir == "ingress" {
		r.errorf(e.Range, "IP block in a cluster ingress rule",
			"ClusterNetworkPolicy ingress rules select pods and namespaces only; IP blocks (networks) are egress peers.")
	}
	if len(e.Except) > 0 {
		r.errorf(e.Range, "IP block exceptions in a cluster policy",
			"ClusterNetworkPolicy networks have no exceptions; write a higher rule for %s (say, deny or pass) before this one.", strings.Join(e.Except, ", "))
	}
}

func checkDomainPeer(r *body, dir string, rule *TierRule, e Endpoint, fqdnEgress string) {
	switch {
	case fqdnEgress == FQDNCilium:
		r.errorf(e.Range, "Domain name in a guardrail with Cilium",
			"fqdn(%q) in a guardrail is a ClusterNetworkPolicy domainNames peer, which Cilium does not enforce (fqdn_egress = %q): write this egress as an allow, which becomes a CiliumNetworkPolicy toFQDNs rule.", e.FQDN, FQDNCilium)
	case fqdnEgress != FQDNClusterNetworkPolicy:
		r.errorf(e.Range, "No implementation enforces egress by domain name",
			"fqdn(%q) compiles to a ClusterNetworkPolicy domainNames peer, which only the API's experimental channel has and only some implementations enforce; a cluster without one would silently ignore it. If this cluster's does, say so: perimeter { fqdn_egress = %q }.",
			e.FQDN, FQDNClusterNetworkPolicy)
	case dir == "ingress":
		r.errorf(e.Range, "Domain name in an ingress rule", "Domain names are egress destinations only.")
	case rule.Action != "" && rule.Action != ActionAccept:
		r.errorf(e.Range, "Domain name in a non-accept rule",
			"This is a %s rule; the API supports domain names in accept rules only: accept the names, then deny the rest in a later rule or a policy of lower precedence.",
			strings.ToLower(rule.Action))
	}
}

// checkTierPorts rejects ports the API cannot express in a cluster policy:
// named ports are experimental (not in the standard channel).
func checkTierPorts(r *body, rule *TierRule) {
	for _, p := range rule.Ports {
		if p.Name != "" {
			r.errorf(r.attrRange("ports"), "Named port in a cluster policy",
				"%q is a named port; standard-channel ClusterNetworkPolicies match port numbers and ranges only.", p.Name)
		}
	}
	if len(rule.Ports) > MaxTierProtocols {
		r.errorf(r.attrs["ports"].NameRange, "Too many ports",
			"The rule lists %d ports; a ClusterNetworkPolicy rule holds at most %d.", len(rule.Ports), MaxTierProtocols)
	}
}

// warnSamePriority warns when two policies of one tier share a priority:
// the API leaves the order between them to the implementation, so a
// connection both match has no defined verdict.
func (d *decoder) warnSamePriority(ps []*ClusterPolicy) {
	seen := map[string]*ClusterPolicy{}
	sorted := append([]*ClusterPolicy(nil), ps...)
	sort.SliceStable(sorted, func(i, j int) bool { return rangeBefore(sorted[i].Range, sorted[j].Range) })
	for _, p := range sorted {
		if p.Priority < 0 {
			continue
		}
		key := fmt.Sprintf("%s/%d", p.Tier, p.Priority)
		if first, ok := seen[key]; ok {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Two cluster policies with one priority",
				Detail: fmt.Sprintf("%s and %s (%s) are both %s tier, priority %d; where both match a connection, the implementation may apply either. Give them different priorities.",
					p.Block, first.Block, first.Range, p.Tier, p.Priority),
				Subject: p.Range.Ptr()})
			continue
		}
		seen[key] = p
	}
}

func rangeBefore(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}
