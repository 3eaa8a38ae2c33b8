package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/perimeter-dev/perimeter/internal/apivalidation"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/manifest"
)

// TestPolicyValidationAgreesWithAPIServer checks internal/apivalidation,
// which validate and import use to refuse NetworkPolicies before apply,
// against a real kube-apiserver: for the hand-written catalogue of
// internal/apivalidation/testdata and for 400 random policies, each
// created with dry-run, the server refuses exactly the policies the
// validator refuses, at the same fields.
func TestPolicyValidationAgreesWithAPIServer(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	b, err := os.ReadFile("../internal/apivalidation/testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var policies []*netv1.NetworkPolicy
	for _, u := range objs {
		p := &netv1.NetworkPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
			t.Fatal(err)
		}
		policies = append(policies, p)
	}
	rng := rand.New(rand.NewPCG(13, 2026))
	for i := range 400 {
		policies = append(policies, randomPolicy(rng, fmt.Sprintf("random-%d", i)))
	}
	refused := 0
	for _, p := range policies {
		p.Namespace = ns
		ours := apivalidation.Fields(apivalidation.NetworkPolicy(p))
		_, err := cs.NetworkingV1().NetworkPolicies(ns).Create(context.Background(), p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		var theirs []string
		if err != nil {
			var status *apierrors.StatusError
			if !errors.As(err, &status) || !apierrors.IsInvalid(err) || status.ErrStatus.Details == nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			for _, cause := range status.ErrStatus.Details.Causes {
				if !slices.Contains(theirs, cause.Field) {
					theirs = append(theirs, cause.Field)
				}
			}
			refused++
		}
		slices.Sort(ours)
		slices.Sort(theirs)
		if !slices.Equal(ours, theirs) {
			t.Errorf("%s: the API server refuses %q, the validator %q\nserver: %v\nvalidator: %v\npolicy: %+v",
				p.Name, theirs, ours, err, apivalidation.NetworkPolicy(p), p.Spec)
		}
	}
	t.Logf("the server and the validator agree on %d policies, %d of them refused", len(policies), refused)
	if refused < 100 || refused > len(policies)-100 {
		t.Errorf("the server refused %d of %d policies; the random ones should mix valid and invalid", refused, len(policies))
	}
}

// randomPolicy draws each field from values the server accepts and values
// it refuses, near the edges of each rule.
func randomPolicy(rng *rand.Rand, name string) *netv1.NetworkPolicy {
	// mostly valid values, so that about half the policies are valid
	choose := func(valid, invalid []string) string {
		if rng.IntN(40) == 0 {
			return invalid[rng.IntN(len(invalid))]
		}
		return valid[rng.IntN(len(valid))]
	}
	v := func(s ...string) []string { return s }
	selector := func() *metav1.LabelSelector {
		s := &metav1.LabelSelector{}
		if rng.IntN(2) == 0 {
			s.MatchLabels = map[string]string{choose(v("app", "example.com/team"), v("bad key", "-x", "a/b/c")): choose(v("web", "", "x_y.z"), v("bad value!"))}
		}
		if rng.IntN(3) == 0 {
			var values []string
			for range rng.IntN(3) {
				values = append(values, choose(v("a", "b-c", ""), v("bad value!")))
			}
			s.MatchExpressions = []metav1.LabelSelectorRequirement{{
				Key: choose(v("tier", "example.com/x"), v("bad key")), Operator: metav1.LabelSelectorOperator(choose(v("In", "NotIn", "Exists", "DoesNotExist"), v("Equals"))), Values: values}}
			if op := s.MatchExpressions[0].Operator; rng.IntN(6) > 0 && (op == "Exists" || op == "DoesNotExist") {
				s.MatchExpressions[0].Values = nil
			} else if rng.IntN(6) > 0 && len(values) == 0 {
				s.MatchExpressions[0].Values = []string{"a"}
			}
		}
		return s
	}
	ipBlock := func() *netv1.IPBlock {
		b := &netv1.IPBlock{CIDR: choose(v("10.0.0.0/8", "10.0.0.0/16", "0.0.0.0/0", "2001:db8::/32", "2001:DB8::/32"), v("999.0.0.0/99", "10.0.0.1/8", "::ffff:10.0.0.0/104", "010.0.0.0/8", "", "10.0.0.0"))}
		inside := v("10.0.1.0/24", "10.0.0.0/24")
		if len(b.CIDR) > 4 && b.CIDR[4] == ':' {
			inside = v("2001:db8:1::/48", "2001:DB8:2::/64")
		}
		for range rng.IntN(3) {
			b.Except = append(b.Except, choose(inside, v("10.0.0.0/8", "10.0.0.1/24", "192.168.0.0/16", "2001:db8:1::/48", "nonsense")))
		}
		return b
	}
	peer := func() netv1.NetworkPolicyPeer {
		var p netv1.NetworkPolicyPeer
		switch rng.IntN(24) {
		case 0:
			p.PodSelector = selector()
		case 1:
			p.NamespaceSelector = selector()
		case 2:
			p.PodSelector, p.NamespaceSelector = selector(), selector()
		case 3: // no peer: refused
		case 4: // ipBlock and another: refused
			p.IPBlock, p.PodSelector = ipBlock(), selector()
		default:
			p.IPBlock = ipBlock()
		}
		return p
	}
	port := func() netv1.NetworkPolicyPort {
		var p netv1.NetworkPolicyPort
		if rng.IntN(3) > 0 {
			p.Protocol = ptr.To(corev1.Protocol(choose(v("TCP", "UDP", "SCTP"), v("FOO", "tcp"))))
		}
		switch rng.IntN(4) {
		case 0:
		case 1:
			p.Port = ptr.To(intstr.FromString(choose(v("http", "dns-tcp"), v("HTTP", "70000", "-web", "a-very-long-port-name"))))
		default:
			p.Port = ptr.To(intstr.Parse(choose(v("1", "80", "443", "8080", "65535"), v("0", "-1", "65536", "70000"))))
		}
		if rng.IntN(4) == 0 {
			end := int32(65535)
			if p.Port != nil && p.Port.Type == intstr.Int {
				end = min(p.Port.IntVal+int32(rng.IntN(100)), 65535)
			}
			if rng.IntN(8) == 0 {
				end = []int32{0, 1, 65536}[rng.IntN(3)]
			}
			p.EndPort = &end
		}
		return p
	}
	spec := netv1.NetworkPolicySpec{PodSelector: *selector()}
	for range rng.IntN(3) {
		r := netv1.NetworkPolicyIngressRule{}
		for range rng.IntN(3) {
			r.From = append(r.From, peer())
		}
		for range rng.IntN(3) {
			r.Ports = append(r.Ports, port())
		}
		spec.Ingress = append(spec.Ingress, r)
	}
	for range rng.IntN(3) {
		r := netv1.NetworkPolicyEgressRule{}
		for range rng.IntN(3) {
			r.To = append(r.To, peer())
		}
		for range rng.IntN(3) {
			r.Ports = append(r.Ports, port())
		}
		spec.Egress = append(spec.Egress, r)
	}
	for range rng.IntN(4) {
		spec.PolicyTypes = append(spec.PolicyTypes, netv1.PolicyType(choose(v("Ingress", "Egress"), v("ingress", "Both"))))
	}
	return &netv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}
