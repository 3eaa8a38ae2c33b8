package reach

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// Intent evaluates connections between the endpoints of a boundary intent.
// Each endpoint stands for its pods by one representative pod:
//
//   - service.NAME: a pod in the service's namespace labelled with its
//     selector, with the container ports the service declares (ports = {
//     name = number }) and its target port; without a declaration its
//     port names, and the number of a named target port, are unknown;
//   - pods("ns", {...}): a pod labelled with the selector, ports unknown;
//   - namespace.NAME: a pod without labels (matched only by empty pod
//     selectors), ports unknown;
//   - namespaces({...}): a pod without labels in a namespace carrying those
//     labels (named by kubernetes.io/metadata.name when the selector gives
//     it), its other labels unknown;
//   - cidr(...): one external address, the block's first usable address that
//     no exception covers;
//   - a gateway: a pod labelled as its data plane in the data plane's
//     namespace.
//
// A namespace the intent manages carries exactly its declared labels (and
// kubernetes.io/metadata.name); any other namespace only its name, its other
// labels unknown. A service's, a pods(...) endpoint's and a data plane's
// pods are known to carry their selector's labels, their other labels
// unknown (Pod.LabelsOpen): a selector requiring another key matches them
// "unknown" unless live pods settle it. Representative pods' IPs are
// unknown. A verdict that
// depends on an unknown fact is Unknown, its Facts saying how to settle
// them. A connection between two ends that stand for the same pods is
// evaluated between two distinct pods of that set, not as loopback.
type Intent struct {
	Engine *Engine
	in     *hclspec.Intent
	pods   map[string]*Pod
	names  map[*Pod]string      // user-facing description
	ends   map[string]podOrigin // by pod key: what a pod stands for

	// Live mode (FromLive): the cluster's pods, the live pods each
	// representative pod stands for, and the namespaces' labels.
	live   []*Pod
	sets   map[*Pod][]*Pod
	liveNS map[string]labels.Set

	// members maps the representative pod of a namespaces({...}) endpoint
	// to pods of the declared namespaces it surely covers (intent mode).
	members map[*Pod][]*Pod
}

func (w *Intent) hasMembers(p Peer) bool { return p.Pod != nil && len(w.members[p.Pod]) > 0 }

// podOrigin is what a representative pod stands for, to tell the user how
// to settle a fact about it.
type podOrigin struct {
	label   string            // service.users, pods("ns", {...}), ...
	service *hclspec.Service  // nil unless a service
	nsSel   map[string]string // namespaces({...}): the namespace selector
}

