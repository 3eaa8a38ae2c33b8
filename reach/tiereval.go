package reach

import (
	"fmt"
	"net/netip"
	"strings"

	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/perimeter-dev/perimeter/generate"
)

// TierRuleRef names a ClusterNetworkPolicy rule that took part in a
// verdict.
type TierRuleRef struct {
	Tier      Tier // TierAdmin or TierBaseline
	Policy    string
	Priority  int32
	Direction Direction
	Rule      int    // index in the policy's ingress or egress rules
	RuleName  string // the rule's name; may be empty
	Action    string // Accept, Deny or Pass
}

// String is e.g. `Admin ClusterNetworkPolicy no-metadata (priority 10)
// egress rule 0 "metadata" (Deny)`.
func (r TierRuleRef) String() string {
	name := ""
	if r.RuleName != "" {
		name = fmt.Sprintf(" %q", r.RuleName)
	}
	return fmt.Sprintf("%s ClusterNetworkPolicy %s (priority %d) %s rule %d%s (%s)",
		r.Tier, r.Policy, r.Priority, lower(r.Direction), r.Rule, name, r.Action)
}

// TierVerdict is how the tiers decided one direction of a connection, when
// some ClusterNetworkPolicy selects its pod: the Admin tier by priority and
// rule order (Accept and Deny are final, Pass skips the rest of the tier),
// then the NetworkPolicies (final for a pod they isolate), then the
// Baseline tier, then the default, which allows.
type TierVerdict struct {
	// DecidedBy is the tier whose decision stands; "" when unknown.
	DecidedBy Tier
	// Rule is the Admin or Baseline rule that decided (Accept or Deny);
	// nil when the NetworkPolicies or the default decided.
	Rule *TierRuleRef
	// Passed are the Pass rules that sent evaluation on, in order.
	Passed []TierRuleRef
	// Undecided are the rules whose match depends on missing facts, where
	// the verdict is unknown.
	Undecided []TierRuleRef
	state     tri
	facts     []Fact // what Undecided depends on
}

// step is one place in the tiered evaluation of a direction: a rule, the
// NetworkPolicy tier (np) or, past the last step, the default.
type step struct {
	ref TierRuleRef
	m   match
	np  bool
}

// tiered evaluates the cluster tiers around the NetworkPolicy verdict np of
// one direction. It returns nil when no ClusterNetworkPolicy selects the
// pod, leaving np as the verdict.
func (e *Engine) tiered(dir Direction, subject *Pod, other, dst Peer, port Port, np DirectionVerdict) *TierVerdict {
	steps := e.steps(TierAdmin, dir, subject, other, dst, port)
	npAt := len(steps)
	baseline := e.steps(TierBaseline, dir, subject, other, dst, port)
	if npAt == 0 && len(baseline) == 0 {
		return nil
	}
	steps = append(steps, step{np: true})
	steps = append(steps, baseline...)
	v := walk(steps, np)
	if v.state = outcomes(steps, npAt, np)[0]; v.state == maybe {
		v.DecidedBy, v.Rule, v.Passed = "", nil, nil
	}
	return v
}

// outcomes computes, from the last step back, the verdict evaluation
// reaches from each step: res[i] for steps[i:], res[len] the default.
func outcomes(steps []step, npAt int, np DirectionVerdict) []tri {
	end := len(steps)
	res := make([]tri, end+1)
	res[end] = yes
	for i := end - 1; i >= 0; i-- {
		s := steps[i]
		if s.np {
			res[i] = res[i+1]
			if np.isolating() {
				res[i] = np.state()
			}
			continue
		}
		var act tri
		switch s.ref.Action {
		case string(cnp.ClusterNetworkPolicyRuleActionAccept):
			act = yes
		case string(cnp.ClusterNetworkPolicyRuleActionDeny):
			act = no
		default: // Pass: on to the NetworkPolicies, or from Baseline to the default
			act = res[end]
			if s.ref.Tier == TierAdmin {
				act = res[npAt]
			}
		}
		switch {
		case s.m.is == yes:
			res[i] = act
		case s.m.is == no || act == res[i+1]:
			res[i] = res[i+1]
		default:
			res[i] = maybe
		}
	}
	return res
}

