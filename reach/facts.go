package reach

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// tri is a three-valued match: no < maybe < yes, so AND is min and OR is
// max.
type tri uint8

const (
	no tri = iota
	maybe
	yes
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

// FactKind says which fact a verdict is missing.
type FactKind string

// The facts an evaluation can miss. They only arise for pods and
// namespaces marked open (Namespace.Open, Pod.PortsOpen, Pod.IPsUnknown).
const (
	// FactNamespaceLabels: labels (Keys) of a namespace a namespaceSelector
	// asks about.
	FactNamespaceLabels FactKind = "namespace-labels"
	// FactPortName: whether the pod has a container port named Port.
	FactPortName FactKind = "port-name"
	// FactPortNumber: the number of the pod's container port named Port.
	FactPortNumber FactKind = "port-number"
	// FactPodIPs: the pod's addresses, against ipBlock CIDR.
	FactPodIPs FactKind = "pod-ips"
	// FactOtherNamespaces: whether namespaces other than the declared ones
	// carry the labels (Keys) a namespaces({...}) endpoint selects.
	FactOtherNamespaces FactKind = "other-namespaces"
	// FactNameAddresses: the addresses a domain name (Subject) resolves
	// to, against the ipBlock or network CIDR.
	FactNameAddresses FactKind = "name-addresses"
)

// Fact is a fact a verdict depends on that the evaluator does not have.
type Fact struct {
	Kind      FactKind
	Namespace string   // the namespace (FactNamespaceLabels) or the pod's
	Pod       string   // the pod's name; "" for FactNamespaceLabels
	Keys      []string // FactNamespaceLabels: the label keys asked about
	Port      string   // FactPortName, FactPortNumber: the port name
	CIDR      string   // FactPodIPs: the ipBlock
	// Subject names the pod or namespace for the user; "" means
	// "namespace NS" or "pod NS/NAME".
	Subject string
	// Settle says how to supply the fact; set by the layer that knows
	// where facts come from (perimeter's intent), "" otherwise.
	Settle string
}

// String says what is not known, e.g. `namespace tools: label team is not
// known`.
func (f Fact) String() string {
	subject := f.Subject
	if subject == "" {
		subject = "pod " + f.Namespace + "/" + f.Pod
		if f.Kind == FactNamespaceLabels {
			subject = "namespace " + f.Namespace
		}
	}
	switch f.Kind {
	case FactNamespaceLabels:
		return fmt.Sprintf("%s: whether it has %s %s is not known", subject, plural(len(f.Keys), "label", "labels"), strings.Join(f.Keys, ", "))
	case FactPortName:
		return fmt.Sprintf("%s: whether its pods have a container port named %q is not known", subject, f.Port)
	case FactPortNumber:
		return fmt.Sprintf("%s: the number of its container port %q is not known", subject, f.Port)
	case FactOtherNamespaces:
		return fmt.Sprintf("%s: whether namespaces other than the declared ones carry %s %s is not known", subject, plural(len(f.Keys), "label", "labels"), strings.Join(f.Keys, ", "))
	case FactNameAddresses:
		return fmt.Sprintf("%s: the addresses it resolves to are not known, so whether %s contains them is not", f.Subject, f.CIDR)
	}
	return fmt.Sprintf("%s: its pod IPs are not known, so whether ipBlock %s contains them is not (and whether an ipBlock applies to pod traffic at all is implementation-defined in Kubernetes)", subject, f.CIDR)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// key identifies a fact for deduplication.
func (f Fact) key() string {
	k := strings.Join([]string{string(f.Kind), f.Namespace, f.Pod, strings.Join(f.Keys, ","), f.Port, f.CIDR}, "\x00")
	if f.Kind == FactNameAddresses {
		k += "\x00" + f.Subject // the name is the fact's subject
	}
	return k
}

// addFacts appends the facts of fs not yet in to.
func addFacts(to []Fact, fs ...Fact) []Fact {
	for _, f := range fs {
		dup := false
		for _, g := range to {
			if g.key() == f.key() {
				dup = true
				break
			}
		}
		if !dup {
			to = append(to, f)
		}
	}
	return to
}

// nsInfo is what the engine knows about a namespace.
type nsInfo struct {
	labels labels.Set
	open   bool
}

// matchNamespace evaluates a namespaceSelector against a namespace whose
// labels may be only partly known: a requirement on a key that is not known
// matches "maybe".
func matchNamespace(sel labels.Selector, name string, ns nsInfo) (tri, []Fact) {
	if !ns.open {
		return triOf(sel.Matches(ns.labels)), nil
	}
	reqs, _ := sel.Requirements()
	out := yes
	var missing []string
	for _, r := range reqs {
		if ns.labels.Has(r.Key()) {
			if !r.Matches(ns.labels) {
				return no, nil
			}
			continue
		}
		out = maybe
		missing = append(missing, r.Key())
	}
	if out == maybe {
		return maybe, []Fact{{Kind: FactNamespaceLabels, Namespace: name, Keys: missing}}
	}
	return yes, nil
}
