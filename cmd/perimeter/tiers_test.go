package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/ownership"
)

// Guardrails and baselines are cluster-scoped members of the stack's
// ApplySet: a plan by an identity that may not write ClusterNetworkPolicies
// says so, apply creates them with the member labels and records their
// kind in the parent, a second plan has no changes, and removing a block
// prunes its policy.
func TestClusterPoliciesPlanApplyPrune(t *testing.T) {
	c, ns, dir := oneNamespaceStack(t)
	stack := "s" + ns[len(ns)-6:]
	guardrail, baseline := stack+"-no-metadata", stack+"-dns-only"
	tiers := fmt.Sprintf(`
guardrail %q {
  priority = 10
  subject  = namespace.app
  egress "metadata" {
    action = "deny"
    to     = cidr("169.254.169.254/32")
  }
}

baseline %q {
  priority = 900
  subject  = namespace.app
  egress "dns" {
    action = "accept"
    to     = pods("kube-system", { k8s-app = "kube-dns" })
    ports  = ["53/udp", "53/tcp"]
  }
  egress "rest" {
    action = "deny"
    to     = [cidr("0.0.0.0/0"), cidr("::/0")]
  }
}
`, guardrail, baseline)
	main := filepath.Join(dir, "main.hcl")
	appendFile(t, main, tiers)
	perimeter := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != want {
			t.Fatalf("perimeter %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}

	// an application team's identity: reads everything, writes only in
	// namespaces
	user := "app-" + ns
	app := c.WriteKubeconfig(t, c.RestrictedConfig(t, user, []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"create", "patch", "delete"}},
	}, ""))
	out := perimeter(1, "plan", "--kubeconfig", app, dir)
	if want := "ClusterNetworkPolicy " + guardrail + " (guardrail \"" + guardrail + "\" at main.hcl:11):\n    this identity may not write cluster-scoped policies (guardrails and baselines need a ClusterRole"; !strings.Contains(out, want) {
		t.Errorf("plan by %s does not say %q:\n%s", user, want, out)
	}

	out = perimeter(0, "plan", "--kubeconfig", c.Kubeconfig, dir)
	for _, want := range []string{
		"+ guardrail deny " + ns + "/* -> 169.254.169.254/32 (all ports) [priority 10, egress rule 0 \"metadata\"]",
		"+ baseline deny " + ns + "/* -> 0.0.0.0/0,::/0 (all ports) [priority 900, egress rule 1 \"rest\"]",
		"# ClusterNetworkPolicy " + guardrail + " will be created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not say %q:\n%s", want, out)
		}
	}

	out = perimeter(0, "apply", "--auto-approve", "--kubeconfig", c.Kubeconfig, dir)
	if !strings.Contains(out, "ClusterNetworkPolicy "+guardrail+": created") {
		t.Errorf("apply:\n%s", out)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	res := dyn.Resource(generate.ClusterNetworkPolicyKind.GroupVersion().WithResource("clusternetworkpolicies"))
	for _, name := range []string{guardrail, baseline} {
		obj, err := res.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		if !ownership.IsMember(obj, stack, "default") {
			t.Errorf("%s is not a member of the stack's ApplySet: %v", name, obj.GetLabels())
		}
	}
	cs := kubernetes.NewForConfigOrDie(c.Config)
	parent, err := cs.CoreV1().ConfigMaps("default").Get(context.Background(), ownership.ParentName(stack), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if kinds := parent.Annotations[ownership.AnnotationApplySetGroupKinds]; !strings.Contains(kinds, "ClusterNetworkPolicy.policy.networking.k8s.io") {
		t.Errorf("the parent's group-kinds %q leave out ClusterNetworkPolicy", kinds)
	}
	if out := perimeter(0, "plan", "--kubeconfig", c.Kubeconfig, dir); !strings.Contains(out, "No changes.") {
		t.Errorf("second plan:\n%s", out)
	}

	// remove the baseline block: the application team's identity is told
	// it cannot delete it; apply prunes it, the guardrail stays
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(string(src), "baseline ")
	if err := os.WriteFile(main, src[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	out = perimeter(0, "plan", "--kubeconfig", app, dir)
	if want := fmt.Sprintf("Identity %q cannot delete clusternetworkpolicies", user); !strings.Contains(out, "Identity cannot write cluster-scoped policies") || !strings.Contains(out, want) {
		t.Errorf("plan of a delete by %s does not warn %q:\n%s", user, want, out)
	}
	out = perimeter(0, "apply", "--auto-approve", "--kubeconfig", c.Kubeconfig, dir)
	if !strings.Contains(out, "- baseline deny") || !strings.Contains(out, "ClusterNetworkPolicy "+baseline+": destroyed") {
		t.Errorf("apply after removing the baseline:\n%s", out)
	}
	if _, err := res.Get(context.Background(), baseline, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the baseline is still there: %v", err)
	}
	if _, err := res.Get(context.Background(), guardrail, metav1.GetOptions{}); err != nil {
		t.Errorf("the guardrail is gone: %v", err)
	}
	perimeter(0, "destroy", "--auto-approve", "--kubeconfig", c.Kubeconfig, dir)
	if _, err := res.Get(context.Background(), guardrail, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("destroy left the guardrail: %v", err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
