package plan_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// A reader that cannot tell what a namespace holds (rendered manifests)
// never plans deleting an owned namespace: deleting it would delete
// whatever it holds.
func TestNamespaceNotDeletedWhenContentsUnknown(t *testing.T) {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName("shop")
	ns.SetLabels(ownership.MemberLabels("s", "default"))
	ns.SetAnnotations(map[string]string{ownership.AnnotationBlock: `namespace "shop"`})
	req := plan.Request{Stack: "s", StateNamespace: "default", Kinds: generate.Kinds,
		OwnerSelector: ownership.MemberSelector("s", "default"),
		Owned:         func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, "s", "default") }}
	p, err := plan.Make(context.Background(), manifest.Objects{ns}, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() || len(p.Changes) != 1 || p.Changes[0].Action != plan.NoOp {
		t.Fatalf("changes %+v, want the namespace kept as a no-op", p.Changes)
	}
	if len(p.Namespaces) != 1 || p.Namespaces[0].State != plan.Left || p.Namespaces[0].Block != `namespace "shop"` ||
		!strings.Contains(p.Namespaces[0].Detail, "cannot tell whether it holds objects this stack does not own") {
		t.Fatalf("notes %+v", p.Namespaces)
	}
}