// walk follows the evaluation forward and names the step that decided. A
// rule whose match is unknown is noted and passed over: where the verdict
// is definite all the same, it is the one reached without that rule.
func walk(steps []step, np DirectionVerdict) *TierVerdict {
	v := &TierVerdict{}
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		switch {
		case s.np && np.isolating():
			v.DecidedBy = TierNetworkPolicy
			return v
		case s.np || s.m.is == no:
			continue
		case s.m.is == maybe:
			v.Undecided = append(v.Undecided, s.ref)
			v.facts = addFacts(v.facts, s.m.facts...)
			continue
		case s.ref.Action == string(cnp.ClusterNetworkPolicyRuleActionPass):
			v.Passed = append(v.Passed, s.ref)
			i = skipTier(steps, i)
			continue
		}
		ref := s.ref
		v.DecidedBy, v.Rule = ref.Tier, &ref
		return v
	}
	v.DecidedBy = TierDefault
	return v
}

// skipTier returns the index of the last step of steps[i]'s tier, so that
// evaluation goes on with the next tier.
func skipTier(steps []step, i int) int {
	tier := steps[i].ref.Tier
	for i+1 < len(steps) && !steps[i+1].np && steps[i+1].ref.Tier == tier {
		i++
	}
	return i
}

// steps lists the rules of one tier's policies that select subject, in
// evaluation order, each with how it matches the connection.
func (e *Engine) steps(tier Tier, dir Direction, subject *Pod, other, dst Peer, port Port) []step {
	var out []step
	for _, c := range e.clusterFor(subject) {
		if c.tier != tier {
			continue
		}
		sel, selFacts := e.matchPodSel(c.subject, subject)
		if sel == no {
			continue
		}
		rules := c.inRules
		if dir == Egress {
			rules = c.outRules
		}
		for i, r := range rules {
			m := e.matchTierRule(r, other, dst, port)
			if sel == maybe && m.is != no {
				m.is, m.facts = maybe, addFacts(append([]Fact(nil), selFacts...), m.facts...)
			}
			out = append(out, step{m: m, ref: TierRuleRef{Tier: tier, Policy: c.name, Priority: c.priority,
				Direction: dir, Rule: i, RuleName: r.name, Action: r.action}})
		}
	}
	return out
}

// matchTierRule matches a rule's peers and protocols: both must match.
func (e *Engine) matchTierRule(r tierRule, other, dst Peer, port Port) match {
	peers := firstMatch(len(r.peers), func(i int) match { return e.matchTierPeer(r.peers[i], other) })
	ports := firstMatch(len(r.protocols), func(i int) match { return matchProtocol(r.protocols[i], dst.Pod, port) })
	m := match{is: min(peers.is, ports.is)}
	if m.is == maybe {
		for _, x := range []match{peers, ports} {
			if x.is == maybe {
				m.facts = addFacts(m.facts, x.facts...)
			}
		}
	}
	return m
}

// matchPodSel matches a namespaces or pods selector against a pod.
// The pod's labels may be only partly known, as the namespace's.
func (e *Engine) matchPodSel(s podSel, p *Pod) (tri, []Fact) {
	pods, podFacts := matchPod(s.pods, p)
	if pods == no {
		return no, nil
	}
	ns, nsFacts := matchNamespace(s.namespaces, p.Namespace, e.namespace(p.Namespace))
	if ns == no {
		return no, nil
	}
	return min(pods, ns), addFacts(podFacts, nsFacts...)
}

