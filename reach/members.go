package reach

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
)

// addMembers records, for the representative pod of a namespaces({...})
// endpoint without a name, a pod of each namespace the intent declares whose
// labels match: those pods are surely part of the endpoint, the
// representative only maybe (other namespaces may carry the labels).
func (w *Intent) addMembers(rep *Pod, sel map[string]string) {
	if w.live != nil || w.members[rep] != nil {
		return
	}
	s := labels.SelectorFromSet(sel)
	var out []*Pod
	for _, ns := range w.in.Namespaces {
		if s.Matches(namespaceLabels(ns.Name, ns.Labels)) {
			label := fmt.Sprintf("namespace %q", ns.Name)
			out = append(out, w.anyPod(ns.Name, fmt.Sprintf("namespace %s (any pod)", ns.Name), label))
		}
	}
	if len(out) > 0 {
		w.members[rep] = out
	}
}

// withMembers is an end and the pods it surely stands for besides.
func (w *Intent) withMembers(p Peer) []Peer {
	out := []Peer{p}
	if p.Pod != nil {
		for _, m := range w.members[p.Pod] {
			out = append(out, PodPeer(m))
		}
	}
	return out
}

// evaluateMembers evaluates a connection where an end is a namespaces({...})
// endpoint that declared namespaces match: every pair of its pods. Pairs
// without the representative pod are sure; a pair with it counts as unknown
// where its outcome differs from the sure pairs' (whether any other
// namespace carries the labels is not known). The sample is as for live
// pods: a denied pair, else an unknown one, else the first; Facts are those
// of every unknown pair.
func (w *Intent) evaluateMembers(from, to Peer, port Port) Verdict {
	var sure, maybe []Verdict
	for _, f := range w.withMembers(from) {
		for _, t := range w.withMembers(to) {
			v := w.evaluateOne(f, t, port)
			if w.members[f.Pod] != nil || (t.Pod != nil && w.members[t.Pod] != nil) {
				maybe = append(maybe, v)
			} else {
				sure = append(sure, v)
			}
		}
	}
	var out Verdict
	var c PairCounts
	var facts []Fact
	rank := -1
	add := func(v Verdict, k int) {
		if k == 1 {
			facts = addFacts(facts, v.Facts...)
		}
		if k > rank {
			out, rank = v, k
		}
	}
	for _, v := range sure {
		k := outcome(v)
		c.Allowed, c.Unknown, c.Denied = c.Allowed+b2i(k == 0), c.Unknown+b2i(k == 1), c.Denied+b2i(k == 2)
		add(v, k)
	}
	for _, v := range maybe {
		if k := outcome(v); !agrees(sure, k) {
			c.Unknown++
			add(w.otherNamespaces(v, from, to), 1)
		}
	}
	out.Pairs, out.Facts = c, facts
	return out
}

// otherNamespaces marks a verdict on the representative pod of a
// namespaces({...}) endpoint unknown: it holds only if some namespace
// besides the declared ones carries the labels.
func (w *Intent) otherNamespaces(v Verdict, ends ...Peer) Verdict {
	if !v.Unknown {
		v.Facts = nil
	}
	v.Allowed, v.Unknown = false, true
	for _, e := range ends {
		if e.Pod != nil && w.members[e.Pod] != nil {
			o := w.ends[e.Pod.Key()]
			v.Facts = addFacts(v.Facts, Fact{Kind: FactOtherNamespaces, Namespace: e.Pod.Namespace, Keys: sortedKeys(o.nsSel), Subject: o.label})
		}
	}
	return v
}

// outcome ranks a verdict: 0 allowed, 1 unknown, 2 denied.
func outcome(v Verdict) int {
	switch {
	case v.Unknown:
		return 1
	case v.Allowed:
		return 0
	}
	return 2
}

// agrees reports whether every verdict of vs has outcome k.
func agrees(vs []Verdict, k int) bool {
	for _, v := range vs {
		if outcome(v) != k {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
