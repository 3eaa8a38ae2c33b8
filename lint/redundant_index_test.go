package lint

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/perimeter-dev/perimeter/reach"
)

// redundantEveryPair is redundantIn comparing each rule with every other,
// in order: what the indexes must not change.
func redundantEveryPair(rules []ruleRef, ranges map[string]hcl.Range, report func(a, b *policy) bool) []Finding {
	var out []Finding
	for i, a := range rules {
		for j, b := range rules {
			if i == j || !covers(b, a) || (covers(a, b) && j > i) || !report(a.p, b.p) {
				continue
			}
			out = append(out, redundantFinding(a, b, ranges))
			break
		}
	}
	return out
}

// randomRules draws egress rules of a few policies from small pools of
// selectors, peers (pods, namespaces, nested and plain ipBlocks) and
// ports, so that rules covering each other are common.
func randomRules(r *rand.Rand) []ruleRef {
	selectors := []metav1.LabelSelector{{}, {MatchLabels: map[string]string{"app": "a"}},
		{MatchLabels: map[string]string{"app": "a", "tier": "x"}}, {MatchLabels: map[string]string{"app": "b"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}}
	peers := []networkingv1.NetworkPolicyPeer{
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}},
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}}},
		{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "10.1.0.0/16"}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "10.1.2.0/24"}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.9.0.0/16"}}},
	}
	var rules []ruleRef
	for p := range 1 + r.Intn(4) {
		np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("p%d", p)},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: selectors[r.Intn(len(selectors))]}}
		obj := &unstructured.Unstructured{}
		obj.SetNamespace("ns")
		obj.SetName(np.Name)
		pol := &policy{obj: obj, np: np}
		for i := range r.Intn(8) {
			var to []networkingv1.NetworkPolicyPeer
			for range r.Intn(3) {
				to = append(to, peers[r.Intn(len(peers))])
			}
			var ports []networkingv1.NetworkPolicyPort
			if r.Intn(2) == 0 {
				port := intstr.FromInt32(int32(80 + r.Intn(2)))
				ports = append(ports, networkingv1.NetworkPolicyPort{Port: &port})
			}
			rules = append(rules, ruleRef{pol, reach.Egress, i, to, ports})
		}
	}
	return rules
}

func TestRedundantIndexesChangeNothing(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	all := func(a, b *policy) bool { return true }
	found := 0
	for n := range 3000 {
		rules := randomRules(r)
		got, want := redundantIn(rules, nil, all), redundantEveryPair(rules, nil, all)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: indexed %v\nevery pair %v", n, got, want)
		}
		found += len(want)
	}
	if found < 1000 {
		t.Fatalf("only %d redundant rules in 3,000 cases: the cases do not exercise covering", found)
	}
}
