package overlay

import (
	"runtime"
	"testing"
	"weak"

	"github.com/perimeter-dev/perimeter/bench/overlay/benchintent"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// Once every environment is decoded, Render holds nothing of the parsed
// files: a caller that lets go of them too lets the syntax trees (the
// largest part of the compile's memory) be collected while the objects
// are generated.
func TestRenderLetsGoOfSyntaxTrees(t *testing.T) {
	src, diags := hclspec.Parse(benchintent.Intent(200, 2))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	files := weak.Make(src.Files()["main.hcl"])
	collected := false
	afterDecode = func() {
		runtime.GC()
		runtime.GC()
		collected = files.Value() == nil
	}
	defer func() { afterDecode = nil }()
	tree, diags, err := Render(src, hclspec.Options{})
	if err != nil || diags.HasErrors() || len(tree) == 0 {
		t.Fatalf("Render: %v %v", err, diags)
	}
	if !collected {
		t.Error("the syntax trees were still reachable after decoding")
	}
}
