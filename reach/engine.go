package reach

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Engine evaluates connections against a fixed set of policies, namespaces
// and pods. It is safe for concurrent use once built.
type Engine struct {
	policies   []*compiled
	byRef      map[PolicyRef]*networkingv1.NetworkPolicy
	namespaces map[string]nsInfo
	pods       []*Pod
	// cluster are the ClusterNetworkPolicies of both tiers, by priority.
	cluster []*clusterPolicy
	// cilium marks the policies that are CiliumNetworkPolicies.
	cilium map[PolicyRef]bool
	// index finds the policies that may select a pod; made again whenever
	// policies are added (New, AddCiliumPolicies). clusterIndex does the
	// same for cluster (AddClusterPolicies).
	index        policyIndex
	clusterIndex *labelIndex
}

// compiled is a policy with its selectors and IP blocks parsed once.
type compiled struct {
	ref      PolicyRef
	selector labels.Selector
	ingress  bool // effective policyTypes
	egress   bool
	inRules  []rule
	outRules []rule
	ruleIdx  rulesIndexes // see rulesFor
}

// rule is an ingress or egress rule: peers (nil = every peer) and ports.
type rule struct {
	peers []peer // nil when the rule lists none: every peer
	ports []networkingv1.NetworkPolicyPort
}

// peer is a parsed NetworkPolicyPeer.
type peer struct {
	pods       labels.Selector // nil: every pod (of the namespaces chosen)
	namespaces labels.Selector // nil: the policy's own namespace
	block      *ipBlock
	names      []string // a CiliumNetworkPolicy toFQDNs peer: exact names
}

type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

// New builds an engine. Namespaces not listed but used by pods or
// policies get only the kubernetes.io/metadata.name label, which the API
// server sets on every namespace (and which New adds to listed ones too,
// unless they are open). It fails on a selector or CIDR the API server
// would reject.
func New(policies []networkingv1.NetworkPolicy, namespaces []Namespace, pods []*Pod) (*Engine, error) {
	e := &Engine{byRef: map[PolicyRef]*networkingv1.NetworkPolicy{}, namespaces: map[string]nsInfo{}}
	for _, ns := range namespaces {
		e.setNamespace(ns)
	}
	for i := range policies {
		p := &policies[i]
		c, err := compile(p)
		if err != nil {
			return nil, fmt.Errorf("NetworkPolicy %s/%s: %w", p.Namespace, p.Name, err)
		}
		e.policies = append(e.policies, c)
		e.byRef[c.ref] = p
	}
	sort.Slice(e.policies, func(i, j int) bool { return refLess(e.policies[i].ref, e.policies[j].ref) })
	e.index = indexPolicies(e.policies)
	e.pods = append(e.pods, pods...)
	return e, nil
}

// Policy returns the policy a reference names, or nil.
func (e *Engine) Policy(r PolicyRef) *networkingv1.NetworkPolicy { return e.byRef[r] }

// Pods returns the pods the engine knows, in the order given to New.
func (e *Engine) Pods() []*Pod { return append([]*Pod(nil), e.pods...) }

// setNamespace records what is known about a namespace. An open
// namespace's labels are taken as given (the name label only when listed).
func (e *Engine) setNamespace(ns Namespace) {
	if ns.Open {
		l := labels.Set{}
		for k, v := range ns.Labels {
			l[k] = v
		}
		e.namespaces[ns.Name] = nsInfo{labels: l, open: true}
		return
	}
	e.namespaces[ns.Name] = nsInfo{labels: namespaceLabels(ns.Name, ns.Labels)}
}

func namespaceLabels(name string, l map[string]string) labels.Set {
	out := labels.Set{NamespaceNameLabel: name}
	for k, v := range l {
		out[k] = v
	}
	out[NamespaceNameLabel] = name
	return out
}

func refLess(a, b PolicyRef) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// EffectiveTypes returns the directions a policy governs: its policyTypes,
// or when none are listed Ingress, plus Egress if it has egress rules.
func EffectiveTypes(spec networkingv1.NetworkPolicySpec) (ingress, egress bool) {
	if len(spec.PolicyTypes) == 0 {
		return true, len(spec.Egress) > 0
	}
	for _, t := range spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return ingress, egress
}

func compile(p *networkingv1.NetworkPolicy) (*compiled, error) {
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	if err != nil {
		return nil, fmt.Errorf("podSelector: %w", err)
	}
	c := &compiled{ref: PolicyRef{p.Namespace, p.Name}, selector: sel}
	c.ingress, c.egress = EffectiveTypes(p.Spec)
	for i, r := range p.Spec.Ingress {
		cr, err := compileRule(r.From, r.Ports)
		if err != nil {
			return nil, fmt.Errorf("ingress[%d]: %w", i, err)
		}
		c.inRules = append(c.inRules, cr)
	}
	for i, r := range p.Spec.Egress {
		cr, err := compileRule(r.To, r.Ports)
		if err != nil {
			return nil, fmt.Errorf("egress[%d]: %w", i, err)
		}
		c.outRules = append(c.outRules, cr)
	}
	return c, nil
}