// matchTierPeer matches one peer against the far end of a connection.
// Domain names match a destination named by a matching name; an address
// or a pod is taken not to be one of the names' addresses.
func (e *Engine) matchTierPeer(p tierPeer, other Peer) match {
	switch {
	case p.pods != nil:
		if other.Pod == nil {
			return match{}
		}
		is, facts := e.matchPodSel(*p.pods, other.Pod)
		return match{is: is, facts: facts}
	case len(p.domains) > 0:
		for _, d := range p.domains {
			if other.Name != "" && MatchDomain(d, other.Name) {
				return match{is: yes}
			}
		}
		return match{}
	}
	if other.Pod != nil && other.Pod.IPsUnknown {
		return matchNetworksUnknownIPs(p.networks, other.Pod)
	}
	if other.Name != "" && everyAddress(p.networks) {
		return match{is: yes} // whatever the name resolves to
	}
	out := match{}
	for _, n := range p.networks {
		m := matchBlock(&ipBlock{cidr: n}, other)
		if m.is == yes {
			return m
		}
		if m.is == maybe {
			out.is, out.facts = maybe, addFacts(out.facts, m.facts...)
		}
	}
	return out
}

// matchProtocol matches one protocol entry of a rule against the port.
func matchProtocol(p cnp.ClusterNetworkPolicyProtocol, dst *Pod, q Port) match {
	if p.DestinationNamedPort != "" {
		return matchNamed(p.DestinationNamedPort, dst, q)
	}
	proto, port, ok := generate.TierProtocol(p)
	if !ok || proto != q.proto() {
		return match{}
	}
	if port == nil {
		return match{is: yes}
	}
	n, m := resolveNumber(dst, q)
	if m.is != yes {
		return m
	}
	if port.Range != nil {
		return match{is: triOf(n >= port.Range.Start && n <= port.Range.End)}
	}
	return match{is: triOf(n == port.Number)}
}

// Ranges no pod address is ever taken from, and no domain name is taken to
// resolve to: loopback, link-local (where the cloud metadata service
// lives) and multicast.
var neverPodIPs = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("ff00::/8"),
}

// matchNetworksUnknownIPs matches networks against a pod whose addresses
// are not known: surely when they cover every IPv4 and every IPv6 address,
// never when each lies inside a range pods are never addressed from, and
// otherwise depending on the pod's addresses.
func matchNetworksUnknownIPs(networks []netip.Prefix, pod *Pod) match {
	maybeAny := false
	var cidrs []string
	for _, n := range networks {
		if !insideAny(n, neverPodIPs) {
			maybeAny = true
			cidrs = append(cidrs, n.String())
		}
	}
	switch {
	case everyAddress(networks):
		return match{is: yes, podByBlock: true}
	case !maybeAny:
		return match{}
	}
	f := Fact{Kind: FactPodIPs, Namespace: pod.Namespace, Pod: pod.Name, CIDR: strings.Join(cidrs, ", ")}
	return match{is: maybe, facts: []Fact{f}}
}

func insideAny(n netip.Prefix, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Bits() <= n.Bits() && p.Contains(n.Addr()) {
			return true
		}
	}
	return false
}

// everyAddress reports whether networks cover every IPv4 and every IPv6
// address.
func everyAddress(networks []netip.Prefix) bool {
	all4, all6 := false, false
	for _, n := range networks {
		all4 = all4 || (n.Addr().Is4() && n.Bits() == 0)
		all6 = all6 || (n.Addr().Is6() && n.Bits() == 0)
	}
	return all4 && all6
}

// clusterFor are the cluster policies whose subjects may include pod p, in
// the engine's order (see indexCluster).
func (e *Engine) clusterFor(p *Pod) []*clusterPolicy {
	if e.clusterIndex == nil {
		return e.cluster
	}
	pos := e.clusterIndex.lookup(p)
	out := make([]*clusterPolicy, len(pos))
	for i, at := range pos {
		out[i] = e.cluster[at]
	}
	return out
}
