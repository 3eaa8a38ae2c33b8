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
// namespaces marked open (Namespace.Open, Pod.PortsOpen, Pod.IPsUnknown, Pod.LabelsOpen).
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
	// FactPodLabels: whether the pod (of a set whose labels are only partly
	// known, Pod.LabelsOpen) meets the selector requirements Keys, e.g.
	// "team=x" or "!tier", on labels it is not known to carry.
	FactPodLabels FactKind = "pod-labels"
)

// Fact is a fact a verdict depends on that the evaluator does not have.
type Fact struct {
	Kind      FactKind
	Namespace string   // the namespace (FactNamespaceLabels) or the pod's
	Pod       string   // the pod's name; "" for FactNamespaceLabels
	Keys      []string // FactNamespaceLabels: the label keys asked about; FactPodLabels: the requirements
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
	case FactPodLabels:
		return fmt.Sprintf("%s: whether its pods meet %s %s is not known", subject, plural(len(f.Keys), "label requirement", "label requirements"), strings.Join(f.Keys, ", "))
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
	is, missing := matchOpen(sel, ns.labels, ns.open)
	if is == maybe {
		keys := make([]string, len(missing))
		for i, r := range missing {
			keys[i] = r.Key()
		}
		return maybe, []Fact{{Kind: FactNamespaceLabels, Namespace: name, Keys: keys}}
	}
	return is, nil
}

// matchPod evaluates a pod selector against a pod whose labels may be only
// partly known (Pod.LabelsOpen): the keys of its Labels are facts, any
// other label may or may not be there. A nil selector matches every pod.
func matchPod(sel labels.Selector, p *Pod) (tri, []Fact) {
	if sel == nil {
		return yes, nil
	}
	is, missing := matchOpen(sel, labels.Set(p.Labels), p.LabelsOpen)
	if is != maybe {
		return is, nil
	}
	reqs := make([]string, len(missing))
	for i, r := range missing {
		reqs[i] = r.String()
	}
	return maybe, []Fact{{Kind: FactPodLabels, Namespace: p.Namespace, Pod: p.Name, Keys: reqs}}
}

// matchOpen evaluates a selector against labels that, when open, are only
// partly known: a requirement on a key the labels hold is decided by them
// (a failing one makes the match "no" whatever the rest), one on any other
// key (In, NotIn, Exists, DoesNotExist alike) is "maybe" and returned.
func matchOpen(sel labels.Selector, l labels.Set, open bool) (tri, []labels.Requirement) {
	if !open {
		return triOf(sel.Matches(l)), nil
	}
	reqs, _ := sel.Requirements()
	var missing []labels.Requirement
	for _, r := range reqs {
		if !l.Has(r.Key()) {
			missing = append(missing, r)
			continue
		}
		if !r.Matches(l) {
			return no, nil
		}
	}
	if len(missing) > 0 {
		return maybe, missing
	}
	return yes, nil
}
