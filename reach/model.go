// Package reach evaluates Kubernetes NetworkPolicy semantics: given a set of
// policies, namespaces and pods, it answers whether a source may reach a
// destination on a port and protocol, and why. It is pure: no cluster
// access; the policies may come from perimeter's compiler, from YAML files
// or from a live cluster.
//
// Semantics follow the networking/v1 API documentation:
//
//   - a policy selects the pods of its namespace matching spec.podSelector;
//   - its effective policyTypes are spec.policyTypes, or, when empty,
//     Ingress plus Egress if spec.egress has rules;
//   - a pod selected by no policy of a direction is open in that direction;
//     otherwise the direction allows exactly the union of the rules of the
//     policies selecting it;
//   - a connection needs both the source's egress and the destination's
//     ingress; an external endpoint (an IP outside every pod) has no policy
//     side of its own;
//   - peers match pods by podSelector in the policy's namespace, by
//     namespaceSelector (every pod of the matching namespaces), by both (the
//     matching pods of the matching namespaces), or by ipBlock (the CIDR minus
//     its exceptions, matched against external addresses and pod IPs alike);
//   - a rule without peers matches every peer, one without ports every port;
//     a port matches by protocol (default TCP) and number, range (endPort,
//     numeric ports only) or name — a name resolves against the destination
//     pod's container ports and never matches an external destination.
//
// Traffic from a pod to itself (loopback) is always allowed: NetworkPolicy
// cannot block it, and the upstream e2e suite expects it to succeed under
// every policy.
package reach

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// NamespaceNameLabel is the label the API server puts on every namespace,
// holding its name.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Namespace is a namespace and its labels.
type Namespace struct {
	Name   string
	Labels map[string]string
	// Open is set when the labels are only partly known: the keys of Labels
	// are facts, any other label (kubernetes.io/metadata.name included,
	// unless Labels holds it) may or may not be there, so a
	// namespaceSelector naming one matches "unknown". Namespaces read from
	// YAML or a cluster are never open.
	Open bool
}

// NamedPort is a container port of a pod. Name may be empty; Port may be 0
// when only the name is known (perimeter's named target ports): on a pod
// with PortsOpen that number is unknown, otherwise it matches no number.
type NamedPort struct {
	Name     string
	Port     int32
	Protocol corev1.Protocol
}

// Pod is a workload: its namespace, labels, addresses and container ports.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	IPs       []netip.Addr
	Ports     []NamedPort
	// PortsOpen is set when the pod's container ports are only partly
	// known: it may have named ports besides Ports, and a port of Ports
	// numbered 0 has an unknown number.
	PortsOpen bool
	// IPsUnknown is set when the pod's addresses are not known (IPs is then
	// ignored): whether an ipBlock contains them is unknown.
	IPsUnknown bool
	// LabelsOpen is set when the pod's labels are only partly known: it
	// carries Labels, and may or may not carry any label of another key, so
	// a selector requirement on such a key matches "unknown".
	LabelsOpen bool
}

// Key is "namespace/name".
func (p *Pod) Key() string { return p.Namespace + "/" + p.Name }

// namedPort finds the container port with name and protocol.
func (p *Pod) namedPort(name string, proto corev1.Protocol) (NamedPort, bool) {
	for _, np := range p.Ports {
		if np.Name == name && np.Protocol == proto {
			return np, true
		}
	}
	return NamedPort{}, false
}

// Peer is one end of a connection: a pod, or an address outside every pod,
// or a destination outside the cluster known by its domain name.
type Peer struct {
	Pod  *Pod       // nil for an external address
	IP   netip.Addr // the external address; ignored for pods
	Name string     // a domain name destination (IP is then not known)
}

// NamePeer is a destination outside the cluster addressed by domain name.
func NamePeer(name string) Peer { return Peer{Name: name} }

// PodPeer is a pod as a connection end.
func PodPeer(p *Pod) Peer { return Peer{Pod: p} }

// IPPeer is an external address as a connection end.
func IPPeer(ip netip.Addr) Peer { return Peer{IP: ip} }

// String is "ns/name" for a pod and the address for an external peer.
func (p Peer) String() string {
	if p.Pod != nil {
		return p.Pod.Key()
	}
	if p.Name != "" {
		return p.Name
	}
	return p.IP.String()
}

// Port is the destination port of a connection: a number, or a container
// port name resolved against the destination pod, with a protocol.
type Port struct {
	Number   int32
	Name     string
	Protocol corev1.Protocol // "" means TCP
}

// String renders the port as "443/TCP" or "http/TCP".
func (p Port) String() string {
	proto := p.proto()
	if p.Name != "" {
		return p.Name + "/" + string(proto)
	}
	return fmt.Sprintf("%d/%s", p.Number, proto)
}

func (p Port) proto() corev1.Protocol {
	if p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return p.Protocol
}

// Direction is Ingress or Egress.
type Direction string

// The two directions a policy can govern.
const (
	Ingress Direction = "Ingress"
	Egress  Direction = "Egress"
)

// PolicyRef names a NetworkPolicy.
type PolicyRef struct {
	Namespace string
	Name      string
}

// String is "namespace/name".
func (r PolicyRef) String() string { return r.Namespace + "/" + r.Name }

