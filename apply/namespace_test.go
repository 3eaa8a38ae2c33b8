package apply_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

var (
	nsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	saGVR  = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	svcGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	evGVR  = schema.GroupVersionResource{Version: "v1", Resource: "events"}
)

// nsRequest plans one namespace block named name (and nothing else) for
// the test's stack.
func (s *stack) nsRequest(name string, create, adopt bool) plan.Request {
	in := &hclspec.Intent{Stack: s.name, StateNamespace: "default"}
	block := &hclspec.Namespace{Label: "app", Name: name, Create: create, Adopt: adopt, Labels: map[string]string{"team": "payments"}}
	block.Block = `namespace "app"`
	block.Range.Filename, block.Range.Start.Line = "main.hcl", 5
	obj, err := generate.Namespace(in, block)
	if err != nil {
		s.t.Fatal(err)
	}
	return plan.Request{Stack: s.name, StateNamespace: "default", Target: "test", Kinds: generate.Kinds,
		Namespaces:    []plan.Namespace{{Object: obj, Create: create, Adopt: adopt}},
		OwnerSelector: ownership.MemberSelector(s.name, "default"),
		Owned:         func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, s.name, "default") }}
}

// create makes an object with the admin client, as another tool would.
func (s *stack) create(gvr schema.GroupVersionResource, ns string, obj map[string]any) *unstructured.Unstructured {
	s.t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	out, err := s.dyn.Resource(gvr).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func meta(name string, labels map[string]any) map[string]any {
	return map[string]any{"name": name, "labels": labels}
}

// Foreign sees what someone else put in a namespace, one object per kind,
// but not the stack's members, its ApplySet parent, the objects the
// cluster creates in every namespace, events, or objects a controller in
// the namespace owns (a gateway controller's Service for the stack's
// Gateway).
func TestForeignSkipsMembersParentAndSystemObjects(t *testing.T) {
	s := newStack(t)
	sel := ownership.MemberSelector(s.name, s.ns)
	member := map[string]any{}
	for k, v := range ownership.MemberLabels(s.name, s.ns) {
		member[k] = v
	}
	s.create(cmGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-root-ca.crt", nil)})
	s.create(cmGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(ownership.ParentName(s.name), nil)})
	owner := s.create(cmGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("member", member)})
	dependent := meta("made-for-member", nil)
	dependent["ownerReferences"] = []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "member",
		"uid": string(owner.GetUID()), "controller": true}}
	s.create(svcGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": dependent,
		"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}})
	s.create(saGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("default", nil)})
	s.create(evGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "Event", "metadata": meta("e1", nil),
		"involvedObject": map[string]any{"kind": "ConfigMap", "name": "member", "namespace": s.ns}, "reason": "Test", "message": "m"})
	skip := []string{"ConfigMap/" + ownership.ParentName(s.name)}
	got, err := s.client.Foreign(context.Background(), s.ns, sel, skip)
	if err != nil || len(got) != 0 {
		t.Fatalf("Foreign = %v, %v; want nothing", got, err)
	}
	s.create(cmGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("theirs", nil)})
	s.create(svcGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": meta("web", nil),
		"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}})
	// a lookalike: perimeter's labels for another stack are someone else's
	other := map[string]any{}
	for k, v := range ownership.MemberLabels("other", s.ns) {
		other[k] = v
	}
	s.create(saGVR, s.ns, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("robot", other)})
	got, err = s.client.Foreign(context.Background(), s.ns, sel, skip)
	want := []string{"ConfigMap " + s.ns + "/theirs", "Service " + s.ns + "/web", "ServiceAccount " + s.ns + "/robot"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Foreign = %v, %v; want %v", got, err, want)
	}
}

// adopt never takes over a namespace that belongs to another ApplySet.
func TestAdoptRefusesAnotherApplySetsNamespace(t *testing.T) {
	s := newStack(t)
	ns, err := s.dyn.Resource(nsGVR).Get(context.Background(), s.ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.SetLabels(ownership.MemberLabels("other", "default"))
	if _, err := s.dyn.Resource(nsGVR).Update(context.Background(), ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = plan.Make(context.Background(), s.client, s.nsRequest(s.ns, true, true))
	var pe *plan.Error
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].Source != "main.hcl:5" ||
		!strings.Contains(pe.Problems[0].Detail, `already belongs to an ApplySet`) || !strings.Contains(pe.Problems[0].Detail, `stack "other"`) {
		t.Fatalf("plan error = %v, want the namespace block refused", err)
	}
}

// A saved plan is refused when a namespace it would create, adopt or use
// as it is has moved since.
func TestNamespacePlanRefusedWhenClusterMoved(t *testing.T) {
	s := newStack(t)
	check := func(p *plan.Plan, want string) {
		t.Helper()
		req := s.nsRequest("", true, false)
		err := plan.CheckCurrent(context.Background(), s.client, p, generate.Kinds, req.OwnerSelector, req.Owned)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckCurrent = %v, want %q", err, want)
		}
	}
	fresh := s.ns + "-new"
	created, err := plan.Make(context.Background(), s.client, s.nsRequest(fresh, true, false))
	if err != nil || len(created.Changes) != 1 || created.Changes[0].Action != plan.Create {
		t.Fatalf("plan of a missing namespace = %+v, %v; want one create", created, err)
	}
	s.create(nsGVR, "", map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta(fresh, nil)})
	check(created, "Namespace "+fresh+" now exists and is not owned by this stack")

	adopted, err := plan.Make(context.Background(), s.client, s.nsRequest(s.ns, true, true))
	if err != nil || len(adopted.Changes) != 1 || !adopted.Changes[0].Adopt {
		t.Fatalf("plan of an adoption = %+v, %v", adopted, err)
	}
	used, err := plan.Make(context.Background(), s.client, s.nsRequest(s.ns, true, false))
	if err != nil || len(used.Changes) != 0 || len(used.Namespaces) != 1 || used.Namespaces[0].State != plan.NotOwned {
		t.Fatalf("plan of an existing namespace = %+v, %v; want only a note", used, err)
	}
	if err := plan.CheckCurrent(context.Background(), s.client, adopted, generate.Kinds, ownership.MemberSelector(s.name, "default"),
		func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, s.name, "default") }); err != nil {
		t.Fatalf("an unchanged cluster: %v", err)
	}
	ns, _ := s.dyn.Resource(nsGVR).Get(context.Background(), s.ns, metav1.GetOptions{})
	ns.SetLabels(map[string]string{"owner": "platform"})
	if _, err := s.dyn.Resource(nsGVR).Update(context.Background(), ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	check(adopted, "Namespace "+s.ns+" changed since the plan was made")
	// the used namespace's UID is checked: a stale UID stands for one
	// deleted and created again (the test control plane cannot finish
	// deleting a namespace)
	used.Namespaces[0].UID = "0000"
	check(used, "Namespace "+s.ns+" was deleted and created again since the plan was made")
}

// The ApplySet parent needs its namespace: a missing state namespace that
// no namespace block creates stops the plan (the fresh-cluster script
// covers one that a block creates).
func TestMissingStateNamespaceRefused(t *testing.T) {
	s := newStack(t)
	req := s.nsRequest(s.ns, true, false)
	req.StateNamespace = s.ns + "-state"
	_, err := plan.Make(context.Background(), s.client, req)
	if err == nil || !strings.Contains(err.Error(), "Namespace "+req.StateNamespace+": holds the stack's ApplySet parent (state_namespace) but does not exist") {
		t.Fatalf("plan error = %v", err)
	}
}
