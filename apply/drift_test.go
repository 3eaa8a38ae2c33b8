package apply_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/plan"
)

// These tests run against the real control plane: what another field
// manager adds to the spec of an owned object changes the boundary, so it
// is drift, named by manager, and apply removes it.

// change returns the plan's change for a named object, failing without one.
func change(t *testing.T, p *plan.Plan, name string) plan.Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no change for %s in %v", name, actions(p))
	return plan.Change{}
}

// applyAs writes a server-side apply patch to a NetworkPolicy as another
// field manager.
func (s *stack) applyAs(manager, name, body string) { s.applyTo(netpolGVR, manager, name, body) }

// applyTo writes a server-side apply patch as another field manager.
func (s *stack) applyTo(gvr schema.GroupVersionResource, manager, name, body string) {
	s.t.Helper()
	if _, err := s.dyn.Resource(gvr).Namespace(s.ns).Patch(context.Background(), name, types.ApplyPatchType, []byte(body),
		metav1.PatchOptions{FieldManager: manager}); err != nil {
		s.t.Fatal(err)
	}
}

// patchAs writes a JSON patch (an Update operation) as another manager.
func (s *stack) patchAs(manager, name, patch string) {
	s.t.Helper()
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Patch(context.Background(), name, types.JSONPatchType, []byte(patch),
		metav1.PatchOptions{FieldManager: manager}); err != nil {
		s.t.Fatal(err)
	}
}

// An ingress rule another manager adds to the default-deny policy (a field
// perimeter never sets: server-side apply leaves it) opens the namespace:
// the plan shows it with the manager, apply removes it without force, the
// manager's labels and annotations stay, and the next plan is empty.
// Server defaults belong to no manager and never show, even inside a field
// another manager co-owns with perimeter's value (the route's parentRefs,
// whose group and kind the server defaults).
func TestForeignRuleIsDriftAndRemoved(t *testing.T) {
	s := newStack(t)
	s.write("")
	s.apply(s.plan(), s.client, apply.Options{})
	s.applyAs("someone", "default-deny", `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
		"metadata":{"name":"default-deny","labels":{"team":"x"},"annotations":{"note":"theirs"}},
		"spec":{"podSelector":{},"ingress":[{}]}}`)
	refs := s.defaultedParentRefs()
	s.applyTo(routeGVR, "someone", "api", `{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
		"metadata":{"name":"api"},"spec":{"parentRefs":`+refs+`}}`)

	p := s.plan()
	c := change(t, p, "default-deny")
	want := []plan.FieldChange{{Path: "spec.ingress", Before: []any{map[string]any{}}, Drift: true, Manager: "someone"}}
	if c.Action != plan.Update || c.Conflict != "" || !reflect.DeepEqual(c.Fields, want) {
		t.Fatalf("default-deny: action %s, conflict %q, fields %+v; want an update removing spec.ingress by someone", c.Action, c.Conflict, c.Fields)
	}
	if !reflect.DeepEqual(c.Removals, []string{"/spec/ingress"}) {
		t.Errorf("removals %v, want [/spec/ingress]", c.Removals)
	}
	if _, ok := c.After["spec"].(map[string]any)["ingress"]; ok {
		t.Errorf("the planned object still has the foreign rule: %v", c.After["spec"])
	}
	for _, o := range p.Changes {
		if o.Name != "default-deny" && o.Action != plan.NoOp {
			t.Errorf("%s: %s, want no-op", o.ID(), o.Action)
		}
	}

	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Changed != 1 {
		t.Fatalf("apply: %+v", r)
	}
	live := s.netpol("default-deny")
	if _, found, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "ingress"); found {
		t.Errorf("the foreign rule is still there: %v", live.Object["spec"])
	}
	if live.GetLabels()["team"] != "x" || live.GetAnnotations()["note"] != "theirs" {
		t.Errorf("another manager's label or annotation was touched: %v %v", live.GetLabels(), live.GetAnnotations())
	}
	if again := s.plan(); again.HasChanges() {
		t.Fatalf("not converged: %+v", change(t, again, "default-deny"))
	}
	// perimeter's next apply of a changed intent is conflict-free
	s.write(usersEgress)
	if r := s.apply(s.plan(), s.client, apply.Options{}); r.Failed != 0 {
		t.Fatalf("later apply: %+v", r)
	}
}

