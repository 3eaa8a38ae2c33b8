package importer

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/reach"
)

// policies turns each NetworkPolicy into namespace baselines and allow
// blocks when the intent expresses it exactly, and into a verbatim policy
// block otherwise.
//
// Exact means: the policy's pods are a whole namespace, a Service's pods or
// pods by labels; each rule's peers are IP blocks or namespaces by labels
// (never pods: an allow from pods also restricts the source's egress); a
// direction without rules is a baseline only for a whole namespace.
func (m *model) policies() {
	for _, p := range m.inPolicies {
		m.namespace(p.Namespace)
		if strings.Contains(p.Annotations[ownership.AnnotationBlock], `gateway "`) {
			m.note(policyRef(p), "", Translated, "perimeter's admission of a gateway to a route backend: the route blocks produce it.")
			continue
		}
		if why := m.inexact(p); why != "" {
			m.keep(p, why)
			continue
		}
		m.translate(p)
	}
}

// inexact says why a policy cannot be expressed exactly, or "".
func (m *model) inexact(p *netv1.NetworkPolicy) string {
	if len(p.Spec.PodSelector.MatchExpressions) > 0 {
		return "its podSelector uses matchExpressions"
	}
	in, out := reach.EffectiveTypes(p.Spec)
	whole := len(p.Spec.PodSelector.MatchLabels) == 0
	if (in && len(p.Spec.Ingress) == 0 || out && len(p.Spec.Egress) == 0) && !whole && !m.isService(p.Namespace, p.Spec.PodSelector.MatchLabels) {
		return "it denies a direction for pods that are not exactly a Service's (baselines are per namespace or per service)"
	}
	for _, r := range p.Spec.Ingress {
		if why := inexactRule(r.From, r.Ports); why != "" {
			return "an ingress rule " + why
		}
	}
	for _, r := range p.Spec.Egress {
		if why := inexactRule(r.To, r.Ports); why != "" {
			return "an egress rule " + why
		}
	}
	return ""
}

func inexactRule(peers []netv1.NetworkPolicyPeer, ports []netv1.NetworkPolicyPort) string {
	if len(peers) == 0 {
		return "admits every peer (an allow always names its peers)"
	}
	for _, p := range peers {
		switch {
		case p.PodSelector != nil && p.NamespaceSelector != nil:
			return "has one peer with a namespaceSelector AND a podSelector (the matching pods of the matching namespaces, not either); an allow from those pods would also restrict their egress"
		case p.PodSelector != nil && len(peers) > 1:
			return "lists a podSelector as a peer of its own (its pods OR the other peers, not their intersection); an allow from those pods would also restrict their egress"
		case p.PodSelector != nil:
			return "has a pod peer; an allow from those pods would also restrict their egress"
		case p.NamespaceSelector != nil && (len(p.NamespaceSelector.MatchExpressions) > 0 || len(p.NamespaceSelector.MatchLabels) == 0):
			return "selects namespaces by expressions or selects every namespace"
		case p.NamespaceSelector == nil && p.IPBlock == nil:
			return "has an empty peer"
		case p.IPBlock != nil && !validCIDRs(p.IPBlock):
			return "has an IP block that is not a valid CIDR with exceptions inside it"
		}
	}
	for _, p := range ports {
		if p.Port != nil && p.Port.Type == 1 && p.EndPort != nil {
			return "has a named port with an end port"
		}
	}
	return ""
}

// keep writes the policy verbatim and reports why.
func (m *model) keep(p *netv1.NetworkPolicy, why string) {
	name, label := importedName(p.Name), p.Namespace+"-"+p.Name
	if l := blockLabel(p, "policy"); l != "" {
		name, label = p.Name, l // perimeter's own copy already
	}
	clean := netv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Namespace}, Spec: p.Spec}
	b, err := yaml.Marshal(clean)
	if err != nil {
		m.note(policyRef(p), "", Dropped, "cannot be written back: %v", err)
		return
	}
	b = []byte(strings.Replace(string(b), "  creationTimestamp: null\n", "", 1))
	label = m.uniqueLabel("policy", label, p.Namespace+"/"+p.Name)
	m.passthru = append(m.passthru, &passthrough{label: label, yaml: string(b), comment: "kept verbatim: " + why})
	m.note(policyRef(p), "", Kept, "%s; the intent keeps a copy named %s as policy %q (policies add up, so the copy and the original can run side by side until the original is deleted).",
		why, name, label)
}

func policyRef(p *netv1.NetworkPolicy) string { return "NetworkPolicy " + p.Namespace + "/" + p.Name }

// translate writes baselines and allows for an exactly expressible policy.
// Rules with the same ports become one allow (peers add up either way).
func (m *model) translate(p *netv1.NetworkPolicy) {
	in, out := reach.EffectiveTypes(p.Spec)
	ns := m.namespace(p.Namespace)
	subject := m.subject(p)
	m.baseline(ns, subject, in && len(p.Spec.Ingress) == 0, out && len(p.Spec.Egress) == 0)
	var groups []*ruleGroup
	for _, r := range p.Spec.Ingress {
		groups = addRule(groups, "ingress", peers(r.From), portList(r.Ports, subject.svc != nil))
	}
	for _, r := range p.Spec.Egress {
		groups = addRule(groups, "egress", peers(r.To), portList(r.Ports, false))
	}
	for i, g := range groups {
		a := m.newAllow(p, g.dir, i, len(groups))
		a.ports = g.ports
		if g.dir == "ingress" {
			a.from, a.to = g.peers, []endpoint{subject}
			continue
		}
		a.from, a.to = []endpoint{subject}, g.peers
		if subject.svc != nil {
			subject.svc.noDNS = true
		} else {
			ns.noDNS = true
		}
	}
	what := "baseline"
	if len(groups) > 0 {
		what = fmt.Sprintf("%d allow block(s)", len(groups))
	}
	m.note(policyRef(p), "", Translated, "expressed exactly as %s.", what)
}

