package generate_test

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/testgen"
	"github.com/perimeter-dev/perimeter/ownership"
)

// Every generated object carries the stack's member labels, through one
// shared map (objects are never modified once generated), and reading
// them hands out a copy.
func TestObjectsShareTheMemberLabels(t *testing.T) {
	src := testgen.GatewayIntent(rand.New(rand.NewSource(7)))
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() || len(objs) < 2 {
		t.Fatalf("%d objects, %s", len(objs), diags.Error())
	}
	want := ownership.MemberLabels(in.Stack, in.StateNamespace)
	first := objs[0].Object["metadata"].(map[string]any)["labels"]
	for _, o := range objs {
		if got := o.GetLabels(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s/%s labels %v, want %v", o.GetKind(), o.GetName(), got, want)
		}
		if reflect.ValueOf(o.Object["metadata"].(map[string]any)["labels"]).UnsafePointer() != reflect.ValueOf(first).UnsafePointer() {
			t.Errorf("%s/%s has a labels map of its own", o.GetKind(), o.GetName())
		}
	}
	objs[0].GetLabels()["changed"] = "yes"
	if _, leaked := objs[1].GetLabels()["changed"]; leaked {
		t.Error("GetLabels handed out the shared map")
	}
}
