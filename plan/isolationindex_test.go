package plan

import (
	"fmt"
	"math/rand"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// randomIsolations draws pod sets from a small space, so that sets
// covering each other are common: two namespaces, both directions, up to
// three of four labels with two values, some with expressions, and some
// selectors with more labels than coverers looks up by subset.
func randomIsolations(r *rand.Rand, n int) []isolation {
	var out []isolation
	for range n {
		s := isolation{direction: []string{"ingress", "egress"}[r.Intn(2)], namespace: []string{"a", "b"}[r.Intn(2)]}
		size := r.Intn(4)
		if r.Intn(10) == 0 {
			size = maxIndexedLabels + 1 + r.Intn(3)
		}
		if size > 0 {
			s.labels = map[string]string{}
		}
		for range size {
			s.labels[fmt.Sprintf("k%d", r.Intn(max(4, size+1)))] = fmt.Sprintf("v%d", r.Intn(2))
		}
		if r.Intn(5) == 0 {
			s.exprs = fmt.Sprintf("x in (%d)", r.Intn(2))
		}
		s.subject = fmt.Sprintf("%v %s", s.labels, s.exprs)
		out = append(out, s)
	}
	return out
}

// bruteCovered is what coverers answers, by comparing every pair.
func bruteCovered(s isolation, all []isolation, others bool) bool {
	for _, o := range all {
		if o.covers(s) && (!others || o.key() != s.key()) {
			return true
		}
	}
	return false
}

func TestCoverersAgreeWithEveryPair(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for round := range 200 {
		all, probes := randomIsolations(r, r.Intn(30)), randomIsolations(r, 20)
		c := newCoverers(all)
		for _, s := range append(probes, all...) {
			for _, others := range []bool{false, true} {
				if got, want := c.covered(s, others), bruteCovered(s, all, others); got != want {
					t.Fatalf("round %d: covered(%+v, others=%v) = %v, every pair says %v", round, s, others, got, want)
				}
			}
		}
	}
}

// BenchmarkIsolations5000 is the boundary summary's isolation part for
// 5,000 policies without a default deny: each isolates its own pods (go
// test -bench Isolations -benchmem ./plan; docs/benchmarks.md).
func BenchmarkIsolations5000(b *testing.B) {
	var objs []*unstructured.Unstructured
	for i := range 5000 {
		objs = append(objs, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": fmt.Sprintf("s%d", i), "namespace": "bench"},
			"spec": map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": fmt.Sprintf("s%d", i)}},
				"policyTypes": []any{"Egress"}}}})
	}
	for b.Loop() {
		all := isolations(objs, nil)
		isolationChanges(all, all)
	}
}
