package lint

import (
	"reflect"
	"slices"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/reach"
)

// A plan's lints convert the compiled policies once (reach.Typed) and
// find what converting them in each lint finds: the intent lints and the
// live ones, on intents with findings of every kind, with and without
// live objects.
func TestSharedConversionFindsTheSame(t *testing.T) {
	for _, tc := range []struct {
		name, hcl, live string
	}{
		{"intent findings", intentHCL, ""},
		{"unreachable backend", routeHCL, edgeEgress(9090)},
		{"reachable backend", routeHCL, edgeEgress(8080)},
		{"live findings", intentHCL, liveYAML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, desired, objs := compiledWithLive(t, tc.hcl, tc.live)
			live := Split(objs)
			want := render(append(Intent(in, desired), Objects(in, desired, live)...))
			typed := reach.NewTyped()
			got := render(append(intentWith(in, desired, typed), objectsWith(in, desired, live, typed)...))
			if got != want {
				t.Fatalf("shared conversion:\n%s\nseparate:\n%s", got, want)
			}
			if want == "" && tc.name != "reachable backend" {
				t.Fatal("no findings: the case tests nothing")
			}
		})
	}
}

// sortedBy orders as the stable sort it replaces, which compared keys
// computed in every comparison: equal keys keep their order.
func TestSortedBy(t *testing.T) {
	mk := func(src string) *policy {
		return &policy{obj: &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{
			"name": src, "annotations": map[string]any{"perimeter.dev/source": src}}}}}
	}
	in := []*policy{mk("b.hcl:10"), mk(""), mk("a.hcl:9"), mk("b.hcl:2"), mk("a.hcl:9"), mk("")}
	in[4].obj.SetNamespace("second")
	want := append([]*policy(nil), in...)
	sort.SliceStable(want, func(i, j int) bool { return sourceLess(sourceOf(want[i].obj), sourceOf(want[j].obj)) })
	got := sortedBy(in, func(p *policy) string { return sourceOf(p.obj) }, sourceLess)
	if !slices.Equal(got, want) {
		t.Fatalf("sortedBy differs from the stable sort")
	}
	if got[0].obj.GetName() != "a.hcl:9" || got[1].obj.GetNamespace() != "second" || got[len(got)-1].obj.GetName() != "" {
		t.Fatalf("order: %v", got)
	}
}

// The lint of a plan, its intent part run in the background while the
// plan is made (Start), is the intent lints then the live ones, in order.
func TestStartedLintIsTheLint(t *testing.T) {
	for _, tc := range []struct{ name, hcl, live string }{
		{"intent findings", intentHCL, ""},
		{"unreachable backend", routeHCL, edgeEgress(9090)},
		{"live findings", intentHCL, liveYAML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, desired, objs := compiledWithLive(t, tc.hcl, tc.live)
			r := manifest.Objects(objs)
			live, err := Read(t.Context(), r, scopeOf(in))
			if err != nil {
				t.Fatal(err)
			}
			want := Warnings(sortFindings(append(Intent(in, desired), Objects(in, desired, live)...)))
			pending := Start(in, desired)
			if got := pending.Plan(t.Context(), r); !reflect.DeepEqual(got, want) {
				t.Fatalf("started lint:\n%+v\nsequential:\n%+v", got, want)
			}
			if len(want) == 0 {
				t.Fatal("no findings: the case tests nothing")
			}
		})
	}
}

// compiledWithLive compiles an intent and decodes the live objects beside
// it (YAML).
func compiledWithLive(t *testing.T, hcl, live string) (*hclspec.Intent, []*unstructured.Unstructured, []*unstructured.Unstructured) {
	t.Helper()
	in, _ := load(t, hcl)
	desired, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	objs, err := manifest.Decode([]byte(live))
	if err != nil {
		t.Fatal(err)
	}
	return in, desired, objs
}
