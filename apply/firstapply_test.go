package apply_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/plan"
)

// invalidPolicy is an object the compiler would never emit but the API
// server rejects (a label key with a space): it stands for what only the
// server knows to refuse (admission, a newer validation).
func invalidPolicy(s *stack, req plan.Request) *unstructured.Unstructured {
	obj := req.Desired[len(req.Desired)-1].DeepCopy()
	obj.SetName("invalid")
	if err := unstructured.SetNestedStringMap(obj.Object, map[string]string{"bad key": "x"}, "spec", "podSelector", "matchLabels"); err != nil {
		s.t.Fatal(err)
	}
	return obj
}

// A first apply carried out at once sends each object once, and is all or
// nothing: a rejected object undoes the creates that went before it. A
// saved plan (no ValidateByWrite) still has every object dry-run, and so
// does a stack that already has members.
func TestFirstApplyValidatedByWrite(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	ctx := context.Background()
	req := s.request(false)
	req.Desired = append(req.Desired, invalidPolicy(s, req))

	if _, err := plan.Make(ctx, s.client, req); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("a plan that may be saved must have every object validated; got %v", err)
	}
	req.ValidateByWrite = true
	p, err := plan.Make(ctx, s.client, req)
	if err != nil {
		t.Fatal(err)
	}
	if !p.CreatesUnvalidated {
		t.Fatal("a first apply carried out at once should skip the dry-runs")
	}
	r := s.apply(p, s.client, apply.Options{})
	if r.Added != 0 || r.Failed != len(p.Changes) {
		t.Fatalf("want every create failed or undone: %+v", r)
	}
	for _, res := range r.Results {
		if res.Object != "NetworkPolicy "+s.ns+"/invalid" && !strings.Contains(res.Error, "deleted again") && !strings.HasPrefix(res.Error, "not sent") {
			t.Errorf("%s: %q", res.Object, res.Error)
		}
	}
	left, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(left.Items) != 0 {
		t.Fatalf("the rejected first apply left %d policies (%v)", len(left.Items), err)
	}
	routes, err := s.dyn.Resource(routeGVR).Namespace(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(routes.Items) != 0 {
		t.Fatalf("the rejected first apply left %d routes (%v)", len(routes.Items), err)
	}

	// the intent fixed, the same request pattern applies everything
	good := s.request(false)
	good.ValidateByWrite = true
	p, err = plan.Make(ctx, s.client, good)
	if err != nil || !p.CreatesUnvalidated {
		t.Fatalf("plan after the undone apply: %v, unvalidated %v", err, p != nil && p.CreatesUnvalidated)
	}
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Added != len(p.Changes) {
		t.Fatalf("first apply: %+v", r)
	}
	if s.plan().HasChanges() {
		t.Fatal("not converged")
	}

	// members exist now: a new object is dry-run again, even with ValidateByWrite
	req = s.request(false)
	req.Desired = append(req.Desired, invalidPolicy(s, req))
	req.ValidateByWrite = true
	if _, err := plan.Make(ctx, s.client, req); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("a stack with members must have its creates dry-run; got %v", err)
	}
}

// A field the installed schema does not declare (what a newer perimeter
// would send to a cluster with an older CRD) is refused by the field
// manager with a 500, not a 400: a first apply validated by its writes
// undoes itself all the same.
func TestFirstApplyUnknownFieldUndone(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	ctx := context.Background()
	req := s.request(false)
	unknown := req.Desired[len(req.Desired)-1].DeepCopy()
	unknown.SetName("unknown-field")
	if err := unstructured.SetNestedField(unknown.Object, true, "spec", "noSuchField"); err != nil {
		t.Fatal(err)
	}
	req.Desired = append(req.Desired, unknown)
	req.ValidateByWrite = true
	p, err := plan.Make(ctx, s.client, req)
	if err != nil || !p.CreatesUnvalidated {
		t.Fatalf("plan: %v", err)
	}
	r := s.apply(p, s.client, apply.Options{})
	if r.Added != 0 || r.Failed != len(p.Changes) {
		t.Fatalf("want every create failed or undone: %+v", r)
	}
	left, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(left.Items) != 0 {
		t.Fatalf("the refused first apply left %d policies (%v)", len(left.Items), err)
	}
}