func compileRule(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (rule, error) {
	r := rule{ports: ports}
	for i, p := range peers {
		cp, err := compilePeer(p)
		if err != nil {
			return r, fmt.Errorf("peer %d: %w", i, err)
		}
		r.peers = append(r.peers, cp)
	}
	return r, nil
}

func compilePeer(p networkingv1.NetworkPolicyPeer) (peer, error) {
	var out peer
	var err error
	if p.IPBlock != nil {
		out.block, err = compileBlock(p.IPBlock)
		return out, err
	}
	if p.PodSelector != nil {
		if out.pods, err = metav1.LabelSelectorAsSelector(p.PodSelector); err != nil {
			return out, fmt.Errorf("podSelector: %w", err)
		}
	}
	if p.NamespaceSelector != nil {
		if out.namespaces, err = metav1.LabelSelectorAsSelector(p.NamespaceSelector); err != nil {
			return out, fmt.Errorf("namespaceSelector: %w", err)
		}
	}
	if out.pods == nil && out.namespaces == nil {
		return out, fmt.Errorf("a peer needs podSelector, namespaceSelector or ipBlock")
	}
	return out, nil
}

func compileBlock(b *networkingv1.IPBlock) (*ipBlock, error) {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return nil, fmt.Errorf("ipBlock cidr: %w", err)
	}
	out := &ipBlock{cidr: cidr.Masked()}
	for _, x := range b.Except {
		p, err := netip.ParsePrefix(x)
		if err != nil {
			return nil, fmt.Errorf("ipBlock except: %w", err)
		}
		out.except = append(out.except, p.Masked())
	}
	return out, nil
}

func (b *ipBlock) contains(ip netip.Addr) bool {
	if !ip.IsValid() || !b.cidr.Contains(ip.Unmap()) {
		return false
	}
	for _, x := range b.except {
		if x.Contains(ip.Unmap()) {
			return false
		}
	}
	return true
}

// Evaluate answers whether from may reach to on port: allowed, denied, or
// (only with open facts) unknown.
func (e *Engine) Evaluate(from, to Peer, port Port) Verdict {
	v := Verdict{From: from, To: to, Port: port}
	if from.Pod != nil && from.Pod == to.Pod {
		v.Loopback, v.Allowed = true, true
		return v
	}
	target := resolveTarget(&v, to, port)
	if v.Unresolved {
		return v
	}
	if from.Pod != nil {
		v.Egress = e.direction(Egress, from.Pod, to, to, port)
	}
	if to.Pod != nil {
		v.Ingress = e.direction(Ingress, to.Pod, from, to, port)
	}
	state := min(target, v.Egress.state(), v.Ingress.state())
	v.Allowed, v.Unknown = state == yes, state == maybe
	if !v.Unknown {
		v.Facts = nil
		return v
	}
	for _, d := range []DirectionVerdict{v.Egress, v.Ingress} {
		if d.Unknown() {
			v.Facts = addFacts(v.Facts, d.Facts...)
		}
	}
	return v
}

// resolveTarget checks that a named port exists on the destination pod:
// "yes" when it does (or the port is numeric), Unresolved when it surely
// does not, "maybe" (with the fact) when the pod's ports are open.
func resolveTarget(v *Verdict, to Peer, port Port) tri {
	if to.Pod == nil || port.Name == "" {
		return yes
	}
	if _, ok := to.Pod.namedPort(port.Name, port.proto()); ok {
		return yes
	}
	if !to.Pod.PortsOpen {
		v.Unresolved = true
		return no
	}
	v.Facts = addFacts(v.Facts, portFact(FactPortName, to.Pod, port.Name))
	return maybe
}

func portFact(kind FactKind, p *Pod, name string) Fact {
	return Fact{Kind: kind, Namespace: p.Namespace, Pod: p.Name, Port: name}
}

// direction evaluates the policies selecting subject in one direction;
// other is the far end, dst the connection's destination (for named ports).
// A policy that selects subject only if it carries labels it is not known
// to carry makes the direction unknown where the outcome depends on it.
func (e *Engine) direction(dir Direction, subject *Pod, other, dst Peer, port Port) DirectionVerdict {
	d := DirectionVerdict{Applies: true}
	var unsure []DirectionVerdict
	for _, c := range e.candidates(subject) {
		if c.ref.Namespace != subject.Namespace || (dir == Ingress && !c.ingress) || (dir == Egress && !c.egress) {
			continue
		}
		sel, facts := matchPod(c.selector, subject)
		switch sel {
		case yes:
			e.addPolicy(&d, c, dir, other, dst, port)
		case maybe:
			m := DirectionVerdict{Applies: true, Facts: facts}
			e.addPolicy(&m, c, dir, other, dst, port)
			unsure = append(unsure, m)
		}
	}
	if d.Allowed() {
		d.Undecided, d.Facts = nil, nil
	}
	maybeSelected(&d, unsure)
	d.Tiers = e.tiered(dir, subject, other, dst, port, d)
	switch {
	case d.Tiers == nil:
	case d.Tiers.state != maybe:
		d.Undecided, d.Facts = nil, nil
	default:
		d.Facts = addFacts(d.Tiers.facts, d.Facts...)
	}
	return d
}

