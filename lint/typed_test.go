package lint

import (
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
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
			in, _ := load(t, tc.hcl)
			desired, diags := generate.Objects(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			objs, err := manifest.Decode([]byte(tc.live))
			if err != nil {
				t.Fatal(err)
			}
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