// A key another manager adds to a pod selector (an atomic field in
// NetworkPolicy: that manager now owns the whole selector) is drift named
// by the manager, and apply takes the selector back without
// --force-conflicts: a forced apply of exactly that object, at the
// resourceVersion the plan read. The editor's labels stay.
func TestForeignSelectorKeyIsDrift(t *testing.T) {
	s := newStack(t)
	s.write("")
	s.apply(s.plan(), s.client, apply.Options{})
	s.patchAs("editor", "users-from-gateway-public", `[{"op":"add","path":"/spec/podSelector/matchLabels/tier","value":"x"},
		{"op":"add","path":"/metadata/labels/team","value":"x"}]`)

	p := s.plan()
	c := change(t, p, "users-from-gateway-public")
	want := []plan.FieldChange{{Path: "spec.podSelector.matchLabels.tier", Before: "x", Drift: true, Manager: "editor"}}
	if c.Action != plan.Update || !strings.Contains(c.Conflict, "editor") || !reflect.DeepEqual(c.Fields, want) || !c.RepairsDrift() {
		t.Fatalf("selector: action %s, conflict %q, fields %+v", c.Action, c.Conflict, c.Fields)
	}
	if len(c.Removals) != 0 {
		t.Errorf("removals %v: the field is perimeter's too, apply takes it back", c.Removals)
	}
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Changed != 1 {
		t.Fatalf("apply without force: %+v", r)
	}
	live := s.netpol("users-from-gateway-public")
	if _, found, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "podSelector", "matchLabels", "tier"); found {
		t.Error("the foreign selector key is still there")
	}
	if live.GetLabels()["team"] != "x" {
		t.Errorf("the editor's label was touched: %v", live.GetLabels())
	}
	if again := s.plan(); again.HasChanges() {
		t.Fatalf("not converged: %+v", change(t, again, "users-from-gateway-public"))
	}
}

// Taking back a field is done only on the object the plan read: when it
// changed since (even only an annotation), nothing is written.
func TestDriftRetakeNeedsTheReadVersion(t *testing.T) {
	s := newStack(t)
	s.write("")
	s.apply(s.plan(), s.client, apply.Options{})
	s.patchAs("editor", "users-from-gateway-public", `[{"op":"add","path":"/spec/podSelector/matchLabels/tier","value":"x"}]`)
	p := s.plan()
	if c := change(t, p, "users-from-gateway-public"); !c.RepairsDrift() {
		t.Fatalf("the plan does not repair the drift: %+v", c)
	}
	s.patchAs("other", "users-from-gateway-public", `[{"op":"add","path":"/metadata/annotations/touched","value":"yes"}]`)
	before := s.netpol("users-from-gateway-public").GetResourceVersion()
	r := s.apply(p, s.client, apply.Options{})
	if r.Failed != 1 || !strings.Contains(r.Results[0].Error, "changed since the plan was made") ||
		!strings.Contains(r.Results[0].Error, "spec.podSelector.matchLabels.tier") || !strings.Contains(r.Results[0].Error, "run plan again") {
		t.Fatalf("apply of a stale retake: %+v", r)
	}
	live := s.netpol("users-from-gateway-public")
	if _, found, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "podSelector", "matchLabels", "tier"); !found || live.GetResourceVersion() != before {
		t.Errorf("an object that changed since the plan was written (resourceVersion %s, was %s)", live.GetResourceVersion(), before)
	}
}