// ruleGroup is the rules of one direction with the same ports.
type ruleGroup struct {
	dir   string
	ports []string
	peers []endpoint
}

func addRule(groups []*ruleGroup, dir string, peers []endpoint, ports []string) []*ruleGroup {
	for _, g := range groups {
		if g.dir == dir && slices.Equal(g.ports, ports) && (g.ports == nil) == (ports == nil) {
			g.peers = append(g.peers, peers...)
			return groups
		}
	}
	return append(groups, &ruleGroup{dir: dir, ports: ports, peers: peers})
}

// blockLabel is the label of the HCL block of kind that produced a policy
// perimeter rendered (its perimeter.dev/block annotation), or "".
func blockLabel(p *netv1.NetworkPolicy, kind string) string {
	if m := blockAnnotation.FindStringSubmatch(p.Annotations[ownership.AnnotationBlock]); m != nil && m[1] == kind {
		return m[2]
	}
	return ""
}

var blockAnnotation = regexp.MustCompile(`^([a-z_]+) "([^"]+)"$`)

func (m *model) newAllow(p *netv1.NetworkPolicy, dir string, i, n int) *allow {
	name := p.Name
	if n > 1 {
		name = fmt.Sprintf("%s-%s-%d", p.Name, dir, i+1)
	}
	if l := blockLabel(p, "allow"); l != "" && n == 1 {
		name = l // perimeter's own output: the allow it came from
	}
	a := &allow{label: m.uniqueLabel("allow", name, p.Namespace+"/"+p.Name+"/"+dir+fmt.Sprint(i)),
		comment: "from " + policyRef(p)}
	m.allows = append(m.allows, a)
	return a
}

// subject is the policy's pods: a Service whose selector is exactly the
// podSelector, the whole namespace, or pods by labels.
func (m *model) subject(p *netv1.NetworkPolicy) endpoint {
	sel := p.Spec.PodSelector.MatchLabels
	if len(sel) == 0 {
		return endpoint{ns: p.Namespace, wholeNS: true}
	}
	if s := m.serviceWithSelector(p.Namespace, sel); s != nil {
		return endpoint{svc: s}
	}
	return endpoint{ns: p.Namespace, pods: sel}
}

func (m *model) serviceWithSelector(ns string, sel map[string]string) *service {
	var keys []string
	for k, s := range m.services {
		if s.Namespace == ns && len(s.Spec.Ports) > 0 && reflect.DeepEqual(s.Spec.Selector, sel) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	s := m.services[keys[0]]
	return m.serviceBlockFor(s, s.Spec.Ports[0])
}

func peers(ps []netv1.NetworkPolicyPeer) []endpoint {
	var out []endpoint
	for _, p := range ps {
		if p.IPBlock != nil {
			out = append(out, endpoint{isCIDR: true, cidr: p.IPBlock.CIDR, except: p.IPBlock.Except})
			continue
		}
		out = append(out, endpoint{isNSSel: true, nsSel: p.NamespaceSelector.MatchLabels})
	}
	return out
}

// portList renders NetworkPolicy ports as allow ports. No ports means every
// port: nil, or every protocol when the destination is a service (whose
// default would be its target port).
func portList(ps []netv1.NetworkPolicyPort, serviceDest bool) []string {
	if len(ps) == 0 {
		if serviceDest {
			return []string{"tcp", "udp", "sctp"}
		}
		return nil
	}
	var out []string
	for _, p := range ps {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		lp := strings.ToLower(string(proto))
		switch {
		case p.Port == nil:
			out = append(out, lp)
		case p.EndPort != nil:
			out = append(out, fmt.Sprintf("%s-%d/%s", p.Port.String(), *p.EndPort, lp))
		default:
			out = append(out, p.Port.String()+"/"+lp)
		}
	}
	return out
}

// importedName names the verbatim copy of a policy: perimeter never takes
// over an object it did not create, so the copy must not collide with the
// original while both exist.
func importedName(name string) string {
	out := "imported-" + name
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-.")
	}
	return out
}

// baseline records a direction denied by default, for a namespace or for a
// service's pods.
func (m *model) baseline(ns *namespace, subject endpoint, denyIn, denyOut bool) {
	if subject.svc != nil {
		subject.svc.denyIn = subject.svc.denyIn || denyIn
		subject.svc.denyOut = subject.svc.denyOut || denyOut
		subject.svc.noDNS = subject.svc.noDNS || denyOut
		return
	}
	ns.denyIn = ns.denyIn || denyIn
	ns.denyOut = ns.denyOut || denyOut
}

// isService reports whether some Service in ns selects exactly sel.
func (m *model) isService(ns string, sel map[string]string) bool {
	for _, s := range m.services {
		if s.Namespace == ns && len(s.Spec.Ports) > 0 && reflect.DeepEqual(s.Spec.Selector, sel) {
			return true
		}
	}
	return false
}

func validCIDRs(b *netv1.IPBlock) bool {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return false
	}
	for _, e := range b.Except {
		x, err := netip.ParsePrefix(e)
		if err != nil || !cidr.Contains(x.Addr()) || x.Bits() < cidr.Bits() {
			return false
		}
	}
	return true
}
