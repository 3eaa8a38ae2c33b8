package buildtags

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTagsLeavePluginOut checks that perimeter built with Tags does not
// link Go's plugin package, and that without them it still would: the day
// kustomize drops the tag, this test says so instead of the binary
// silently growing back.
func TestTagsLeavePluginOut(t *testing.T) {
	if deps(t, "-tags="+Tags)["plugin"] {
		t.Errorf("perimeter built with -tags=%s links package plugin", Tags)
	}
	if !deps(t)["plugin"] {
		t.Logf("perimeter links no package plugin even without -tags=%s; the tag may no longer be needed", Tags)
	}
}

// TestEveryBuildUsesTags checks that each place that builds the perimeter
// binary for users, the demo, CI or the benchmarks passes Tags.
func TestEveryBuildUsesTags(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, file := range []string{
		"Makefile", "hack/demo.sh", "action.yml", "README.md", "examples/github/perimeter-plan.yaml",
		"internal/image/gobuild.go", "bench/cluster/main.go",
		"e2e/outage/outage_test.go", "examples/plancomment_test.go",
	} {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if !strings.Contains(text, Tags) && !strings.Contains(text, "buildtags.Tags") {
			t.Errorf("%s builds perimeter without -tags=%s", file, Tags)
		}
	}
}

// deps lists the packages cmd/perimeter links with the given go list flags.
func deps(t *testing.T, flags ...string) map[string]bool {
	t.Helper()
	args := append([]string{"list", "-deps"}, flags...)
	cmd := exec.Command("go", append(args, "github.com/perimeter-dev/perimeter/cmd/perimeter")...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	set := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		set[p] = true
	}
	return set
}
