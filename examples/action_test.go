package examples

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rhysd/actionlint"
	"sigs.k8s.io/yaml"
)

// actionFile is the composite action at the repository root, where
// `uses: perimeter-dev/perimeter@VERSION` finds it.
const actionFile = "../action.yml"

// composite is the part of action.yml the checks read.
type composite struct {
	Name    string
	Inputs  map[string]map[string]any
	Outputs map[string]struct{ Value string }
	Runs    struct {
		Using string
		Steps []map[string]any
	}
}

// TestActionUse lints a workflow that uses the action the way the README
// shows: actionlint reads action.yml and checks its inputs against it.
func TestActionUse(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	proj, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	wf := []byte(`name: use the action
on: pull_request
jobs:
  plan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ./
        with:
          env: prod
      - uses: ./
        with:
          command: render
          output: gitops
          check: "true"
`)
	lintProject(t, filepath.Join(root, ".github", "workflows", "use-action.yaml"), wf, proj)
}

// TestActionSteps checks what actionlint does not, since it lints
// workflows and not action metadata: the action is composite, every run
// step names its shell (required there), every output comes from a step
// that exists, and its steps, put in a workflow_call workflow with the
// same inputs, lint clean (expressions, actions' inputs, syntax).
func TestActionSteps(t *testing.T) {
	src, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	var a composite
	if err := yaml.Unmarshal(src, &a); err != nil {
		t.Fatal(err)
	}
	if a.Name == "" || a.Runs.Using != "composite" || len(a.Runs.Steps) == 0 {
		t.Fatalf("action.yml: want a named composite action with steps, got name %q using %q", a.Name, a.Runs.Using)
	}
	ids := map[string]bool{}
	for i, s := range a.Runs.Steps {
		if _, ok := s["run"]; ok && s["shell"] == nil {
			t.Errorf("action.yml: step %d runs a script without shell", i)
		}
		if id, ok := s["id"].(string); ok {
			ids[id] = true
		}
	}
	stepRef := regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.`)
	for name, o := range a.Outputs {
		m := stepRef.FindStringSubmatch(o.Value)
		if m == nil || !ids[m[1]] {
			t.Errorf("action.yml: output %s = %q does not come from a step of the action", name, o.Value)
		}
	}
	inputs := map[string]any{}
	for name, in := range a.Inputs {
		inputs[name] = map[string]any{"type": "string", "default": in["default"]}
	}
	wf, err := yaml.Marshal(map[string]any{
		"name": "action.yml steps",
		"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"steps": map[string]any{"runs-on": "ubuntu-latest", "steps": a.Runs.Steps}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lintProject(t, "action.yml (as a workflow)", wf, nil)
}

// lintProject fails t with every actionlint error in content, linted as
// the workflow at path of proj (nil: no project).
func lintProject(t *testing.T, path string, content []byte, proj *actionlint.Project) {
	t.Helper()
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(path, content, proj)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]\n%s", path, e.Line, e.Column, e.Message, e.Kind, content)
	}
}
