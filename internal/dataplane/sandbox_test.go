package dataplane

import (
	"context"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/perimeter-dev/perimeter/reach"
)

func TestMain(m *testing.M) {
	Main(m, tally.Report)
}

var (
	tcp8080 = Port{8080, corev1.ProtocolTCP}
	udp53   = Port{53, corev1.ProtocolUDP}
	tcp443  = Port{443, corev1.ProtocolTCP}
)

// TestDefaultDenyAndOneAllow: with ingress denied in a namespace and one
// allow from a to b on 8080/TCP, exactly that connection gets in; egress
// stays open. The probes are real packets through kube-router's rules.
func TestDefaultDenyAndOneAllow(t *testing.T) {
	sb := Get(t)
	sc := sb.Scene(context.Background())
	t.Cleanup(func() {
		if err := sc.Close(); err != nil {
			t.Error(err)
		}
	})
	must(t, sc.Namespace("demo", map[string]string{"team": "demo"}))
	listen := []Port{tcp8080, udp53, tcp443}
	a := mustPod(t, sc, PodSpec{Namespace: "demo", Name: "a", Labels: map[string]string{"app": "a"}, Listen: listen})
	b := mustPod(t, sc, PodSpec{Namespace: "demo", Name: "b", Labels: map[string]string{"app": "b"}, Listen: listen})
	h, err := sc.AddHost(netip.MustParseAddr("203.0.113.7"), listen)
	must(t, err)
	port := intstr.FromInt32(8080)
	must(t, sc.Apply([]networkingv1.NetworkPolicy{
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "deny"},
			Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "a-to-b"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "b"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				}},
			},
		},
	}))
	must(t, sc.Sync())
	pa, pb, ph := Endpoint{Pod: a}, Endpoint{Pod: b}, Endpoint{Host: h}
	want := map[Probe]bool{
		{pa, pb, tcp8080}: true,
		{pa, pb, udp53}:   false,
		{pb, pa, tcp8080}: false,
		{ph, pb, tcp8080}: false,
		{pb, ph, tcp443}:  true,
		{pa, ph, udp53}:   true,
	}
	var probes []Probe
	for p := range want {
		probes = append(probes, p)
	}
	for _, r := range sc.Probe(probes) {
		if r.Invalid != "" {
			t.Errorf("%s: %s", r.Probe, r.Invalid)
		} else if r.Open != want[r.Probe] {
			t.Errorf("%s: open=%v, want %v", r.Probe, r.Open, want[r.Probe])
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustPod(t *testing.T, sc *Scene, spec PodSpec) *Pod {
	t.Helper()
	p, err := sc.AddPod(spec)
	must(t, err)
	return p
}

// TestKubeRouterNamedPortDeviation shows the documented deviation
// (docs/dataplane.md): an ingress rule from pod a whose only port is a
// name that the selected pod b does not declare admits nothing by the
// API, and every port from a on kube-router v2.1.0. reach keeps the API's meaning; the Deviation's
// rewrite predicts kube-router's. When kube-router is fixed, this fails:
// then drop the deviation.
func TestKubeRouterNamedPortDeviation(t *testing.T) {
	sb := Get(t)
	sc := sb.Scene(context.Background())
	t.Cleanup(func() {
		if err := sc.Close(); err != nil {
			t.Error(err)
		}
	})
	must(t, sc.Namespace("named", nil))
	listen := []Port{tcp8080}
	a := mustPod(t, sc, PodSpec{Namespace: "named", Name: "a", Labels: map[string]string{"app": "a"}, Listen: listen})
	b := mustPod(t, sc, PodSpec{Namespace: "named", Name: "b", Labels: map[string]string{"app": "b"}, Listen: listen,
		ContainerPorts: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}})
	metrics, tcp := intstr.FromString("metrics"), corev1.ProtocolTCP
	must(t, sc.Apply([]networkingv1.NetworkPolicy{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "named", Name: "only-metrics"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "b"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &metrics, Protocol: &tcp}},
			}},
		},
	}}))
	must(t, sc.Sync())
	r := sc.Probe([]Probe{{From: Endpoint{Pod: a}, To: Endpoint{Pod: b}, Port: tcp8080}})[0]
	if r.Invalid != "" || !r.Open {
		t.Fatalf("%s: open=%v invalid=%q; kube-router no longer opens every port for an unresolved named port: remove the deviation", r.Probe, r.Open, r.Invalid)
	}
	// reach says denied; the deviation's rewrite says what kube-router did.
	ra := &reach.Pod{Namespace: "named", Name: "a", Labels: a.Spec.Labels, IPs: []netip.Addr{a.IP}}
	rb := &reach.Pod{Namespace: "named", Name: "b", Labels: b.Spec.Labels, IPs: []netip.Addr{b.IP}, Ports: []reach.NamedPort{{Name: "http", Port: 8080, Protocol: tcp}}}
	nss := []reach.Namespace{{Name: "named", Labels: map[string]string{reach.NamespaceNameLabel: "named"}}}
	pods := []*reach.Pod{ra, rb}
	q := reach.Port{Number: 8080, Protocol: tcp}
	e, err := reach.New(sc.policies, nss, pods)
	must(t, err)
	if e.Evaluate(reach.PodPeer(ra), reach.PodPeer(rb), q).Allowed {
		t.Error("reach allows the connection; the API says an unresolved named port admits nothing")
	}
	e, err = reach.New(Deviations[0].Rewrite(sc.policies, nss, pods), nss, pods)
	must(t, err)
	if !e.Evaluate(reach.PodPeer(ra), reach.PodPeer(rb), q).Allowed {
		t.Error("the deviation's rewrite does not predict what kube-router did")
	}
}
