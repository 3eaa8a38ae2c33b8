package reach

import (
	"math/rand"
	"net/netip"
	"reflect"
	"testing"
)

// The reference comparison, with every policy's rules looked up through
// the rule index however few they are.
func TestDifferentialWithRuleIndex(t *testing.T) {
	defer func(m int) { ruleIndexMin = m }(ruleIndexMin)
	ruleIndexMin = 0
	TestDifferential(t)
}

// Looking rules up by peer changes no verdict, for pods whose labels are
// known and pods whose labels are only partly known, in both directions.
func TestRuleIndexKeepsVerdicts(t *testing.T) {
	defer func(m int) { ruleIndexMin = m }(ruleIndexMin)
	r := rand.New(rand.NewSource(5))
	compared := 0
	for n := range 1500 {
		w, e := openWorld(t, r, n)
		others := []Peer{IPPeer(netip.MustParseAddr("10.0.0.1"))}
		for _, p := range w.pods {
			others = append(others, PodPeer(p))
		}
		for _, subject := range w.pods {
			for _, other := range others {
				for _, dir := range []Direction{Ingress, Egress} {
					for _, q := range randQueries {
						dst := other
						if dir == Ingress {
							dst = PodPeer(subject)
						}
						ruleIndexMin = 1 << 30
						want := e.direction(dir, subject, other, dst, q)
						ruleIndexMin = 0
						got := e.direction(dir, subject, other, dst, q)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("world %d: %s %s/%s with %+v port %v:\nindexed %+v\nall rules %+v", n, dir, subject.Namespace, subject.Name, other, q, got, want)
						}
						compared++
					}
				}
			}
		}
	}
	t.Logf("%d verdicts compared", compared)
}
