// Package examples holds no code: its tests check that the examples users
// copy (GitHub workflows, the composite action, GitOps manifests) work.
package examples

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rhysd/actionlint"
)

// TestWorkflowsLint runs actionlint, as a library, on every workflow under
// examples/: CI runs go test ./..., so a broken example fails CI.
func TestWorkflowsLint(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isWorkflow(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d workflows under examples/, want the plan and the comment workflows", len(files))
	}
	for _, f := range files {
		lintWorkflow(t, f, nil)
	}
}

// isWorkflow tells a workflow from the other YAML under examples/ (GitOps
// manifests, kustomizations) by its folder.
func isWorkflow(path string) bool {
	ext := filepath.Ext(path)
	return filepath.Base(filepath.Dir(path)) == "github" && (ext == ".yaml" || ext == ".yml")
}

// lintWorkflow fails t with every actionlint error in the workflow at
// path; content, when not nil, is linted in place of the file's.
func lintWorkflow(t *testing.T, path string, content []byte) {
	t.Helper()
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if content == nil {
		if content, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	// The examples are not under .github/workflows: lint them as if they
	// were, which is where users copy them.
	errs, err := l.Lint(path, content, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", path, e.Line, e.Column, e.Message, e.Kind)
	}
}
