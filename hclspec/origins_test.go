package hclspec

import (
	"path/filepath"
	"testing"
)

// TestBlockRangesCoverEveryBlockKind: every block that compiles to objects
// is in BlockRanges, so an object read back from the cluster (a guardrail's
// ClusterNetworkPolicy among them) is tied to its file:line.
func TestBlockRangesCoverEveryBlockKind(t *testing.T) {
	in, _, diags := Load(filepath.Join("..", "examples", "platform"), Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ranges := in.BlockRanges()
	for _, c := range in.ClusterPolicies {
		r, ok := ranges[c.Block]
		if !ok {
			t.Errorf("%s is not in BlockRanges", c.Block)
			continue
		}
		if r != c.Range {
			t.Errorf("%s: range %s, want %s", c.Block, r, c.Range)
		}
	}
	if len(in.ClusterPolicies) == 0 {
		t.Fatal("examples/platform has no guardrail or baseline")
	}
}
