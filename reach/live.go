package reach

import (
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// PairCounts counts the pod pairs a live verdict covers by outcome.
type PairCounts struct {
	Allowed, Denied, Unknown int
}

// Total is the number of pairs.
func (c PairCounts) Total() int { return c.Allowed + c.Denied + c.Unknown }

// Mixed reports whether some pairs are allowed and others denied.
func (c PairCounts) Mixed() bool { return c.Allowed > 0 && c.Denied > 0 }

// FromLive builds an evaluator whose endpoints stand for a cluster's real
// pods: a service for the pods its selector matches in its namespace,
// pods(...) and a gateway's data plane likewise, namespace.X for every pod
// of X, namespaces({...}) for every pod of the namespaces whose labels
// match. A connection is evaluated for every pair of those pods (Verdict
// Pairs counts them). An endpoint no pod matches falls back to its
// representative pod (Verdict.NoPods names it). The namespaces of the
// intent get their declared labels on top of their live ones, as apply
// sets them. live.ClusterPolicies apply in their tiers.
func FromLive(in *hclspec.Intent, policies []networkingv1.NetworkPolicy, live Objects) (*Intent, error) {
	nss := append([]Namespace(nil), live.Namespaces...)
	for _, ns := range in.Namespaces {
		nss = append(nss, withDeclared(live.Namespaces, ns))
	}
	e, err := New(policies, nss, live.Pods)
	if err != nil {
		return nil, err
	}
	if err := e.AddClusterPolicies(live.ClusterPolicies); err != nil {
		return nil, err
	}
	w := newIntent(e, in)
	w.live, w.sets = live.Pods, map[*Pod][]*Pod{}
	w.liveNS = map[string]labels.Set{}
	for _, ns := range nss {
		w.liveNS[ns.Name] = e.namespaces[ns.Name].labels
	}
	w.representatives()
	return w, nil
}

// withDeclared is a managed namespace's live labels plus its declared ones.
func withDeclared(live []Namespace, ns *hclspec.Namespace) Namespace {
	out := Namespace{Name: ns.Name, Labels: map[string]string{}}
	for _, l := range live {
		if l.Name == ns.Name {
			for k, v := range l.Labels {
				out.Labels[k] = v
			}
		}
	}
	for k, v := range ns.Labels {
		out.Labels[k] = v
	}
	return out
}

// liveSet records the live pods a representative pod stands for: those
// carrying its labels in its namespace, or, for a namespaces({...})
// endpoint (nsSel not nil), in every namespace whose labels match.
func (w *Intent) liveSet(rep *Pod, nsSel map[string]string) {
	if w.live == nil {
		return
	}
	if _, done := w.sets[rep]; done {
		return
	}
	podSel := labels.SelectorFromSet(rep.Labels)
	var set []*Pod
	for _, p := range w.live {
		inNS := p.Namespace == rep.Namespace
		if nsSel != nil {
			inNS = labels.SelectorFromSet(nsSel).Matches(w.liveNS[p.Namespace])
		}
		if inNS && podSel.Matches(labels.Set(p.Labels)) {
			set = append(set, p)
		}
	}
	sort.Slice(set, func(i, j int) bool { return set[i].Key() < set[j].Key() })
	w.sets[rep] = set
}

// expand is the pods a connection end stands for: its live pods, or itself.
func (w *Intent) expand(p Peer) []Peer {
	if p.Pod == nil || len(w.sets[p.Pod]) == 0 {
		return []Peer{p}
	}
	out := make([]Peer, len(w.sets[p.Pod]))
	for i, q := range w.sets[p.Pod] {
		out[i] = PodPeer(q)
	}
	return out
}

// noPods lists the ends that, in live mode, no pod matches.
func (w *Intent) noPods(ends ...Peer) []string {
	var out []string
	for _, p := range ends {
		if w.live != nil && p.Pod != nil {
			if set, ok := w.sets[p.Pod]; ok && len(set) == 0 {
				out = append(out, w.ends[p.Pod.Key()].label)
			}
		}
	}
	return out
}

// evaluatePairs evaluates every pair of live pods two ends stand for and
// returns a sample: the first denied pair, else the first unknown, else
// the first. Unknown when no pair is denied and some are unknown; Facts are
// those of every unknown pair.
func (w *Intent) evaluatePairs(froms, tos []Peer, port Port) (Verdict, bool) {
	var out Verdict
	var c PairCounts
	var facts []Fact
	rank := -1 // of the sample: 0 allowed, 1 unknown, 2 denied
	for _, f := range froms {
		for _, t := range tos {
			if f.Pod != nil && f.Pod == t.Pod {
				continue
			}
			v := w.Engine.Evaluate(f, t, port)
			k := 0
			switch {
			case v.Unknown:
				c.Unknown, k = c.Unknown+1, 1
				facts = addFacts(facts, v.Facts...)
			case v.Allowed:
				c.Allowed++
			default:
				c.Denied, k = c.Denied+1, 2
			}
			if k > rank {
				out, rank = v, k
			}
		}
	}
	out.Pairs, out.Facts = c, facts
	return out, c.Total() > 0
}
