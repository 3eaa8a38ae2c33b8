package examples

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/perimeter-dev/perimeter/internal/buildtags"
)

// maxComment is GitHub's limit on a comment body, in characters.
const maxComment = 65536

// partSeparator is the line perimeter plan --output markdown puts between
// the parts of a long plan; perimeter-comment.yaml splits on it.
const partSeparator = "\n<!-- perimeter: next part -->\n"

// TestPlanCommentsFit plans a 400-object intent for two environments, as
// perimeter-plan.yaml does (against an empty tree when the base branch has
// no intent, and against the base branch's rendered kustomize tree), and
// checks that every comment perimeter-comment.yaml would post, marker
// included, stays within GitHub's limit.
func TestPlanCommentsFit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds perimeter")
	}
	bin := buildPerimeter(t)
	tmp := t.TempDir()
	head := writeIntent(t, filepath.Join(tmp, "head"), 190)
	base := writeIntent(t, filepath.Join(tmp, "base"), 90)
	empty := filepath.Join(tmp, "empty")
	tree := filepath.Join(tmp, "base-tree")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, bin, "render", "--kustomize", "--out-dir", tree, base)
	for _, env := range []string{"staging", "prod"} {
		if n := strings.Count(run(t, bin, "render", "--env", env, head), "\nkind: "); n < 400 {
			t.Fatalf("%s: the head intent renders %d objects, want 400", env, n)
		}
		for against, totals := range map[string]string{empty: "400 to add, 0 to change", tree: "200 to add"} {
			md := run(t, bin, "plan", "--env", env, "--against", against, "--output", "markdown", head)
			if !strings.Contains(md, totals) {
				t.Errorf("%s against %s: the plan does not say %q", env, filepath.Base(against), totals)
			}
			checkParts(t, env, md)
		}
	}
}

// checkParts checks each comment the workflow makes of md: the marker line
// and the part, at most maxComment characters.
func checkParts(t *testing.T, env, md string) {
	t.Helper()
	parts := strings.Split(md, partSeparator)
	if len(parts) < 2 {
		t.Errorf("%s: a 400-object plan fits one comment (%d characters): the test no longer tests splitting", env, len(md))
	}
	for i, p := range parts {
		marker := fmt.Sprintf("<!-- perimeter-plan:%s part %d -->\n", env, i+1)
		if n := utf8.RuneCountInString(marker + p); n > maxComment {
			t.Errorf("%s part %d: %d characters, over %d", env, i+1, n, maxComment)
		}
	}
}

// writeIntent writes an intent of 10 namespaces denying everything and a
// chain of n allows between n+1 services (2n+20 NetworkPolicies) for the
// environments staging and prod, and returns its folder.
func writeIntent(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("perimeter {\n  stack = \"big\"\n}\n\nenvironment \"staging\" {}\nenvironment \"prod\" {}\n\n")
	for i := range 10 {
		fmt.Fprintf(&b, "namespace \"ns%d\" {\n  default_deny = [\"ingress\", \"egress\"]\n}\n\n", i)
	}
	for i := range n + 1 {
		fmt.Fprintf(&b, "service \"svc%d\" {\n  namespace   = \"ns%d\"\n  selector    = { app = \"svc%d\" }\n  port        = 80\n  target_port = 8080\n}\n\n", i, i%10, i)
	}
	for i := range n {
		fmt.Fprintf(&b, "allow \"svc%d calls svc%d\" {\n  from = service.svc%d\n  to   = service.svc%d\n}\n\n", i, i+1, i, i+1)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// perimeterBin is the CLI the tests run, built once by buildPerimeter.
var perimeterBin struct {
	once sync.Once
	path string
	err  error
}

// TestMain removes the CLI the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if perimeterBin.path != "" {
		os.RemoveAll(filepath.Dir(perimeterBin.path))
	}
	os.Exit(code)
}

// buildPerimeter builds the CLI once for all tests: the workflows run the
// binary, so the tests do too.
func buildPerimeter(t *testing.T) string {
	t.Helper()
	b := &perimeterBin
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "perimeter-examples-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "perimeter")
		out, err := exec.Command("go", "build", "-tags", buildtags.Tags, "-o", b.path, "github.com/perimeter-dev/perimeter/cmd/perimeter").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// run runs perimeter with args and returns its standard output.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perimeter %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