// RuleRef points at the rule of a policy, and at the peer and port entries
// of it, that admitted a connection. Peer and Port are -1 when the rule has
// no peers (every peer) or no ports (every port).
type RuleRef struct {
	Policy    PolicyRef
	Direction Direction
	Rule      int
	Peer      int
	Port      int
	// PodByIPBlock is set when the peer is an ipBlock that admitted a pod
	// by its IP: whether ipBlocks apply to pod traffic is
	// implementation-defined in Kubernetes.
	PodByIPBlock bool
}

// String is e.g. "shop/api-ingress ingress rule 0 (peer 1, port 0)".
func (r RuleRef) String() string {
	s := fmt.Sprintf("%s %s rule %d", r.Policy, lower(r.Direction), r.Rule)
	peer, port := "every peer", "every port"
	if r.Peer >= 0 {
		peer = fmt.Sprintf("peer %d", r.Peer)
	}
	if r.Port >= 0 {
		port = fmt.Sprintf("port %d", r.Port)
	}
	return s + " (" + peer + ", " + port + ")"
}

func lower(d Direction) string {
	if d == Ingress {
		return "ingress"
	}
	return "egress"
}

// DirectionVerdict is the outcome of one direction of a connection.
type DirectionVerdict struct {
	// Applies is false when that end is external: no policy governs it.
	Applies bool
	// Isolated is true when some policy selecting the pod has this
	// direction in its effective policyTypes.
	Isolated bool
	// IsolatedBy lists those policies, sorted.
	IsolatedBy []PolicyRef
	// MaybeIsolatedBy lists, sorted, the policies that select the pod only
	// if it carries labels it is not known to carry (Pod.LabelsOpen), when
	// the outcome depends on them; the direction is then unknown, their
	// rules that may admit the connection are in Undecided and the label
	// facts in Facts.
	MaybeIsolatedBy []PolicyRef
	// AllowedBy lists every rule admitting the connection, sorted.
	AllowedBy []RuleRef
	// Undecided lists the rules that may admit the connection, depending
	// on facts the evaluator does not have; empty when AllowedBy is not.
	Undecided []RuleRef
	// Facts are the missing facts Undecided depends on.
	Facts []Fact
	// Tiers is how the ClusterNetworkPolicy tiers decided, when one
	// selects the pod; the NetworkPolicy fields above are then the
	// NetworkPolicy tier's part. Nil when no ClusterNetworkPolicy selects
	// it.
	Tiers *TierVerdict
}

// Allowed reports whether this direction lets the connection through.
func (d DirectionVerdict) Allowed() bool {
	if d.Tiers != nil {
		return d.Tiers.state == yes
	}
	if len(d.MaybeIsolatedBy) > 0 {
		return false
	}
	return !d.Applies || !d.Isolated || len(d.AllowedBy) > 0
}

// Unknown reports whether this direction's outcome depends on missing
// facts: no rule surely admits the connection, but some may.
func (d DirectionVerdict) Unknown() bool {
	if d.Tiers != nil {
		return d.Tiers.state == maybe
	}
	return !d.Allowed() && (len(d.Undecided) > 0 || len(d.MaybeIsolatedBy) > 0)
}

// isolating reports whether the NetworkPolicy tier decides this direction:
// some policy surely or maybe selects the pod for it.
func (d DirectionVerdict) isolating() bool { return d.Isolated || len(d.MaybeIsolatedBy) > 0 }

func (d DirectionVerdict) state() tri {
	switch {
	case d.Allowed():
		return yes
	case d.Unknown():
		return maybe
	}
	return no
}

// Verdict is the answer for one connection.
type Verdict struct {
	From, To Peer
	Port     Port
	Allowed  bool
	// Loopback is true for traffic from a pod to itself, always allowed.
	Loopback bool
	// Unresolved is set when a named Port does not exist on the destination:
	// there is nothing to connect to, and the connection is denied.
	Unresolved bool
	// Unknown is set when the answer depends on facts the evaluator does
	// not have (Facts): neither allowed nor denied. Only pods and
	// namespaces with open facts (perimeter's representative pods) lead to
	// it; over objects from YAML or a cluster every verdict is definite.
	Unknown bool
	// Facts lists the missing facts behind Unknown (or behind the unknown
	// pairs Pairs counts), deduplicated, in the order found (egress, then
	// ingress).
	Facts   []Fact
	Egress  DirectionVerdict // the source's egress
	Ingress DirectionVerdict // the destination's ingress
	// Pairs counts, when the ends stand for several live pods, the pod
	// pairs evaluated by outcome; the verdict is then a sample: a denied
	// pair if any, else an unknown one, else the first. Zero otherwise.
	Pairs PairCounts
	// NoPods names the ends (live mode) that no pod of the cluster
	// matches, evaluated for a representative pod instead.
	NoPods []string
}

// pairCounts is Pairs, or the verdict itself counted as one pair.
func (v Verdict) pairCounts() PairCounts {
	switch {
	case v.Pairs.Total() > 0:
		return v.Pairs
	case v.Unknown:
		return PairCounts{Unknown: 1}
	case v.Allowed:
		return PairCounts{Allowed: 1}
	}
	return PairCounts{Denied: 1}
}
