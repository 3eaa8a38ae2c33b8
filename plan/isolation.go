package plan

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// isolation is a pod set closed for one direction: the first policy that
// selects a pod for a direction denies everything no rule allows. It is a
// side effect of every policy, whatever produced it (a default_deny, an
// allow, a route backend, a gateway's data plane).
type isolation struct {
	direction string // "ingress" or "egress"
	namespace string
	labels    map[string]string // matchLabels; nil with exprs == "" is every pod
	exprs     string            // matchExpressions, as text; "" when none
	subject   string            // the pods, as the summary names them
	gateway   bool              // subject names a gateway's data plane
	source    string            // the HCL behind it: file:line of the first policy
	block     string            // and that policy's block
}

func (s isolation) key() string { return s.direction + " " + s.namespace + "/" + s.subject }

// covers reports whether every pod of o is also a pod of s (same namespace
// and direction, a selector that asks for a subset of o's labels). A
// selector with expressions covers only itself.
func (s isolation) covers(o isolation) bool {
	if s.direction != o.direction || s.namespace != o.namespace {
		return false
	}
	if s.exprs != "" {
		return s.key() == o.key()
	}
	for k, v := range s.labels {
		if got, ok := o.labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// isolations lists the pod sets a set of objects isolates, leaving out
// sets inside a broader one, sorted.
func isolations(objs []*unstructured.Unstructured, lines sources) []isolation {
	byKey := map[string]isolation{}
	for _, o := range objs {
		if o.GetKind() != "NetworkPolicy" {
			continue
		}
		for _, dir := range effectiveTypes(o) {
			s := policyIsolation(o, dir, lines)
			if prev, ok := byKey[s.key()]; !ok || s.source < prev.source {
				byKey[s.key()] = s
			}
		}
	}
	all := make([]isolation, 0, len(byKey))
	for _, s := range byKey {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].key() < all[j].key() })
	var out []isolation
	c := newCoverers(all)
	for _, s := range all {
		if !c.covered(s, true) {
			out = append(out, s)
		}
	}
	return out
}

// effectiveTypes is spec.policyTypes, or when empty Ingress plus Egress if
// the policy has egress rules, in lower case.
func effectiveTypes(o *unstructured.Unstructured) []string {
	types, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "policyTypes")
	if len(types) == 0 {
		types = []string{"Ingress"}
		if rules, _, _ := sliceAt(o.Object, "spec", "egress"); len(rules) > 0 {
			types = append(types, "Egress")
		}
	}
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = strings.ToLower(t)
	}
	return out
}

func policyIsolation(o *unstructured.Unstructured, dir string, lines sources) isolation {
	sel := nested(o.Object, "spec", "podSelector")
	labels, _, _ := unstructured.NestedStringMap(sel, "matchLabels")
	s := isolation{direction: dir, namespace: o.GetNamespace(), labels: labels, source: lines.of(o), block: firstBlock(o)}
	if exprs, _, _ := sliceAt(sel, "matchExpressions"); len(exprs) > 0 {
		s.exprs = selectorText(map[string]any{"matchExpressions": exprs})
	}
	s.subject = selectorText(sel)
	if gw, ok := dataPlaneText(sel); ok {
		s.subject, s.gateway = gw, true
	}
	return s
}

// text is the summary line: which pods, which direction.
func (s isolation) text() string {
	switch {
	case s.subject == "*":
		return s.direction + " of every pod in " + s.namespace
	case s.gateway:
		return s.direction + " of " + s.subject + " (its proxies in " + s.namespace + ")"
	}
	return s.direction + " of " + s.namespace + "/" + s.subject
}

// change is the isolation as a boundary change of the plan.
func (s isolation) change(added bool) BoundaryChange {
	pods := s.namespace + "/" + s.subject
	if s.gateway {
		pods = s.subject + " (its proxies in " + s.namespace + ")"
	}
	return BoundaryChange{Action: boundaryAction(added), Added: added, Kind: "isolate", Text: s.text(), Source: s.source,
		Block: s.block, Direction: s.direction, Pods: pods}
}

// isolationChanges are the pod sets newly closed for a direction (not
// already inside a set the live objects isolate, before) and those no
// longer closed (not inside any set the desired objects isolate, after).
func isolationChanges(before, after []isolation) (added, removed []BoundaryChange) {
	inBefore, inAfter := newCoverers(before), newCoverers(after)
	for _, s := range after {
		if !inBefore.covered(s, false) {
			added = append(added, s.change(true))
		}
	}
	for _, s := range before {
		if !inAfter.covered(s, false) {
			removed = append(removed, s.change(false))
		}
	}
	return added, removed
}
