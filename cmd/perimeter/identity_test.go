package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestClusterIdentityWithoutKubeSystem: an identity that may plan but not
// read namespace kube-system makes a plan that says so and records the
// URL only, which applies on the same URL; a plan that recorded the
// kube-system UID is refused by an identity that cannot read it, since
// nothing else would tell the clusters apart.
func TestClusterIdentityWithoutKubeSystem(t *testing.T) {
	c, ns, dir := oneNamespaceStack(t)
	// plan: list everything, get and dry-run some things, but never get a namespace
	restricted := c.WriteKubeconfig(t, c.RestrictedConfig(t, "no-kube-system-"+ns, []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"list"}},
		{APIGroups: []string{"", "networking.k8s.io", "gateway.networking.k8s.io"}, Resources: []string{"configmaps", "services", "pods", "networkpolicies", "gateways"}, Verbs: []string{"get"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"patch", "create"}}, // dry-run
	}, ""))
	runOK := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != want {
			t.Fatalf("perimeter %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}

	urlOnly := filepath.Join(dir, "url-only.plan")
	out := runOK(0, "plan", "--kubeconfig", restricted, "--out", urlOnly, dir)
	if !strings.Contains(out, "Cluster identified by URL only") || !strings.Contains(out, "forbidden") {
		t.Errorf("the plan does not say kube-system could not be read:\n%s", out)
	}
	var saved struct {
		Cluster map[string]string `json:"cluster"`
	}
	b, _ := os.ReadFile(urlOnly)
	if err := json.Unmarshal(b, &saved); err != nil || saved.Cluster["kube_system_uid"] != "" || !strings.Contains(saved.Cluster["kube_system_unknown"], "forbidden") {
		t.Errorf("recorded identity = %v (%v)", saved.Cluster, err)
	}

	full := filepath.Join(dir, "full.plan")
	runOK(0, "plan", "--kubeconfig", c.Kubeconfig, "--out", full, dir)
	out = runOK(1, "apply", "--kubeconfig", restricted, full)
	if !strings.Contains(out, "perimeter cannot tell that it is the same cluster") {
		t.Errorf("a plan with the kube-system UID applied where it cannot be read:\n%s", out)
	}

	out = runOK(0, "apply", "--kubeconfig", c.Kubeconfig, urlOnly)
	if !strings.Contains(out, "Apply complete! Resources: 1 added") {
		t.Errorf("the URL-only plan was not applied on its URL:\n%s", out)
	}
}
