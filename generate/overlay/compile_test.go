package overlay_test

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/perimeter-dev/perimeter/generate/overlay"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// Compiling environments concurrently gives what compiling them one by one
// gives (run with -race to check the parsed files are only read).
func TestCompileConcurrentlyMatchesSequential(t *testing.T) {
	src, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(randomIntent(rand.New(rand.NewSource(7))))})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	got, diags := overlay.Compile(src, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	files := map[string][]byte{"main.hcl": []byte(randomIntent(rand.New(rand.NewSource(7))))}
	want := compileAll(t, files)
	if len(got) != len(want) {
		t.Fatalf("%d environments, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || len(got[i].Objects) != len(want[i].Objects) {
			t.Fatalf("environment %d differs", i)
		}
		for j := range want[i].Objects {
			if !reflect.DeepEqual(got[i].Objects[j].Object, want[i].Objects[j].Object) {
				t.Errorf("%s: object %d differs", want[i].Name, j)
			}
		}
	}
}
