package reach

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The index leaves out only policies that cannot select the pod, and keeps
// the engine's order: on random worlds, with pods whose labels are known
// and pods whose labels are only partly known.
func TestCandidatesHoldEveryPolicyThatMaySelect(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for n := range 2000 {
		w, e := openWorld(t, r, n)
		for _, p := range w.pods {
			var want []*compiled
			for _, c := range e.policies {
				if c.ref.Namespace != p.Namespace {
					continue
				}
				if sel, _ := matchPod(c.selector, p); sel != no {
					want = append(want, c)
				}
			}
			got := e.candidates(p)
			var kept []*compiled
			for _, c := range got {
				if sel, _ := matchPod(c.selector, p); sel != no {
					kept = append(kept, c)
				}
			}
			if !slices.Equal(kept, want) {
				t.Fatalf("world %d, pod %s/%s %v (open %v): candidates that may select %v, want %v", n, p.Namespace, p.Name, p.Labels, p.LabelsOpen, refs(kept), refs(want))
			}
			if !slices.IsSortedFunc(got, func(a, b *compiled) int { return compareRefs(a.ref, b.ref) }) {
				t.Fatalf("world %d: candidates out of the engine's order: %v", n, refs(got))
			}
		}
	}
}

// openWorld is a random world and its engine, with the labels of about
// half its pods only partly known (Pod.LabelsOpen).
func openWorld(t *testing.T, r *rand.Rand, n int) (world, *Engine) {
	t.Helper()
	w := randWorld(r)
	e := w.engine(t, n)
	for _, p := range w.pods {
		p.LabelsOpen = r.Intn(2) == 0
	}
	return w, e
}

func refs(cs []*compiled) []PolicyRef {
	var out []PolicyRef
	for _, c := range cs {
		out = append(out, c.ref)
	}
	return out
}

func compareRefs(a, b PolicyRef) int {
	switch {
	case refLess(a, b):
		return -1
	case refLess(b, a):
		return 1
	}
	return 0
}

// BenchmarkIsolatedPods5000 asks, for each of 5,000 pods, which policies
// isolate it for egress, with one policy per pod and no default deny: the
// question the intent lints ask of every allow (go test -bench
// IsolatedPods -benchmem ./reach; docs/benchmarks.md).
func BenchmarkIsolatedPods5000(b *testing.B) {
	var pols []networkingv1.NetworkPolicy
	var pods []*Pod
	for i := range 5000 {
		app := map[string]string{"app": fmt.Sprintf("s%d", i)}
		pols = append(pols, networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("s%d", i)},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: app},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}})
		pods = append(pods, &Pod{Namespace: "bench", Name: fmt.Sprintf("s%d", i), Labels: app, LabelsOpen: true})
	}
	e, err := New(pols, nil, pods)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, p := range pods {
			if d := e.direction(Egress, p, Peer{}, Peer{}, Port{}); !d.Isolated {
				b.Fatal("not isolated")
			}
		}
	}
}
