package dataplane

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/perimeter-dev/perimeter/reach"
)

// TestNamedPortRewrite: the deviation's rewrite opens every port only for
// a rule's selector peers, and only when no pod of the rule has the name;
// the rule's ipBlock peers keep the (unresolved) named port.
func TestNamedPortRewrite(t *testing.T) {
	metrics, tcp := intstr.FromString("metrics"), corev1.ProtocolTCP
	rule := networkingv1.NetworkPolicyIngressRule{
		From: []networkingv1.NetworkPolicyPeer{
			{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}}},
			{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24"}},
		},
		Ports: []networkingv1.NetworkPolicyPort{{Port: &metrics, Protocol: &tcp}},
	}
	pol := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "n", Name: "p"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "b"}}, Ingress: []networkingv1.NetworkPolicyIngressRule{rule}}}
	nss := []reach.Namespace{{Name: "n", Labels: map[string]string{reach.NamespaceNameLabel: "n"}}}
	b := &reach.Pod{Namespace: "n", Name: "b", Labels: map[string]string{"app": "b"}}
	got := unresolvedNamedPortsOpen([]networkingv1.NetworkPolicy{pol}, nss, []*reach.Pod{b})[0].Spec.Ingress
	if len(got) != 2 || got[0].Ports != nil || len(got[0].From) != 1 || got[0].From[0].PodSelector == nil ||
		len(got[1].Ports) != 1 || got[1].From[0].IPBlock == nil {
		t.Fatalf("unresolved: %+v", got)
	}
	b.Ports = []reach.NamedPort{{Name: "metrics", Port: 9100, Protocol: tcp}}
	got = unresolvedNamedPortsOpen([]networkingv1.NetworkPolicy{pol}, nss, []*reach.Pod{b})[0].Spec.Ingress
	if len(got) != 1 || len(got[0].Ports) != 1 {
		t.Fatalf("resolved: the rule must stay as written: %+v", got)
	}
}
