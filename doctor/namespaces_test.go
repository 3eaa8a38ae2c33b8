package doctor

import (
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// A namespace that does not exist yet is created by apply, unless its
// block says create = false.
func TestMissingNamespaceFinding(t *testing.T) {
	for _, tc := range []struct {
		create bool
		want   string
	}{
		{true, "shop does not exist in the cluster yet; perimeter apply creates it"},
		{false, `shop does not exist in the cluster yet, and namespace "app" says create = false: plan fails until its owner creates it`},
	} {
		f := namespaceFinding(&hclspec.Namespace{Label: "app", Name: "shop", Create: tc.create}, false, nil)
		if f.Severity != Warning || !strings.Contains(f.Message, tc.want) {
			t.Errorf("create = %v: %+v, want a warning %q", tc.create, f, tc.want)
		}
	}
}
