package reach

import (
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// policyIndex finds the policies that may select a pod without evaluating
// every policy's selector for it: asking whether 5,000 services' pods are
// isolated evaluated 25 million selectors (5 s, the intent lints of a plan
// without a default deny). Each policy is filed under one requirement of
// its selector that names a single value (app=x, or app in (x)), or else
// among those always evaluated. A policy filed under key=value cannot
// select a pod whose labels give key another value; nor, when the pod's
// labels are all known, one without the key. Every other policy is still
// evaluated, in the engine's order, so the verdicts are those of
// evaluating all of them.
type policyIndex map[string]*labelIndex // by namespace

// labelIndex files positions (of policies, or of cluster policies) by one
// single-value requirement of a pod selector, or among those always
// evaluated (a nil selector, every pod, or none with a single value).
type labelIndex struct {
	always []int
	byKey  map[string]map[string][]int // requirement key -> value -> positions
}

func newLabelIndex() *labelIndex { return &labelIndex{byKey: map[string]map[string][]int{}} }

// add files position i, whose pod selector is sel.
func (x *labelIndex) add(i int, sel labels.Selector) {
	key, value, ok := selectorValue(sel)
	if !ok {
		x.always = append(x.always, i)
		return
	}
	if x.byKey[key] == nil {
		x.byKey[key] = map[string][]int{}
	}
	x.byKey[key][value] = append(x.byKey[key][value], i)
}

// lookup is the positions whose selectors may select p, in order: those
// filed under key=value are left out when p's labels give key another
// value, or (all known) lack it.
func (x *labelIndex) lookup(p *Pod) []int {
	pos := slices.Clone(x.always)
	for key, byValue := range x.byKey {
		if v, has := p.Labels[key]; has {
			pos = append(pos, byValue[v]...)
		} else if p.LabelsOpen { // the pod may have the key, with any value
			for _, ps := range byValue {
				pos = append(pos, ps...)
			}
		}
	}
	slices.Sort(pos)
	return pos
}

// indexPolicies files policies (in the engine's order) by namespace and
// requirement.
func indexPolicies(policies []*compiled) policyIndex {
	idx := policyIndex{}
	for i, c := range policies {
		if idx[c.ref.Namespace] == nil {
			idx[c.ref.Namespace] = newLabelIndex()
		}
		idx[c.ref.Namespace].add(i, c.selector)
	}
	return idx
}

// selectorValue is the first requirement of sel that a pod's label must
// equal (=, ==, or in with one value); none for a nil selector (every pod).
func selectorValue(sel labels.Selector) (key, value string, ok bool) {
	if sel == nil {
		return "", "", false
	}
	reqs, selectable := sel.Requirements()
	if !selectable {
		return "", "", false
	}
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			if vs := r.Values(); vs.Len() == 1 {
				return r.Key(), vs.UnsortedList()[0], true
			}
		}
	}
	return "", "", false
}

// candidates are the policies of pod p's namespace that may select it, in
// the engine's order.
func (e *Engine) candidates(p *Pod) []*compiled {
	x := e.index[p.Namespace]
	if x == nil {
		return nil
	}
	pos := x.lookup(p)
	out := make([]*compiled, len(pos))
	for i, at := range pos {
		out[i] = e.policies[at]
	}
	return out
}

// indexCluster files the cluster policies by their subjects' pod
// selectors: the tiers hold a policy per FQDN allow (fqdn_egress =
// "cluster-network-policy"), and asking about every service's pods
// matched every one (4,000 allows: 16 million selector matches).
func indexCluster(policies []*clusterPolicy) *labelIndex {
	x := newLabelIndex()
	for i, c := range policies {
		x.add(i, c.subject.pods)
	}
	return x
}
