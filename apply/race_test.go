package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// Two stacks creating the same object at the same moment: a create fails
// when the object appeared after the plan was made, naming its owner, and
// nothing is written to it. One appears as another stack's (written by
// field manager perimeter too, so a plain server-side apply would merge
// into it and take it over), one with no labels at all.
func TestCreateFailsWhenObjectAppeared(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	p := s.plan()
	desired := func(name string) *unstructured.Unstructured {
		for _, c := range p.Changes {
			if c.Kind == "NetworkPolicy" && c.Name == name && c.Action == plan.Create {
				return c.DesiredObject().DeepCopy()
			}
		}
		t.Fatalf("no create of NetworkPolicy %s in the plan", name)
		return nil
	}
	rival := desired("users-pays-egress")
	rival.SetLabels(ownership.MemberLabels("rival", "default"))
	if _, err := s.client.ServerSideApply(context.Background(), rival, false); err != nil {
		t.Fatal(err)
	}
	bare := desired("default-deny")
	bare.SetLabels(nil)
	bare.SetAnnotations(nil)
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Create(context.Background(), bare, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, n := range []string{"users-pays-egress", "default-deny"} {
		before[n] = s.netpol(n).GetResourceVersion()
	}

	r := s.apply(p, s.client, apply.Options{})
	errs := map[string]string{}
	for _, res := range r.Results {
		if res.Error != "" {
			errs[res.Object] = res.Error
		}
	}
	if r.Failed != 2 || len(errs) != 2 {
		t.Fatalf("apply: %d failed, want 2: %+v", r.Failed, r.Results)
	}
	want := map[string]string{
		"NetworkPolicy " + s.ns + "/users-pays-egress": `it appeared after the plan was made and belongs to stack "rival" (field managers: perimeter)`,
		"NetworkPolicy " + s.ns + "/default-deny":      "it appeared after the plan was made and is not managed by perimeter: written by kubectl-create",
	}
	for obj, msg := range want {
		if !strings.Contains(errs[obj], msg) || !strings.Contains(errs[obj], "nothing was written to it") {
			t.Errorf("%s: error %q, want it to say %q", obj, errs[obj], msg)
		}
	}
	for n, rv := range before {
		if got := s.netpol(n); got.GetResourceVersion() != rv {
			t.Errorf("NetworkPolicy %s was written (resourceVersion %s -> %s, labels %v)", n, rv, got.GetResourceVersion(), got.GetLabels())
		}
	}
	if got := s.netpol("users-pays-egress").GetLabels()[ownership.LabelStack]; got != "rival" {
		t.Errorf("the rival's policy now belongs to stack %q", got)
	}
	if r.Added != len(p.Changes)-2 {
		t.Errorf("%d created, want the other %d", r.Added, len(p.Changes)-2)
	}
}

// A run whose lock is lost sends nothing more: not even the parent.
func TestLostLockStopsWrites(t *testing.T) {
	s := newStack(t)
	s.write("")
	p := s.plan()
	lost := errors.New("lost the lock of stack (test)")
	_, err := apply.Run(context.Background(), s.client, p, apply.Options{KindOrder: generate.Kinds, Guard: func() error { return lost }})
	if err == nil || !strings.Contains(err.Error(), "lost the lock") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("apply with the lock lost: %v", err)
	}
	if s.netpol("default-deny") != nil {
		t.Error("a policy was written after the lock was lost")
	}
}

// A plan made before another environment was applied (a saved plan that
// nothing else made stale) is refused at apply, before any write.
func TestApplyRefusesAnotherEnvironment(t *testing.T) {
	s := newStack(t)
	s.write("")
	prod, staging := s.plan(), s.plan()
	prod.Environment, staging.Environment = "prod", "staging"
	if r := s.apply(prod, s.client, apply.Options{}); r.Failed != 0 {
		t.Fatalf("apply prod: %+v", r.Results)
	}
	_, err := apply.Run(context.Background(), s.client, staging, apply.Options{KindOrder: generate.Kinds})
	if err == nil || !strings.Contains(err.Error(), `last applied to this cluster with environment "prod"`) ||
		!strings.Contains(err.Error(), `this is environment "staging"`) || !strings.Contains(err.Error(), "Nothing was changed") {
		t.Fatalf("apply staging over prod: %v", err)
	}
	parent, err := s.dyn.Resource(cmGVR).Namespace("default").Get(context.Background(), ownership.ParentName(s.name), metav1.GetOptions{})
	if err != nil || parent.GetAnnotations()[ownership.AnnotationEnvironment] != "prod" {
		t.Fatalf("parent after the refusal: %v %v", parent.GetAnnotations(), err)
	}
	staging.SwitchEnvironment = true
	if _, err := apply.Run(context.Background(), s.client, staging, apply.Options{KindOrder: generate.Kinds}); err != nil {
		t.Fatalf("a plan made with --switch-environment: %v", err)
	}
}