// A conflict the plan did not show as drift (another manager took over a
// field after the plan was made) is not forced: apply fails on that
// object, naming the manager, and hints at --force-conflicts.
func TestConflictWithoutDriftIsNotForced(t *testing.T) {
	s := newStack(t)
	s.write("")
	s.apply(s.plan(), s.client, apply.Options{})
	p := s.plan()
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Name == "users-from-gateway-public" {
			// as if the intent changed the object: an update without drift
			c.Action = plan.Update
			c.Fields = []plan.FieldChange{{Path: `metadata.annotations["note"]`, After: "new"}}
			unstructured.SetNestedField(c.Desired, "new", "metadata", "annotations", "note")
		}
	}
	s.patchAs("editor", "users-from-gateway-public", `[{"op":"add","path":"/spec/podSelector/matchLabels/tier","value":"x"}]`)
	r := s.apply(p, s.client, apply.Options{})
	if r.Failed != 1 || !strings.Contains(r.Results[0].Error, "editor") || !strings.Contains(r.Results[0].Error, "--force-conflicts") {
		t.Fatalf("apply over an unplanned conflict: %+v", r)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(s.netpol("users-from-gateway-public").Object, "spec", "podSelector", "matchLabels", "tier"); !found {
		t.Error("a conflict the plan did not show was forced")
	}
}

// A removal is made only on the object the plan read: when the object
// changed since, nothing is removed or applied.
func TestDriftRemovalNeedsTheReadVersion(t *testing.T) {
	s := newStack(t)
	s.write("")
	s.apply(s.plan(), s.client, apply.Options{})
	s.applyAs("someone", "default-deny", `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
		"metadata":{"name":"default-deny"},"spec":{"podSelector":{},"ingress":[{}]}}`)
	p := s.plan()
	s.patchAs("other", "default-deny", `[{"op":"add","path":"/metadata/annotations/touched","value":"yes"}]`)
	r := s.apply(p, s.client, apply.Options{})
	if r.Failed != 1 || !strings.Contains(r.Results[0].Error, "changed since the plan was made") {
		t.Fatalf("apply of a stale removal: %+v", r)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(s.netpol("default-deny").Object, "spec", "ingress"); !found {
		t.Error("the rule was removed from an object that changed since the plan")
	}
}

// defaultedParentRefs returns the route's parentRefs as JSON, checking
// that they carry a server default perimeter does not send (kind).
func (s *stack) defaultedParentRefs() string {
	s.t.Helper()
	route, err := s.dyn.Resource(routeGVR).Namespace(s.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	refs, _, _ := unstructured.NestedSlice(route.Object, "spec", "parentRefs")
	if len(refs) != 1 || refs[0].(map[string]any)["kind"] != "Gateway" {
		s.t.Fatalf("the route's parentRefs carry no server default: %v", refs)
	}
	b, err := json.Marshal(refs)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// Drift of both kinds on one object: a rule added (removed by a patch at
// the version read) and a selector taken over (taken back by a forced
// apply at the version the patch left). One apply repairs both.
func TestBothKindsOfDriftOnOneObject(t *testing.T) {
	s := newStack(t)
	s.write("")
	s.apply(s.plan(), s.client, apply.Options{})
	s.patchAs("editor", "users-from-gateway-public", `[{"op":"add","path":"/spec/podSelector/matchLabels/tier","value":"x"},
		{"op":"add","path":"/spec/egress","value":[{}]}]`)
	p := s.plan()
	c := change(t, p, "users-from-gateway-public")
	if !c.RepairsDrift() || !reflect.DeepEqual(c.Removals, []string{"/spec/egress"}) {
		t.Fatalf("plan: repairs %v, removals %v, fields %+v", c.RepairsDrift(), c.Removals, c.Fields)
	}
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Changed != 1 {
		t.Fatalf("apply: %+v", r)
	}
	live := s.netpol("users-from-gateway-public")
	if _, found, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "podSelector", "matchLabels", "tier"); found {
		t.Error("the selector key is still there")
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "egress"); found {
		t.Error("the egress rule is still there")
	}
	if again := s.plan(); again.HasChanges() {
		t.Fatalf("not converged: %+v", change(t, again, "users-from-gateway-public"))
	}
}
