package plan_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/examples"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// planSchema compiles docs/plan.schema.json, the published schema of the
// JSON plan.
func planSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	s, err := c.Compile("../docs/plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, name string, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s does not match docs/plan.schema.json: %v", name, err)
	}
}

// TestPlanGoldensMatchSchema validates the views' JSON golden and the
// plans of every example, made against nothing (all creates, every
// boundary entry added), against the same objects (no changes) and after
// emptying the intent (every object deleted, every entry withdrawn).
func TestPlanGoldensMatchSchema(t *testing.T) {
	s := planSchema(t)
	golden, err := os.ReadFile("../views/testdata/plan.json")
	if err != nil {
		t.Fatal(err)
	}
	validate(t, s, "views/testdata/plan.json", golden)
	cases, err := examples.Cases("../examples", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		in, _, diags := hclspec.Load(c.Dir, hclspec.Options{Env: c.Env})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		objs, diags := generate.Objects(in)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		live := liveCopies(generate.ForOutput(cloneAll(objs)))
		for name, state := range map[string]struct {
			reader  manifest.Objects
			desired []*unstructured.Unstructured
		}{
			"create":  {nil, objs},
			"no-op":   {live, objs},
			"destroy": {live, nil},
		} {
			req := plan.Request{Stack: in.Stack, StateNamespace: in.StateNamespace, Environment: in.Environment,
				Target: "test", Desired: state.desired, Kinds: generate.Kinds,
				OwnerSelector: ownership.MemberSelector(in.Stack, in.StateNamespace),
				Owned:         func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, in.Stack, in.StateNamespace) }}
			p, err := plan.Make(context.Background(), state.reader, req)
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name(), name, err)
			}
			var buf bytes.Buffer
			if err := p.Write(&buf); err != nil {
				t.Fatal(err)
			}
			validate(t, s, filepath.Join(c.Name(), name), buf.Bytes())
			if name == "create" && len(p.Boundary) == 0 {
				t.Errorf("%s: no boundary entries to validate", c.Name())
			}
		}
	}
}

func cloneAll(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}

// liveCopies gives objects the metadata a cluster would.
func liveCopies(objs []*unstructured.Unstructured) manifest.Objects {
	for i, o := range objs {
		o.SetUID(types.UID(fmt.Sprintf("uid-%d", i)))
		o.SetResourceVersion(fmt.Sprint(i + 1))
	}
	return objs
}
