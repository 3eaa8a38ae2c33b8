package dataplane

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/examples"
	"github.com/perimeter-dev/perimeter/reach"
)

// tally counts every probe of this test binary; TestMain reports it.
var tally Tally

// TestExamplesOnPackets: for every example in every environment, every
// pair of its pods and hosts on every port behaves on real packets as
// reach says.
func TestExamplesOnPackets(t *testing.T) {
	sb := Get(t)
	cases, err := examples.Cases(filepath.Join("..", "..", "examples"), 3)
	must(t, err)
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			in, _, diags := hclspec.Load(c.Dir, hclspec.Options{Env: c.Env})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			probeIntent(t, sb, in, c.Name())
		})
	}
}

// probeIntent renders the intent, enacts its world, probes every pair and
// the check blocks, and compares each probe with reach.
func probeIntent(t *testing.T, sb *Sandbox, in *hclspec.Intent, name string) []Comparison {
	t.Helper()
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatalf("%s does not compile: %s", name, diags)
	}
	pols, err := reach.PoliciesOf(objs)
	must(t, err)
	wd, err := NewWorld(in, pols)
	must(t, err)
	for _, s := range wd.Skipped {
		t.Logf("%s: not probed: %s", name, s)
	}
	began := time.Now()
	sc := sb.Scene(context.Background())
	defer func() {
		if err := sc.Close(); err != nil {
			t.Error(err)
		}
	}()
	en, err := sc.Enact(wd)
	must(t, err)
	cs := settled(t, sc, en, sc.Compare(en, en.AllPairs()))
	checks, err := sc.Checks(en, in)
	must(t, err)
	for _, cr := range checks {
		cr.Comparisons = settled(t, sc, en, cr.Comparisons)
		cs = append(cs, cr.Comparisons...)
		if cr.OutsideSandbox() {
			t.Logf("%s: check %q not probed: %s", name, cr.Check.Label, cr.Unprobed)
			continue
		}
		if !cr.Passed() {
			t.Errorf("%s: check %q fails on packets: %s", name, cr.Check.Label, cr.Summary())
		}
	}
	tally.mu.Lock()
	tally.Intents++
	tally.mu.Unlock()
	open := 0
	for _, c := range cs {
		if c.Open {
			open++
		}
	}
	if open == 0 || open == len(cs) {
		t.Errorf("%s: %d of %d probes open: a world where everything (or nothing) connects tests nothing", name, open, len(cs))
	}
	documented := func(c Comparison) bool {
		if d := en.Deviated(c); d != "" {
			t.Logf("%s: %s: documented deviation: %s", name, c, d)
			return true
		}
		return false
	}
	for _, c := range tally.Add(cs, documented) {
		t.Errorf("%s: disagreement: %s\n%s", name, c, explainVerdict(c.Reach))
	}
	t.Logf("%s: %d pods, %d hosts, %d policies, %d probes (%d open) in %v", name, len(en.Pods), len(en.Hosts), len(pols), len(cs), open, time.Since(began).Round(time.Millisecond))
	return cs
}

func explainVerdict(v reach.Verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  egress: applies=%v isolated by %v, allowed by %v\n", v.Egress.Applies, v.Egress.IsolatedBy, v.Egress.AllowedBy)
	fmt.Fprintf(&b, "  ingress: applies=%v isolated by %v, allowed by %v", v.Ingress.Applies, v.Ingress.IsolatedBy, v.Ingress.AllowedBy)
	return b.String()
}

// settled probes the disagreements once more after another kube-router
// sync: what counts is the state kube-router settles in, and a loaded
// machine may deliver a change to kube-router's informers late. The first
// outcome is logged.
func settled(t *testing.T, sc *Scene, en *Enacted, cs []Comparison) []Comparison {
	var again []Probe
	var at []int
	for i, c := range cs {
		if !c.Agree() {
			again, at = append(again, c.Probe), append(at, i)
		}
	}
	if len(again) == 0 {
		return cs
	}
	must(t, sc.Sync())
	for k, c := range sc.Compare(en, again) {
		if c.Agree() {
			t.Logf("agreed only after another sync: %s", cs[at[k]])
		}
		cs[at[k]] = c
	}
	return cs
}
