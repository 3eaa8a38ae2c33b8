package reach

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// A namespaceSelector against a namespace whose labels are partly known:
// requirements on known keys decide, others are "maybe" and name the key.
func TestMatchNamespaceOpen(t *testing.T) {
	ns := nsInfo{labels: labels.Set{"team": "a", NamespaceNameLabel: "x"}, open: true}
	for _, c := range []struct {
		name string
		sel  *metav1.LabelSelector
		want tri
		keys []string
	}{
		{"empty selector", sel(), yes, nil},
		{"known key matches", sel("team", "a"), yes, nil},
		{"known key differs", sel("team", "b"), no, nil},
		{"unknown key", sel("env", "prod"), maybe, []string{"env"}},
		{"known differs beats unknown", sel("team", "b", "env", "prod"), no, nil},
		{"NotIn on an unknown key", exprSel("env", metav1.LabelSelectorOpNotIn, "prod"), maybe, []string{"env"}},
		{"DoesNotExist on a known key", exprSel("team", metav1.LabelSelectorOpDoesNotExist), no, nil},
		{"name label", sel(NamespaceNameLabel, "y"), no, nil},
	} {
		s, err := metav1.LabelSelectorAsSelector(c.sel)
		if err != nil {
			t.Fatal(err)
		}
		got, facts := matchNamespace(s, "x", ns)
		if got != c.want || (c.keys != nil && (len(facts) != 1 || facts[0].Keys[0] != c.keys[0])) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, facts, c.want, c.keys)
		}
	}
}

// Open facts make a verdict unknown only where no rule surely decides:
// another rule allowing, or a direction surely denying, wins.
func TestUnknownOnlyWhereUndecided(t *testing.T) {
	src := &Pod{Namespace: "x", Name: "src", IPsUnknown: true}
	dst := &Pod{Namespace: "y", Name: "dst", Labels: map[string]string{"app": "d"}, PortsOpen: true, IPsUnknown: true}
	nss := []Namespace{{Name: "x", Labels: map[string]string{NamespaceNameLabel: "x"}, Open: true}}
	byLabel := policy("y", "in", sel("app", "d"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(nsPeer(sel("team", "t"))))}, nil)
	byBlock := policy("y", "block", sel("app", "d"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(peers(ipPeer("10.0.0.0/8")))}, nil)
	byName := policy("y", "named", sel("app", "d"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{in(nil, portNamed("metrics"))}, nil)
	denyOut := policy("x", "deny", sel(), egressOnly, nil, nil)
	q := Port{Number: 9102, Protocol: corev1.ProtocolTCP}
	for _, c := range []struct {
		name       string
		pols       []networkingv1.NetworkPolicy
		allow, unk bool
		kinds      []FactKind
	}{
		{"namespace label unknown", []networkingv1.NetworkPolicy{byLabel}, false, true, []FactKind{FactNamespaceLabels}},
		{"pod IPs unknown", []networkingv1.NetworkPolicy{byBlock}, false, true, []FactKind{FactPodIPs}},
		{"port name unknown", []networkingv1.NetworkPolicy{byName}, false, true, []FactKind{FactPortName}},
		{"all three", []networkingv1.NetworkPolicy{byLabel, byBlock, byName}, false, true, []FactKind{FactPodIPs, FactNamespaceLabels, FactPortName}},
		{"egress surely denied", []networkingv1.NetworkPolicy{byLabel, denyOut}, false, false, nil},
	} {
		e, err := New(c.pols, nss, nil)
		if err != nil {
			t.Fatal(err)
		}
		v := e.Evaluate(PodPeer(src), PodPeer(dst), q)
		var kinds []FactKind
		for _, f := range v.Facts {
			kinds = append(kinds, f.Kind)
		}
		if v.Allowed != c.allow || v.Unknown != c.unk || len(kinds) != len(c.kinds) {
			t.Errorf("%s: allowed %v unknown %v facts %v; want %v %v %v", c.name, v.Allowed, v.Unknown, kinds, c.allow, c.unk, c.kinds)
			continue
		}
		for i := range kinds {
			if kinds[i] != c.kinds[i] {
				t.Errorf("%s: facts %v, want %v (policies in name order)", c.name, kinds, c.kinds)
				break
			}
		}
	}
}
