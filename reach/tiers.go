package reach

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// Tier names where a verdict was reached, in the order the API evaluates
// them: the Admin tier of ClusterNetworkPolicies, the namespaced
// NetworkPolicies, the Baseline tier, and the default (allow).
type Tier string

// The tiers of an evaluation.
const (
	TierAdmin         Tier = "Admin"
	TierNetworkPolicy Tier = "NetworkPolicy"
	TierBaseline      Tier = "Baseline"
	TierDefault       Tier = "Default"
)

// clusterPolicy is a ClusterNetworkPolicy with its selectors and CIDRs
// parsed once.
type clusterPolicy struct {
	obj      *cnp.ClusterNetworkPolicy
	name     string
	tier     Tier
	priority int32
	subject  podSel
	inRules  []tierRule
	outRules []tierRule
}

// podSel selects pods by namespace labels and (unless nil) pod labels.
type podSel struct {
	namespaces labels.Selector
	pods       labels.Selector // nil: every pod of the namespaces
}

// tierRule is one ingress or egress rule of a ClusterNetworkPolicy.
type tierRule struct {
	name      string
	action    string // Accept, Deny or Pass
	peers     []tierPeer
	protocols []cnp.ClusterNetworkPolicyProtocol
}

// tierPeer is one peer: pods, networks or domain names (one is set).
type tierPeer struct {
	pods     *podSel
	networks []netip.Prefix
	domains  []string
}

// AddClusterPolicies adds ClusterNetworkPolicies (Admin and Baseline tier)
// to the engine; call it before evaluating. It fails on a selector, CIDR,
// tier or action the API server would reject. Within a tier, policies are
// evaluated by priority, then (where the API leaves the order open) by name.
func (e *Engine) AddClusterPolicies(ps []cnp.ClusterNetworkPolicy) error {
	for i := range ps {
		c, err := compileCluster(&ps[i])
		if err != nil {
			return fmt.Errorf("ClusterNetworkPolicy %s: %w", ps[i].Name, err)
		}
		e.cluster = append(e.cluster, c)
	}
	sort.SliceStable(e.cluster, func(i, j int) bool {
		a, b := e.cluster[i], e.cluster[j]
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		return a.name < b.name
	})
	e.clusterIndex = indexCluster(e.cluster)
	return nil
}

// HasTierAction reports whether a ClusterNetworkPolicy of the tier has a
// rule with the action (Accept, Deny or Pass). A verdict is decided by
// such a rule only if one exists, so a caller looking for one (a lint
// evaluating every allow) can skip evaluating when there is none.
func (e *Engine) HasTierAction(tier Tier, action string) bool {
	for _, c := range e.cluster {
		if c.tier != tier {
			continue
		}
		for _, rs := range [][]tierRule{c.inRules, c.outRules} {
			for _, r := range rs {
				if r.action == action {
					return true
				}
			}
		}
	}
	return false
}

func compileCluster(p *cnp.ClusterNetworkPolicy) (*clusterPolicy, error) {
	c := &clusterPolicy{obj: p, name: p.Name, tier: Tier(p.Spec.Tier), priority: p.Spec.Priority}
	if c.tier != TierAdmin && c.tier != TierBaseline {
		return nil, fmt.Errorf("tier %q is neither Admin nor Baseline", p.Spec.Tier)
	}
	s, err := compilePodSel(p.Spec.Subject.Namespaces, p.Spec.Subject.Pods)
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	c.subject = *s
	for i, r := range p.Spec.Ingress {
		var peers []cnp.ClusterNetworkPolicyEgressPeer
		for _, x := range r.From {
			peers = append(peers, cnp.ClusterNetworkPolicyEgressPeer{Namespaces: x.Namespaces, Pods: x.Pods})
		}
		tr, err := compileTierRule(r.Name, r.Action, peers, r.Protocols)
		if err != nil {
			return nil, fmt.Errorf("ingress[%d]: %w", i, err)
		}
		c.inRules = append(c.inRules, tr)
	}
	for i, r := range p.Spec.Egress {
		tr, err := compileTierRule(r.Name, r.Action, r.To, r.Protocols)
		if err != nil {
			return nil, fmt.Errorf("egress[%d]: %w", i, err)
		}
		c.outRules = append(c.outRules, tr)
	}
	return c, nil
}

