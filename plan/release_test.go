package plan_test

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// sharedObjects answers every LIST with the objects themselves, as the
// CLI's ListMemo does for the reads of one plan.
type sharedObjects []*unstructured.Unstructured

func (o sharedObjects) List(_ context.Context, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, obj := range o {
		if obj.GroupVersionKind() == gvk && (namespace == "" || obj.GetNamespace() == namespace) {
			out = append(out, obj)
		}
	}
	return out, nil
}

// egressPolicy is a member of stack s allowing app=name out to cidr.
func egressPolicy(name, cidr string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": name, "namespace": "shop", "uid": "uid-" + name, "resourceVersion": "7",
			"labels":      map[string]any{ownership.LabelManagedBy: ownership.ManagedByValue, ownership.LabelStack: "s", ownership.LabelApplySetPartOf: ownership.ApplySetID("s", "shop")},
			"annotations": map[string]any{ownership.AnnotationBlock: `allow "` + name + `"`}},
		"spec": map[string]any{
			"podSelector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"policyTypes": []any{"Egress"},
			"egress":      []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": cidr}}}}},
		},
	}}
}

// Planned members are hollowed to what identifies them, after the
// boundary summary has read them whole; members the plan deletes stay
// whole, and the plan is what it would be with whole objects.
func TestPlannedMembersAreReleased(t *testing.T) {
	kept, dropped := egressPolicy("kept", "10.0.0.0/24"), egressPolicy("dropped", "10.0.1.0/24")
	desired := egressPolicy("kept", "10.0.0.0/24")
	unstructured.RemoveNestedField(desired.Object, "metadata", "uid")
	unstructured.RemoveNestedField(desired.Object, "metadata", "resourceVersion")
	req := plan.Request{Stack: "s", StateNamespace: "shop", Kinds: generate.Kinds, Desired: []*unstructured.Unstructured{desired},
		OwnerSelector: ownership.MemberSelector("s", "shop"),
		Owned:         func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, "s", "shop") }}
	// the summary reads late: planning is done by then, and must not
	// have hollowed what the summary reads
	defer plan.SetBeforeSummary(func() { time.Sleep(50 * time.Millisecond) })()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}}}
	p, err := plan.Make(context.Background(), sharedObjects{ns, kept, dropped}, req)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]plan.Action{}
	for _, c := range p.Changes {
		actions[c.Name] = c.Action
	}
	if actions["dropped"] != plan.Delete || actions["kept"] == plan.Delete || actions["kept"] == "" {
		t.Fatalf("actions %v, want kept planned and dropped deleted", actions)
	}
	// the summary saw kept whole: only dropped's rule (and the isolation
	// it caused) go away, and nothing of kept's is shown as new
	if len(p.Boundary) == 0 {
		t.Error("no boundary change, want dropped's rule removed")
	}
	for _, b := range p.Boundary {
		if b.Added || b.Block != `allow "dropped"` {
			t.Errorf("boundary change %+v, want only dropped's removed", b)
		}
	}
	if _, has := kept.Object["spec"]; has {
		t.Errorf("the planned member is still whole: %v", kept.Object)
	}
	if !ownership.IsMember(kept, "s", "shop") || kept.GetName() != "kept" || kept.GetNamespace() != "shop" ||
		kept.GetUID() != "uid-kept" || kept.GetResourceVersion() != "7" || kept.GetKind() != "NetworkPolicy" {
		t.Errorf("the planned member lost what identifies it: %v", kept.Object)
	}
	if _, has := dropped.Object["spec"]; !has {
		t.Errorf("the member to delete was hollowed: %v", dropped.Object)
	}
}