// FromIntent builds the evaluator for an intent and the NetworkPolicies it
// (or anything else) produced.
func FromIntent(in *hclspec.Intent, policies []networkingv1.NetworkPolicy, cluster ...cnp.ClusterNetworkPolicy) (*Intent, error) {
	e, err := New(policies, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := e.AddClusterPolicies(cluster); err != nil {
		return nil, err
	}
	w := newIntent(e, in)
	for _, ns := range in.Namespaces {
		e.setNamespace(Namespace{Name: ns.Name, Labels: ns.Labels})
	}
	w.representatives()
	return w, nil
}

// FromIntentObjects builds the evaluator for an intent over the objects it
// compiles to: NetworkPolicies, ClusterNetworkPolicies and
// CiliumNetworkPolicies.
func FromIntentObjects(in *hclspec.Intent, o Objects) (*Intent, error) {
	w, err := FromIntent(in, o.Policies, o.ClusterPolicies...)
	if err == nil {
		err = w.Engine.AddCiliumPolicies(o.Cilium)
	}
	return w, err
}

func newIntent(e *Engine, in *hclspec.Intent) *Intent {
	return &Intent{Engine: e, in: in, pods: map[string]*Pod{}, names: map[*Pod]string{}, ends: map[string]podOrigin{}, members: map[*Pod][]*Pod{}}
}

// representatives makes the pods of the services and gateways.
func (w *Intent) representatives() {
	for _, s := range w.in.Services {
		w.servicePod(s)
	}
	for _, g := range w.in.Gateways {
		w.GatewayPeer(g)
	}
}

// Describe names a connection end in the user's terms.
func (w *Intent) Describe(p Peer) string {
	if p.Pod == nil && p.Name != "" {
		return p.Name + " (outside the cluster, by name)"
	}
	if p.Pod == nil {
		return p.IP.String() + " (outside the cluster)"
	}
	if d, ok := w.names[p.Pod]; ok {
		return d
	}
	return "pod " + p.Pod.Key()
}

// pod returns the representative pod for key, creating it. Its IPs are
// unknown, and so are the labels of its namespace unless the intent
// manages it (or a namespaces({...}) endpoint made it).
func (w *Intent) pod(key string, mk func() (*Pod, string, podOrigin)) *Pod {
	if p, ok := w.pods[key]; ok {
		return p
	}
	p, desc, o := mk()
	p.IPsUnknown = true
	w.pods[key] = p
	w.names[p] = desc
	w.ends[p.Key()] = o
	w.Engine.pods = append(w.Engine.pods, p)
	if _, known := w.Engine.namespaces[p.Namespace]; !known && o.nsSel == nil {
		w.Engine.setNamespace(Namespace{Name: p.Namespace, Labels: map[string]string{NamespaceNameLabel: p.Namespace}, Open: true})
	}
	w.liveSet(p, o.nsSel)
	for _, q := range w.sets[p] {
		if _, named := w.names[q]; !named {
			w.names[q] = o.label + ": pod " + q.Key()
		}
	}
	return p
}

func (w *Intent) servicePod(s *hclspec.Service) *Pod {
	return w.pod("service/"+s.Label, func() (*Pod, string, podOrigin) {
		p := &Pod{Namespace: s.Namespace, Name: s.Name, Labels: s.Selector, Ports: ServicePorts(s), PortsOpen: s.Ports == nil, LabelsOpen: true}
		return p, fmt.Sprintf("service.%s (%s, pods %s; %s)", s.Label, s.Namespace, selectorString(s.Selector), source(s.Range)),
			podOrigin{label: "service." + s.Label, service: s}
	})
}

// ServicePorts are the container ports a service's pods are known to have:
// its declared named ports and its target port, with the service's
// protocol. A named target port the service does not declare has number 0.
func ServicePorts(s *hclspec.Service) []NamedPort {
	proto := protocol(s.Protocol)
	var out []NamedPort
	target := false
	for _, name := range sortedKeys(s.Ports) {
		n := s.Ports[name]
		out = append(out, NamedPort{Name: name, Port: n, Protocol: proto})
		target = target || name == s.TargetPort.Name || (s.TargetPort.Name == "" && n == s.TargetPort.Number)
	}
	if !target {
		out = append(out, NamedPort{Name: s.TargetPort.Name, Port: s.TargetPort.Number, Protocol: proto})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// GatewayPeer is the data plane of a gateway.
func (w *Intent) GatewayPeer(g *hclspec.Gateway) Peer {
	return PodPeer(w.pod("gateway/"+g.Label, func() (*Pod, string, podOrigin) {
		dp := g.DataPlane
		p := &Pod{Namespace: dp.Namespace, Name: "gateway-" + g.Label, Labels: dp.Selector, PortsOpen: true, LabelsOpen: true}
		return p, fmt.Sprintf("gateway.%s data plane (%s, pods %s; %s)", g.Label, dp.Namespace, selectorString(dp.Selector), source(g.Range)),
			podOrigin{label: "gateway." + g.Label + " data plane"}
	}))
}

// Peer returns the connection end an endpoint stands for.
func (w *Intent) Peer(e hclspec.Endpoint) (Peer, error) {
	switch e.Kind {
	case hclspec.EndpointService:
		return PodPeer(w.servicePod(e.Service)), nil
	case hclspec.EndpointPods:
		return PodPeer(w.pod("pods/"+e.Namespace+"/"+selectorString(e.PodSelector), func() (*Pod, string, podOrigin) {
			p := &Pod{Namespace: e.Namespace, Name: "pods-" + selectorString(e.PodSelector), Labels: e.PodSelector, PortsOpen: true, LabelsOpen: true}
			desc := fmt.Sprintf("pods(%q, %s)", e.Namespace, selectorString(e.PodSelector))
			return p, desc, podOrigin{label: desc}
		})), nil
	case hclspec.EndpointNamespace:
		return PodPeer(w.anyPod(e.Namespace, fmt.Sprintf("namespace %s (any pod)", e.Namespace), fmt.Sprintf("namespace %q", e.Namespace))), nil
	case hclspec.EndpointNamespaces:
		return PodPeer(w.namespacesPod(e.NamespaceSelector)), nil
	case hclspec.EndpointCIDR:
		ip, err := representative(e.CIDR, e.Except)
		return IPPeer(ip), err
	case hclspec.EndpointFQDN:
		return NamePeer(e.FQDN), nil
	}
	return Peer{}, fmt.Errorf("unknown endpoint kind %q", e.Kind)
}

func (w *Intent) anyPod(ns, desc, label string) *Pod {
	return w.pod("namespace/"+ns, func() (*Pod, string, podOrigin) {
		return &Pod{Namespace: ns, Name: "any-pod", PortsOpen: true}, desc, podOrigin{label: label}
	})
}

// namespacesPod is a pod of the namespaces a selector picks: a namespace
// carrying the selector's labels, its other labels (and its name, unless
// the selector gives it) unknown.
func (w *Intent) namespacesPod(sel map[string]string) *Pod {
	name := sel[NamespaceNameLabel]
	if name == "" {
		name = "namespaces-" + selectorString(sel)
	}
	if _, known := w.Engine.namespaces[name]; !known {
		w.Engine.setNamespace(Namespace{Name: name, Labels: sel, Open: true})
	}
	label := fmt.Sprintf("namespaces(%s)", selectorString(sel))
	p := w.pod("namespace/"+name, func() (*Pod, string, podOrigin) {
		return &Pod{Namespace: name, Name: "any-pod", PortsOpen: true}, label + " (any pod)", podOrigin{label: label, nsSel: sel}
	})
	if sel[NamespaceNameLabel] == "" {
		w.addMembers(p, sel)
	}
	return p
}

// representative is the first usable address of a block that no exception
// covers: the address itself for a single-address block, otherwise the
// first address after the network address.
func representative(cidr string, except []string) (netip.Addr, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Addr{}, err
	}
	p = p.Masked()
	var ex []netip.Prefix
	for _, x := range except {
		xp, err := netip.ParsePrefix(x)
		if err != nil {
			return netip.Addr{}, err
		}
		ex = append(ex, xp.Masked())
	}
	a := p.Addr()
	if p.Bits() < a.BitLen()-1 {
		a = a.Next()
	}
	for i := 0; i < 1<<16 && a.IsValid() && p.Contains(a); i, a = i+1, a.Next() {
		if !coveredBy(a, ex) {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("every address of %s is excepted", cidr)
}

func coveredBy(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// PortRange is the ports a check or query is about: From..To (equal for one
// port), or a container port Name, with a protocol.
type PortRange struct {
	From, To int32
	Name     string
	Protocol corev1.Protocol
}

// Ports expands the range into single ports.
func (r PortRange) Ports() []Port {
	if r.Name != "" {
		return []Port{{Name: r.Name, Protocol: r.Protocol}}
	}
	out := make([]Port, 0, r.To-r.From+1)
	for n := r.From; n <= r.To && n > 0; n++ {
		out = append(out, Port{Number: n, Protocol: r.Protocol})
	}
	return out
}

// String renders the range as the language writes it.
func (r PortRange) String() string {
	switch {
	case r.Name != "":
		return r.Name + "/" + string(r.Protocol)
	case r.From == 1 && r.To == 65535:
		return "every " + string(r.Protocol) + " port"
	case r.From != r.To:
		return fmt.Sprintf("%d-%d/%s", r.From, r.To, r.Protocol)
	}
	return fmt.Sprintf("%d/%s", r.From, r.Protocol)
}

// PortsFor resolves a check's port: as written, or when left out the
// destination service's target port.
func PortsFor(spec hclspec.PortSpec, dst hclspec.Endpoint) (PortRange, error) {
	if spec.Protocol == "" {
		if dst.Kind != hclspec.EndpointService {
			return PortRange{}, fmt.Errorf("the destination is not a service, so it has no target port to default to")
		}
		s := dst.Service
		spec = hclspec.PortSpec{Protocol: s.Protocol, Port: s.TargetPort.Number, Name: s.TargetPort.Name}
	}
	r := PortRange{Name: spec.Name, From: spec.Port, To: spec.Port, Protocol: protocol(spec.Protocol)}
	switch {
	case spec.Name != "":
		r.From, r.To = 0, 0
	case spec.Port == 0:
		r.From, r.To = 1, 65535
	case spec.EndPort != 0:
		r.To = spec.EndPort
	}
	return r, nil
}

// Evaluate answers a connection between two ends; two ends that are the
// same representative pod are evaluated as two pods of the same set. The
// facts of an unknown verdict name their subject in the intent's terms and
// say how to settle them.
func (w *Intent) Evaluate(from, to Peer, port Port) Verdict {
	var v Verdict
	ok := false
	if w.live != nil {
		v, ok = w.evaluatePairs(w.expand(from), w.expand(to), port)
	}
	if !ok && (w.hasMembers(from) || w.hasMembers(to)) {
		v, ok = w.evaluateMembers(from, to, port), true
	}
	if !ok {
		v = w.evaluateOne(from, to, port)
	}
	v.NoPods = w.noPods(from, to)
	for _, fs := range [][]Fact{v.Facts, v.Egress.Facts, v.Ingress.Facts} {
		for i := range fs {
			fs[i] = w.settle(fs[i])
		}
	}
	return v
}

// evaluateOne evaluates two representative pods; one that is both ends is
// evaluated against a twin.
func (w *Intent) evaluateOne(from, to Peer, port Port) Verdict {
	if from.Pod != nil && from.Pod == to.Pod {
		twin := *to.Pod
		twin.Name += "-peer"
		w.names[&twin] = w.names[to.Pod]
		w.ends[twin.Key()] = w.ends[to.Pod.Key()]
		to = PodPeer(&twin)
	}
	return w.Engine.Evaluate(from, to, port)
}

// RangeVerdict summarises a connection over a range of ports.
type RangeVerdict struct {
	// Allowed, Denied and Unknown count the ports by verdict; Mixed the
	// ports where some pod pairs are allowed and others denied (over live
	// pods, or the declared namespaces of a namespaces({...}) endpoint).
	Allowed, Denied, Unknown, Mixed int
	// Contrary counts the ports where some pair definitely has the verdict
	// not expected; Undecided the other ports where some pair is unknown.
	Contrary, Undecided int
	// Sample is the verdict on the first port contrary to the expectation,
	// else on the first undecided port, else on the first port.
	Sample Verdict
}

// EvaluateRange evaluates every port of r against an expectation.
func (w *Intent) EvaluateRange(from, to Peer, r PortRange, expectAllow bool) RangeVerdict {
	var out RangeVerdict
	rank := 0 // of the sample: 0 as expected, 1 undecided, 2 contrary
	for i, p := range r.Ports() {
		v := w.Evaluate(from, to, p)
		c := v.pairCounts()
		switch {
		case c.Mixed():
			out.Mixed++
		case v.Unknown:
			out.Unknown++
		case v.Allowed:
			out.Allowed++
		default:
			out.Denied++
		}
		contrary, k := c.Denied, 0
		if !expectAllow {
			contrary = c.Allowed
		}
		switch {
		case contrary > 0:
			out.Contrary, k = out.Contrary+1, 2
		case c.Unknown > 0:
			out.Undecided, k = out.Undecided+1, 1
		}
		if i == 0 || k > rank {
			out.Sample, rank = v, k
		}
	}
	return out
}

// source renders an HCL range as file:line, as object annotations do.
func source(r hcl.Range) string { return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line) }

func protocol(p string) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return corev1.Protocol(strings.ToUpper(p))
}

// selectorString renders labels as {k=v, ...}, sorted.
func selectorString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// settle names a fact's subject as the intent does and says how to
// supply it.
func (w *Intent) settle(f Fact) Fact {
	switch f.Kind {
	case FactNamespaceLabels:
		return w.settleNamespace(f)
	case FactOtherNamespaces:
		f.Settle = "only the cluster knows which other namespaces carry them: use --live"
		return f
	}
	o, ok := w.ends[f.Namespace+"/"+f.Pod]
	if !ok {
		return f
	}
	f.Subject = o.label
	switch {
	case f.Kind == FactPodIPs:
		f.Settle = "pod IPs are assigned at run time: use --live to evaluate against the cluster's pods"
	case f.Kind == FactPodLabels:
		f.Settle = settlePodLabels(o)
	case o.service != nil:
		s := o.service
		f.Settle = fmt.Sprintf("declare the pods' named ports in service %q (%s): ports = { %s = NUMBER }, or use --live",
			s.Label, source(s.Range), f.Port)
	default:
		f.Settle = "only the cluster knows these pods' container ports: use --live"
	}
	return f
}

// settlePodLabels says how to learn whether the pods an end stands for
// carry labels besides the ones the intent gives them.
func settlePodLabels(o podOrigin) string {
	if o.service != nil {
		return fmt.Sprintf("only the cluster knows which labels besides its selector the pods of %s carry: use --live, or if every pod of it carries the label, add it to the selector of service %q (%s)",
			o.label, o.service.Label, source(o.service.Range))
	}
	return fmt.Sprintf("only the cluster knows which labels besides %s the pods carry: use --live", o.label)
}

func (w *Intent) settleNamespace(f Fact) Fact {
	keys := make([]string, len(f.Keys))
	for i, k := range f.Keys {
		keys[i] = hclKey(k) + ` = "..."`
	}
	if o, ok := w.ends[f.Namespace+"/any-pod"]; ok && strings.HasPrefix(o.label, "namespaces(") {
		f.Subject = "the namespaces " + o.label + " selects"
		f.Settle = "their other labels are only known in the cluster: use --live"
		return f
	}
	f.Subject = fmt.Sprintf("namespace %q", f.Namespace)
	if w.live != nil {
		f.Settle = "it does not exist in the cluster: create it with the labels its pods will run under"
		return f
	}
	f.Settle = fmt.Sprintf("perimeter does not manage it, so only its name is known: declare namespace %q { labels = { %s } }, or use --live",
		f.Namespace, strings.Join(keys, ", "))
	return f
}

// hclKey writes a map key as HCL does: bare when it is an identifier.
func hclKey(k string) string {
	if hclsyntax.ValidIdentifier(k) {
		return k
	}
	return fmt.Sprintf("%q", k)
}
