package reach

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// The domain name examples of the API's DomainName documentation.
func TestMatchDomain(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"kubernetes.io", "kubernetes.io", true},
		{"kubernetes.io", "www.kubernetes.io", false},
		{"kubernetes.io", "my-kubernetes.io", false},
		{"blog.kubernetes.io", "kubernetes.io", false},
		{"*.kubernetes.io", "www.kubernetes.io", true},
		{"*.kubernetes.io", "latest.blog.kubernetes.io", true},
		{"*.kubernetes.io", "kubernetes.io", false},
		{"*.kubernetes.io", "wikipedia.org", false},
		{"*.kubernetes.io", "evilkubernetes.io", false},
		{"API.Stripe.com.", "api.stripe.com", true},
	} {
		if got := MatchDomain(tc.pattern, tc.name); got != tc.want {
			t.Errorf("MatchDomain(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

// A rule whose match is unknown makes the verdict unknown only where the
// two ways it could go differ: an unknown Deny followed by a Deny of
// everything is still denied; followed by nothing it is unknown.
func TestTierUnknownOnlyWhereItMatters(t *testing.T) {
	pod := &Pod{Namespace: "a", Name: "p", IPsUnknown: true}
	deny := func(nets ...string) cnp.ClusterNetworkPolicyEgressRule {
		var ns []cnp.CIDR
		for _, n := range nets {
			ns = append(ns, cnp.CIDR(n))
		}
		return cnp.ClusterNetworkPolicyEgressRule{Action: cnp.ClusterNetworkPolicyRuleActionDeny, To: []cnp.ClusterNetworkPolicyEgressPeer{{Networks: ns}}}
	}
	policy := func(rules ...cnp.ClusterNetworkPolicyEgressRule) cnp.ClusterNetworkPolicy {
		return cnp.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "g"}, Spec: cnp.ClusterNetworkPolicySpec{
			Tier: cnp.AdminTier, Subject: cnp.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}}, Egress: rules}}
	}
	other := &Pod{Namespace: "b", Name: "q", IPsUnknown: true}
	port := Port{Number: 80, Protocol: corev1.ProtocolTCP}
	for _, tc := range []struct {
		name          string
		p             cnp.ClusterNetworkPolicy
		to            Peer
		allow, unsure bool
	}{
		{"unknown deny alone", policy(deny("10.0.0.0/8")), PodPeer(other), false, true},
		{"unknown deny, then deny all", policy(deny("10.0.0.0/8"), deny("0.0.0.0/0", "::/0")), PodPeer(other), false, false},
		{"link-local never holds a pod", policy(deny("169.254.0.0/16")), PodPeer(other), true, false},
		{"an address outside", policy(deny("10.0.0.0/8")), IPPeer(netip.MustParseAddr("8.8.8.8")), true, false},
		{"a name and every address", policy(deny("0.0.0.0/0", "::/0")), NamePeer("api.stripe.com"), false, false},
	} {
		e, err := New(nil, nil, []*Pod{pod, other})
		if err == nil {
			err = e.AddClusterPolicies([]cnp.ClusterNetworkPolicy{tc.p})
		}
		if err != nil {
			t.Fatal(err)
		}
		v := e.Evaluate(PodPeer(pod), tc.to, port)
		if v.Allowed != tc.allow || v.Unknown != tc.unsure {
			t.Errorf("%s: allowed %v unknown %v, want %v %v (%+v)", tc.name, v.Allowed, v.Unknown, tc.allow, tc.unsure, v.Egress.Tiers)
		}
	}
}

// TestHasTierAction: an engine reports the tiers and actions of its
// ClusterNetworkPolicies' rules, ingress and egress alike.
func TestHasTierAction(t *testing.T) {
	e, err := New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.HasTierAction(TierAdmin, "Deny") {
		t.Error("an engine without cluster policies has an Admin Deny")
	}
	admin := cnp.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: cnp.ClusterNetworkPolicySpec{
		Tier: cnp.AdminTier, Priority: 1, Subject: cnp.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
		Ingress: []cnp.ClusterNetworkPolicyIngressRule{{Action: cnp.ClusterNetworkPolicyRuleActionPass,
			From: []cnp.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}}},
	}}
	baseline := cnp.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: cnp.ClusterNetworkPolicySpec{
		Tier: cnp.BaselineTier, Priority: 1, Subject: cnp.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
		Egress: []cnp.ClusterNetworkPolicyEgressRule{{Action: cnp.ClusterNetworkPolicyRuleActionDeny,
			To: []cnp.ClusterNetworkPolicyEgressPeer{{Namespaces: &metav1.LabelSelector{}}}}},
	}}
	if err := e.AddClusterPolicies([]cnp.ClusterNetworkPolicy{admin, baseline}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tier   Tier
		action string
		want   bool
	}{{TierAdmin, "Pass", true}, {TierAdmin, "Deny", false}, {TierBaseline, "Deny", true}, {TierBaseline, "Pass", false}} {
		if got := e.HasTierAction(c.tier, c.action); got != c.want {
			t.Errorf("HasTierAction(%s, %s) = %v, want %v", c.tier, c.action, got, c.want)
		}
	}
}
