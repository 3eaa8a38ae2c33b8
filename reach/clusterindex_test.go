package reach

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// randClusterPolicies draws Admin and Baseline policies whose subjects
// select by namespace, or by namespace and pod labels (drawn as the
// differential worlds draw NetworkPolicy selectors), each with an egress
// rule to a network.
func randClusterPolicies(r *rand.Rand) []cnp.ClusterNetworkPolicy {
	var out []cnp.ClusterNetworkPolicy
	for i := range r.Intn(10) {
		subject := cnp.ClusterNetworkPolicySubject{Namespaces: randSelector(r)}
		if r.Intn(3) > 0 {
			subject = cnp.ClusterNetworkPolicySubject{Pods: &cnp.NamespacedPod{NamespaceSelector: *randSelector(r), PodSelector: *randSelector(r)}}
		}
		tier, action := cnp.AdminTier, cnp.ClusterNetworkPolicyRuleActionDeny
		if r.Intn(2) == 0 {
			tier, action = cnp.BaselineTier, cnp.ClusterNetworkPolicyRuleActionAccept
		}
		out = append(out, cnp.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", i)},
			Spec: cnp.ClusterNetworkPolicySpec{Tier: tier, Priority: int32(r.Intn(3)), Subject: subject,
				Egress: []cnp.ClusterNetworkPolicyEgressRule{{Action: action, To: []cnp.ClusterNetworkPolicyEgressPeer{{Networks: []cnp.CIDR{cnp.CIDR(randCIDRs[r.Intn(len(randCIDRs))])}}}}}}})
	}
	return out
}

// Looking cluster policies up by their subjects' pod selectors changes no
// step of any tier, for pods whose labels are known and pods whose labels
// are only partly known.
func TestClusterIndexKeepsSteps(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	compared := 0
	for n := range 1500 {
		w, e := openWorld(t, r, n)
		if err := e.AddClusterPolicies(randClusterPolicies(r)); err != nil {
			t.Fatalf("world %d: %v", n, err)
		}
		for _, subject := range w.pods {
			for _, other := range w.pods {
				for _, tier := range []Tier{TierAdmin, TierBaseline} {
					for _, dir := range []Direction{Ingress, Egress} {
						q := randQueries[r.Intn(len(randQueries))]
						index := e.clusterIndex
						e.clusterIndex = nil // every policy
						want := e.steps(tier, dir, subject, PodPeer(other), PodPeer(other), q)
						e.clusterIndex = index
						got := e.steps(tier, dir, subject, PodPeer(other), PodPeer(other), q)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("world %d: %s %s of %s/%s %v (open %v):\nindexed %+v\nevery policy %+v", n, tier, dir, subject.Namespace, subject.Name, subject.Labels, subject.LabelsOpen, got, want)
						}
						compared++
					}
				}
			}
		}
	}
	t.Logf("%d tier evaluations compared", compared)
}