func compileTierRule(name string, action cnp.ClusterNetworkPolicyRuleAction, peers []cnp.ClusterNetworkPolicyEgressPeer, protocols []cnp.ClusterNetworkPolicyProtocol) (tierRule, error) {
	r := tierRule{name: name, action: string(action), protocols: protocols}
	switch action {
	case cnp.ClusterNetworkPolicyRuleActionAccept, cnp.ClusterNetworkPolicyRuleActionDeny, cnp.ClusterNetworkPolicyRuleActionPass:
	default:
		return r, fmt.Errorf("action %q is not Accept, Deny or Pass", action)
	}
	for i, p := range peers {
		tp, err := compileTierPeer(p)
		if err != nil {
			return r, fmt.Errorf("peer %d: %w", i, err)
		}
		r.peers = append(r.peers, tp)
	}
	return r, nil
}

func compileTierPeer(p cnp.ClusterNetworkPolicyEgressPeer) (tierPeer, error) {
	var out tierPeer
	var err error
	switch {
	case p.Namespaces != nil || p.Pods != nil:
		out.pods, err = compilePodSel(p.Namespaces, p.Pods)
	case len(p.Networks) > 0:
		for _, n := range p.Networks {
			pre, perr := netip.ParsePrefix(string(n))
			if perr != nil {
				return out, fmt.Errorf("networks: %w", perr)
			}
			out.networks = append(out.networks, pre.Masked())
		}
	case len(p.DomainNames) > 0:
		for _, d := range p.DomainNames {
			out.domains = append(out.domains, canonicalName(string(d)))
		}
	default:
		// The API says to fail closed on a peer it cannot read: for
		// Accept it matches nothing, for Deny and Pass everything. Nodes
		// (experimental) are not modelled, so refuse rather than guess.
		err = fmt.Errorf("a peer needs namespaces, pods, networks or domainNames")
	}
	return out, err
}

// compilePodSel parses a namespaces selector or a pods (namespace and pod)
// selector.
func compilePodSel(ns *metav1.LabelSelector, pods *cnp.NamespacedPod) (*podSel, error) {
	if pods != nil {
		nsSel, err := metav1.LabelSelectorAsSelector(&pods.NamespaceSelector)
		if err != nil {
			return nil, fmt.Errorf("namespaceSelector: %w", err)
		}
		podSel2, err := metav1.LabelSelectorAsSelector(&pods.PodSelector)
		if err != nil {
			return nil, fmt.Errorf("podSelector: %w", err)
		}
		return &podSel{namespaces: nsSel, pods: podSel2}, nil
	}
	if ns == nil {
		return nil, fmt.Errorf("neither namespaces nor pods is set")
	}
	sel, err := metav1.LabelSelectorAsSelector(ns)
	if err != nil {
		return nil, fmt.Errorf("namespaces: %w", err)
	}
	return &podSel{namespaces: sel}, nil
}

// canonicalName lowercases a domain name and drops a final dot: DNS names
// compare without regard to case, and "example.com." is "example.com".
func canonicalName(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// MatchDomain reports whether a domain name pattern of a ClusterNetworkPolicy
// matches name: exactly, or for "*.suffix" when name has one or more
// labels before ".suffix" ("*" matches whole labels only).
func MatchDomain(pattern, name string) bool {
	pattern, name = canonicalName(pattern), canonicalName(name)
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(name, "."+rest) && len(name) > len(rest)+1
	}
	return pattern == name
}

// ClusterPolicy returns the ClusterNetworkPolicy of that name, or nil.
func (e *Engine) ClusterPolicy(name string) *cnp.ClusterNetworkPolicy {
	for _, c := range e.cluster {
		if c.name == name {
			return c.obj
		}
	}
	return nil
}
