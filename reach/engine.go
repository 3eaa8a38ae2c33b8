package reach

import (
	"fmt"
	"net/netip"
	"sort"

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
	namespaces map[string]labels.Set
	pods       []*Pod
}

// compiled is a policy with its selectors and IP blocks parsed once.
type compiled struct {
	ref      PolicyRef
	selector labels.Selector
	ingress  bool // effective policyTypes
	egress   bool
	inRules  []rule
	outRules []rule
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
}

type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

// New builds an engine. Namespaces not listed but used by pods or
// policies get only the kubernetes.io/metadata.name label, which the API
// server sets on every namespace (and which New adds to listed ones too).
// It fails on a selector or CIDR the API server would reject.
func New(policies []networkingv1.NetworkPolicy, namespaces []Namespace, pods []*Pod) (*Engine, error) {
	e := &Engine{byRef: map[PolicyRef]*networkingv1.NetworkPolicy{}, namespaces: map[string]labels.Set{}}
	for _, ns := range namespaces {
		e.namespaces[ns.Name] = namespaceLabels(ns.Name, ns.Labels)
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
	e.pods = append(e.pods, pods...)
	return e, nil
}

// Policy returns the policy a reference names, or nil.
func (e *Engine) Policy(r PolicyRef) *networkingv1.NetworkPolicy { return e.byRef[r] }

// Pods returns the pods the engine knows, in the order given to New.
func (e *Engine) Pods() []*Pod { return append([]*Pod(nil), e.pods...) }

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

// Evaluate answers whether from may reach to on port.
func (e *Engine) Evaluate(from, to Peer, port Port) Verdict {
	v := Verdict{From: from, To: to, Port: port}
	if from.Pod != nil && from.Pod == to.Pod {
		v.Loopback, v.Allowed = true, true
		return v
	}
	if to.Pod != nil && port.Name != "" {
		if _, ok := to.Pod.namedPort(port.Name, port.proto()); !ok {
			v.Unresolved = true
			return v
		}
	}
	if from.Pod != nil {
		v.Egress = e.direction(Egress, from.Pod, to, to, port)
	}
	if to.Pod != nil {
		v.Ingress = e.direction(Ingress, to.Pod, from, to, port)
	}
	v.Allowed = v.Egress.Allowed() && v.Ingress.Allowed()
	return v
}

// direction evaluates the policies selecting subject in one direction;
// other is the far end, dst the connection's destination (for named ports).
func (e *Engine) direction(dir Direction, subject *Pod, other, dst Peer, port Port) DirectionVerdict {
	d := DirectionVerdict{Applies: true}
	for _, c := range e.policies {
		if c.ref.Namespace != subject.Namespace || !c.selector.Matches(labels.Set(subject.Labels)) {
			continue
		}
		rules := c.inRules
		if dir == Egress {
			rules = c.outRules
		}
		if (dir == Ingress && !c.ingress) || (dir == Egress && !c.egress) {
			continue
		}
		d.Isolated = true
		d.IsolatedBy = append(d.IsolatedBy, c.ref)
		for i, r := range rules {
			peerIdx, ok := e.matchPeers(r.peers, c.ref.Namespace, other)
			if !ok {
				continue
			}
			if portIdx, ok := matchPorts(r.ports, dst.Pod, port); ok {
				d.AllowedBy = append(d.AllowedBy, RuleRef{Policy: c.ref, Direction: dir, Rule: i, Peer: peerIdx, Port: portIdx})
			}
		}
	}
	return d
}

// matchPeers returns the index of the first peer matching other (-1 when
// the rule lists none, which matches everything).
func (e *Engine) matchPeers(peers []peer, policyNS string, other Peer) (int, bool) {
	if len(peers) == 0 {
		return -1, true
	}
	for i, p := range peers {
		if e.matchPeer(p, policyNS, other) {
			return i, true
		}
	}
	return 0, false
}

func (e *Engine) matchPeer(p peer, policyNS string, other Peer) bool {
	if p.block != nil {
		if other.Pod == nil {
			return p.block.contains(other.IP)
		}
		for _, ip := range other.Pod.IPs {
			if p.block.contains(ip) {
				return true
			}
		}
		return false
	}
	if other.Pod == nil {
		return false
	}
	if p.namespaces == nil {
		if other.Pod.Namespace != policyNS {
			return false
		}
	} else if !p.namespaces.Matches(e.namespaceLabels(other.Pod.Namespace)) {
		return false
	}
	return p.pods == nil || p.pods.Matches(labels.Set(other.Pod.Labels))
}

func (e *Engine) namespaceLabels(ns string) labels.Set {
	if l, ok := e.namespaces[ns]; ok {
		return l
	}
	return labels.Set{NamespaceNameLabel: ns}
}

// matchPorts returns the index of the first port entry matching (-1 when
// the rule lists none, which matches every port).
func matchPorts(ports []networkingv1.NetworkPolicyPort, dst *Pod, q Port) (int, bool) {
	if len(ports) == 0 {
		return -1, true
	}
	for i, p := range ports {
		if matchPort(p, dst, q) {
			return i, true
		}
	}
	return 0, false
}

func matchPort(p networkingv1.NetworkPolicyPort, dst *Pod, q Port) bool {
	proto := corev1.ProtocolTCP
	if p.Protocol != nil {
		proto = *p.Protocol
	}
	if proto != q.proto() {
		return false
	}
	if p.Port == nil {
		return true
	}
	if p.Port.Type == intstr.String {
		return matchNamed(p.Port.StrVal, dst, q)
	}
	n := resolveNumber(dst, q)
	if n == 0 {
		return false
	}
	if p.EndPort != nil {
		return n >= p.Port.IntVal && n <= *p.EndPort
	}
	return n == p.Port.IntVal
}

// matchNamed matches a rule's named port: against an external destination
// never, otherwise when the destination pod's container port of that name
// (and protocol) is the one connected to.
func matchNamed(name string, dst *Pod, q Port) bool {
	if dst == nil {
		return false
	}
	np, ok := dst.namedPort(name, q.proto())
	if !ok {
		return false
	}
	if q.Name != "" {
		return q.Name == name
	}
	return np.Port != 0 && np.Port == q.Number
}

// resolveNumber is the port number connected to: the query's number, or the
// number of the destination's container port it names (0 when unknown).
func resolveNumber(dst *Pod, q Port) int32 {
	if q.Name == "" {
		return q.Number
	}
	if dst == nil {
		return 0
	}
	np, _ := dst.namedPort(q.Name, q.proto())
	return np.Port
}
