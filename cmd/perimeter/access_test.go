package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

// An identity that may read everything, hold the stack lock and write
// policies but not the ApplySet parent applies a saved plan and a directory (planning dry-runs
// the policy, which needs patch and create): both are refused before any
// write, naming the identity and every permission it lacks, and nothing is
// written.
func TestApplyRefusedBeforeAnyWrite(t *testing.T) {
	c, ns, dir := oneNamespaceStack(t)
	user := "reader-" + ns
	reader := c.WriteKubeconfig(t, c.RestrictedConfig(t, user, []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"create", "patch"}},
		// the stack lock, which apply takes before anything else
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create", "update", "delete"}},
	}, ""))
	perimeter := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != want {
			t.Fatalf("perimeter %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return errb.String()
	}
	saved := filepath.Join(dir, "p.plan")
	perimeter(0, "plan", "--kubeconfig", c.Kubeconfig, "--out", saved, dir)
	missing := []string{
		"\n  cannot create configmaps in namespace default\n",
		"\n  cannot patch configmaps in namespace default\n",
	}
	for _, tc := range []struct{ arg, origin string }{{saved, "plan file " + saved}, {dir, "apply"}} {
		stderr := perimeter(1, "apply", "--auto-approve", "--kubeconfig", reader, tc.arg)
		if !strings.Contains(stderr, "Error: "+tc.origin+` refused before any write: identity "`+user+`" may not make every request the plan needs`) {
			t.Errorf("apply %s:\n%s", tc.arg, stderr)
		}
		if n := strings.Count(stderr, "\n  cannot "); n != len(missing) {
			t.Errorf("apply %s lists %d missing permissions, want %d:\n%s", tc.arg, n, len(missing), stderr)
		}
		for _, m := range missing {
			if !strings.Contains(stderr+"\n", m) {
				t.Errorf("apply %s does not say %q:\n%s", tc.arg, strings.TrimSpace(m), stderr)
			}
		}
	}
	var stdout, errb bytes.Buffer
	run([]string{"plan", "--kubeconfig", c.Kubeconfig, dir}, &stdout, &errb)
	if !strings.Contains(stdout.String(), "Plan: 1 to add, 0 to change, 0 to destroy.") {
		t.Errorf("something was written by a refused apply:\n%s", stdout.String())
	}
}

// oneNamespaceStack is a stack managing only a fresh namespace of the real
// control plane (default-deny ingress), written to a temporary directory.
func oneNamespaceStack(t *testing.T) (c *testcluster.Cluster, ns, dir string) {
	t.Helper()
	c = testcluster.Get(t)
	ns = c.Namespace(t)
	stack := "s" + ns[len(ns)-6:]
	dir = t.TempDir()
	hcl := fmt.Sprintf("perimeter {\n  stack = %q\n}\n\nnamespace \"app\" {\n  name         = %q\n  default_deny = [\"ingress\"]\n  dns          = false\n}\n", stack, ns)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return c, ns, dir
}
