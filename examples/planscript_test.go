package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestPlanScript runs the render and plan steps of perimeter-plan.yaml in
// a git repository, with the perimeter the tests built: a base branch with
// no intent yet (everything is a create), and one whose intent lacks an
// environment the pull request adds.
func TestPlanScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds perimeter")
	}
	bin := buildPerimeter(t)
	steps := planSteps(t, "Render the base branch", "Plan the head against it")
	shop, err := os.ReadFile(filepath.Join("shop", "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no intent on the base branch", func(t *testing.T) {
		repo := gitRepo(t, nil, shop)
		runSteps(t, repo, bin, steps)
		for _, env := range gitopsEnvs {
			md := readFile(t, filepath.Join(repo, "plan", env+".md"))
			if !strings.Contains(md, "to add, 0 to change, 0 to destroy") {
				t.Errorf("%s: not everything is a create:\n%.400s", env, md)
			}
		}
	})
	t.Run("the pull request adds an environment", func(t *testing.T) {
		head := string(shop) + "\nenvironment \"dev\" {\n  variables = {\n    domain = \"dev.example.com\"\n  }\n}\n"
		repo := gitRepo(t, shop, []byte(head))
		runSteps(t, repo, bin, steps, "ENVS=staging prod dev")
		for env, want := range map[string]string{"prod": "No changes", "dev": "0 to change, 0 to destroy"} {
			if md := readFile(t, filepath.Join(repo, "plan", env+".md")); !strings.Contains(md, want) {
				t.Errorf("%s: the plan does not say %q:\n%.400s", env, want, md)
			}
		}
	})
}

// planSteps returns the scripts of the named steps of perimeter-plan.yaml.
func planSteps(t *testing.T, names ...string) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("github", "perimeter-plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct{ Steps []struct{ Name, Run string } }
	}
	if err := yaml.Unmarshal(src, &wf); err != nil {
		t.Fatal(err)
	}
	var scripts []string
	for _, name := range names {
		found := false
		for _, s := range wf.Jobs["plan"].Steps {
			if s.Name == name {
				scripts, found = append(scripts, s.Run), true
			}
		}
		if !found {
			t.Fatalf("perimeter-plan.yaml: no step %q", name)
		}
	}
	return scripts
}

// gitRepo makes a repository whose branch main (also origin/main, as the
// checkout fetches it) has base as boundary/main.hcl (nil: no intent), and
// whose checked-out head has head.
func gitRepo(t *testing.T, base, head []byte) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	intent := filepath.Join(repo, "boundary", "main.hcl")
	if err := os.MkdirAll(filepath.Dir(intent), 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	if base != nil {
		writeFile(t, intent, base)
	} else {
		writeFile(t, filepath.Join(repo, "README"), []byte("no intent yet\n"))
	}
	git("add", ".")
	git("commit", "-qm", "base")
	git("update-ref", "refs/remotes/origin/main", "HEAD")
	git("checkout", "-qb", "pr")
	writeFile(t, intent, head)
	git("add", ".")
	git("commit", "-qm", "head")
	return repo
}

// runSteps runs the scripts in repo as GitHub runs bash steps, with the
// workflow's environment (env overrides it) and perimeter on PATH.
func runSteps(t *testing.T, repo, bin string, scripts []string, env ...string) {
	t.Helper()
	vars := append([]string{
		"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"INTENT=boundary", "ENVS=staging prod", "BASE_REF=main", "PR_NUMBER=7", "NO_COLOR=1",
		"GITHUB_STEP_SUMMARY=" + filepath.Join(t.TempDir(), "summary.md"),
	}, env...)
	for _, s := range scripts {
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), vars...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("step failed: %v\n%s\n%s", err, out, s)
		}
	}
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