// addPolicy records a policy selecting the pod: it isolates the direction
// and its rules may admit the connection.
func (e *Engine) addPolicy(d *DirectionVerdict, c *compiled, dir Direction, other, dst Peer, port Port) {
	rules := c.inRules
	if dir == Egress {
		rules = c.outRules
	}
	d.Isolated = true
	d.IsolatedBy = append(d.IsolatedBy, c.ref)
	for _, i := range c.rulesFor(dir, other) {
		r := rules[i]
		d.addRule(RuleRef{Policy: c.ref, Direction: dir, Rule: i}, e.matchPeers(r.peers, c.ref.Namespace, other), matchPorts(r.ports, dst.Pod, port))
	}
}

// admits is how surely the rules of a direction admit the connection.
func (d DirectionVerdict) admits() tri {
	switch {
	case len(d.AllowedBy) > 0:
		return yes
	case len(d.Undecided) > 0:
		return maybe
	}
	return no
}

// maybeSelected folds in the policies that may select the pod (each with
// its selection facts and rules). The pod may be selected by any subset of
// them: without them the outcome is d's; with a nonempty subset the
// direction is isolated and admits if d's or the subset's rules do, which
// is least for one policy and most for all. Where these outcomes differ,
// or one is unknown, the direction is unknown.
func maybeSelected(d *DirectionVerdict, unsure []DirectionVerdict) {
	if len(unsure) == 0 {
		return
	}
	base := d.admits()
	outcomes := []tri{d.state()}
	all := base
	for _, m := range unsure {
		outcomes = append(outcomes, max(base, m.admits()))
		all = max(all, m.admits())
	}
	outcomes = append(outcomes, all)
	definite := outcomes[0] != maybe
	for _, o := range outcomes {
		definite = definite && o == outcomes[0]
	}
	if definite {
		return
	}
	for _, m := range unsure {
		d.MaybeIsolatedBy = append(d.MaybeIsolatedBy, m.IsolatedBy...)
		d.Undecided = append(d.Undecided, m.Undecided...)
		d.Undecided = append(d.Undecided, m.AllowedBy...)
		d.Facts = addFacts(d.Facts, m.Facts...)
	}
	d.AllowedBy = nil
}

// addRule records a rule by how its peers and ports match.
func (d *DirectionVerdict) addRule(ref RuleRef, peers, ports match) {
	ref.Peer, ref.Port, ref.PodByIPBlock = peers.index, ports.index, peers.podByBlock
	switch min(peers.is, ports.is) {
	case yes:
		d.AllowedBy = append(d.AllowedBy, ref)
	case maybe:
		d.Undecided = append(d.Undecided, ref)
		for _, m := range []match{peers, ports} {
			if m.is == maybe {
				d.Facts = addFacts(d.Facts, m.facts...)
			}
		}
	}
}

// match is how a rule's peers or ports match: is, the index of the entry
// that matched (-1 for an empty list, which matches everything), and the
// facts a "maybe" depends on.
type match struct {
	is         tri
	index      int
	facts      []Fact
	podByBlock bool // a pod matched by an ipBlock
}

// firstMatch combines entries: the first "yes", else the first "maybe"
// (with the facts of every "maybe"), else no.
func firstMatch(n int, at func(int) match) match {
	if n == 0 {
		return match{is: yes, index: -1}
	}
	out := match{is: no}
	for i := 0; i < n; i++ {
		m := at(i)
		m.index = i
		switch {
		case m.is == yes:
			return m
		case m.is == maybe && out.is == no:
			out = m
		case m.is == maybe:
			out.facts = addFacts(out.facts, m.facts...)
		}
	}
	return out
}

// matchPeers matches a rule's peers against other.
func (e *Engine) matchPeers(peers []peer, policyNS string, other Peer) match {
	return firstMatch(len(peers), func(i int) match { return e.matchPeer(peers[i], policyNS, other) })
}

