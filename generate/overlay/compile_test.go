package overlay_test

import (
	"bytes"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/perimeter-dev/perimeter/bench/overlay/benchintent"
	"github.com/perimeter-dev/perimeter/generate/overlay"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

// Render streams what compiling each environment and Build do in two steps;
// the tree must be the same to the byte, with one core or several (one core
// also shows the wait for the first environment cannot deadlock; run with
// -race to check the parsed files are only read).
func TestRenderMatchesCompileThenBuild(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		prev := runtime.GOMAXPROCS(procs)
		for seed := int64(1); seed <= 15; seed++ {
			got, want := renderAndBuild(t, map[string][]byte{"main.hcl": []byte(randomIntent(rand.New(rand.NewSource(seed))))})
			if !maps.EqualFunc(got, want, bytes.Equal) {
				t.Errorf("GOMAXPROCS=%d seed %d: Render's tree differs from Build's", procs, seed)
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}

// An intent whose environments compile to nothing still renders its
// kustomizations, named after the environments.
func TestRenderWithoutObjects(t *testing.T) {
	got, want := renderAndBuild(t, map[string][]byte{"main.hcl": []byte(`
perimeter { stack = "s" }
environment "dev" {}
environment "prod" {}
`)})
	if !maps.EqualFunc(got, want, bytes.Equal) || got["overlays/prod/kustomization.yaml"] == nil {
		t.Errorf("Render gives %v, Build %v", got.Paths(), want.Paths())
	}
}

// renderAndBuild gives the trees of Render and of Build over environments
// compiled one by one.
func renderAndBuild(t *testing.T, files map[string][]byte) (rendered, built manifest.Tree) {
	t.Helper()
	src, diags := hclspec.Parse(files)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	rendered, diags, err := overlay.Render(src, hclspec.Options{})
	if err != nil || diags.HasErrors() {
		t.Fatalf("Render: %v %v", err, diags)
	}
	built, err = overlay.Build(compileAll(t, files))
	if err != nil {
		t.Fatal(err)
	}
	return rendered, built
}

// Errors in any environment stop Render with their diagnostics.
func TestRenderStopsAtErrorsInAnyEnvironment(t *testing.T) {
	for _, bad := range []string{"a", "c"} { // the first environment, and a later one
		src, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(`
perimeter { stack = "s" }
variable "cidr" {}
environment "a" { variables = { cidr = "` + map[bool]string{true: "nonsense", false: "10.0.0.0/8"}[bad == "a"] + `" } }
environment "b" { variables = { cidr = "10.1.0.0/16" } }
environment "c" { variables = { cidr = "` + map[bool]string{true: "nonsense", false: "10.2.0.0/16"}[bad == "c"] + `" } }
namespace "shop" {}
service "api" {
  namespace = "shop"
  selector  = { app = "api" }
  port      = 80
}
allow "out" {
  from  = service.api
  to    = cidr(var.cidr)
  ports = [443]
}
`)})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		tree, diags, err := overlay.Render(src, hclspec.Options{})
		if err != nil || !diags.HasErrors() || tree != nil {
			t.Fatalf("environment %s broken: tree %v, diags %v, err %v; want diagnostics only", bad, tree != nil, diags, err)
		}
	}
}

// Render decodes the blocks that are the same in every environment once
// (hclspec.Shared); the tree must be the one environments compiled
// separately give, for the benchmark's intent and every example.
func TestRenderSharedMatchesPerEnvironment(t *testing.T) {
	intents := map[string]map[string][]byte{"bench": benchintent.Intent(300, 4)}
	examples, _ := filepath.Glob("../../examples/*/main.hcl")
	for _, f := range examples {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := hclspec.Parse(map[string][]byte{"main.hcl": b})
		if len(hclspec.EnvironmentNames(src)) > 0 {
			intents[f] = map[string][]byte{"main.hcl": b}
		}
	}
	if len(intents) < 2 {
		t.Fatalf("no example declares environments")
	}
	for name, files := range intents {
		got, want := renderAndBuild(t, files)
		if !maps.EqualFunc(got, want, bytes.Equal) {
			t.Errorf("%s: Render's tree differs from the environments compiled one by one", name)
		}
	}
}