func (e *Engine) matchPeer(p peer, policyNS string, other Peer) match {
	if len(p.names) > 0 {
		return matchNames(p.names, other)
	}
	if p.block != nil {
		return matchBlock(p.block, other)
	}
	if other.Pod == nil {
		return match{}
	}
	pods, podFacts := matchPod(p.pods, other.Pod)
	if pods == no {
		return match{}
	}
	if p.namespaces == nil {
		ns := triOf(other.Pod.Namespace == policyNS)
		return match{is: min(pods, ns), facts: podFacts}
	}
	is, facts := matchNamespace(p.namespaces, other.Pod.Namespace, e.namespace(other.Pod.Namespace))
	if is == no {
		return match{}
	}
	return match{is: min(pods, is), facts: addFacts(podFacts, facts...)}
}

// matchBlock matches an ipBlock against an address or a pod's addresses.
func matchBlock(b *ipBlock, other Peer) match {
	if other.Pod == nil && other.Name != "" {
		// A name is taken to resolve to routable addresses: never
		// loopback, link-local (the metadata service) or multicast.
		if insideAny(b.cidr, neverPodIPs) {
			return match{}
		}
		f := Fact{Kind: FactNameAddresses, Subject: other.Name, CIDR: b.String()}
		return match{is: maybe, facts: []Fact{f}}
	}
	if other.Pod == nil {
		return match{is: triOf(b.contains(other.IP))}
	}
	if other.Pod.IPsUnknown {
		f := Fact{Kind: FactPodIPs, Namespace: other.Pod.Namespace, Pod: other.Pod.Name, CIDR: b.String()}
		return match{is: maybe, facts: []Fact{f}}
	}
	for _, ip := range other.Pod.IPs {
		if b.contains(ip) {
			return match{is: yes, podByBlock: true}
		}
	}
	return match{}
}

func (e *Engine) namespace(ns string) nsInfo {
	if l, ok := e.namespaces[ns]; ok {
		return l
	}
	return nsInfo{labels: labels.Set{NamespaceNameLabel: ns}}
}

// matchPorts matches a rule's ports against the connection's.
func matchPorts(ports []networkingv1.NetworkPolicyPort, dst *Pod, q Port) match {
	return firstMatch(len(ports), func(i int) match { return matchPort(ports[i], dst, q) })
}

func matchPort(p networkingv1.NetworkPolicyPort, dst *Pod, q Port) match {
	proto := corev1.ProtocolTCP
	if p.Protocol != nil {
		proto = *p.Protocol
	}
	if proto != q.proto() {
		return match{}
	}
	if p.Port == nil {
		return match{is: yes}
	}
	if p.Port.Type == intstr.String {
		return matchNamed(p.Port.StrVal, dst, q)
	}
	n, m := resolveNumber(dst, q)
	if m.is != yes {
		return m
	}
	if p.EndPort != nil {
		return match{is: triOf(n >= p.Port.IntVal && n <= *p.EndPort)}
	}
	return match{is: triOf(n == p.Port.IntVal)}
}

// matchNamed matches a rule's named port: against an external destination
// never, otherwise when the destination pod's container port of that name
// (and protocol) is the one connected to. On a pod with open ports, a name
// it may have or a number not known is "maybe".
func matchNamed(name string, dst *Pod, q Port) match {
	if dst == nil {
		return match{}
	}
	np, ok := dst.namedPort(name, q.proto())
	switch {
	case !ok && dst.PortsOpen && (q.Name == "" || q.Name == name):
		return match{is: maybe, facts: []Fact{portFact(FactPortName, dst, name)}}
	case !ok:
		return match{}
	case q.Name != "":
		return match{is: triOf(q.Name == name)}
	case np.Port == 0 && dst.PortsOpen:
		return match{is: maybe, facts: []Fact{portFact(FactPortNumber, dst, name)}}
	}
	return match{is: triOf(np.Port != 0 && np.Port == q.Number)}
}

// resolveNumber is the port number connected to: the query's number, or the
// number of the destination's container port it names. The match is "no"
// when it names none, "maybe" when that is not known.
func resolveNumber(dst *Pod, q Port) (int32, match) {
	if q.Name == "" {
		return q.Number, match{is: yes}
	}
	if dst == nil {
		return 0, match{}
	}
	np, ok := dst.namedPort(q.Name, q.proto())
	switch {
	case !ok && dst.PortsOpen:
		return 0, match{is: maybe, facts: []Fact{portFact(FactPortName, dst, q.Name)}}
	case np.Port == 0 && dst.PortsOpen:
		return 0, match{is: maybe, facts: []Fact{portFact(FactPortNumber, dst, q.Name)}}
	}
	return np.Port, match{is: triOf(np.Port != 0)}
}

// String renders the block as "cidr" or "cidr except a, b".
func (b *ipBlock) String() string {
	s := b.cidr.String()
	if len(b.except) > 0 {
		ex := make([]string, len(b.except))
		for i, x := range b.except {
			ex[i] = x.String()
		}
		s += " except " + strings.Join(ex, ", ")
	}
	return s
}
