package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/internal/controlplane"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/manifest"
)

// fqdnIntent uses domain names both ways perimeter compiles them: in a
// guardrail's accept rule, and as an allow's destination.
const fqdnIntent = `
perimeter {
  stack       = "names"
  fqdn_egress = "cluster-network-policy"
}

namespace "shop" {
  default_deny = ["egress"]
}

service "users" {
  namespace = "shop"
  selector  = { app = "users" }
  port      = 80
}

guardrail "e2e-payment-provider" {
  priority = 20
  subject  = service.users
  egress "stripe" {
    action = "accept"
    to     = [fqdn("api.stripe.com"), fqdn("*.stripe.com"), fqdn("hooks.stripe.com.")]
    ports  = ["443/tcp"]
  }
}

allow "users pays" {
  from  = service.users
  to    = fqdn("api.stripe.com")
  ports = ["443/tcp"]
}
`

// TestDomainNamesOnTheExperimentalChannel swaps in the experimental
// channel of the ClusterNetworkPolicy CRD (the only one with domainNames)
// and applies what domain names compile to: the API server accepts every
// object and keeps its fields; the domain names fqdn() refuses, the CRD's
// pattern refuses too; a domain name in a deny rule, which the API
// documents as unsupported and validate refuses, the CRD lets through.
// The standard channel is put back afterwards.
func TestDomainNamesOnTheExperimentalChannel(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	useExperimentalChannel(t, a)
	probe := clusterPolicy(t, compileIntent(t, guardrailIntent("e2e-fqdn-probe", `fqdn_egress = "cluster-network-policy"`,
		"  priority = 1\n  subject = namespaces({})\n  egress \"x\" {\n    action = \"accept\"\n    to = fqdn(\"api.stripe.com\")\n  }")))

	var applied []*unstructured.Unstructured
	t.Cleanup(func() { deleteAll(t, a, applied) })
	n := 0
	for _, o := range compileIntent(t, fqdnIntent) {
		a.ensureNamespace(t, o.GetNamespace())
		live, err := a.apply(o, false)
		if err != nil {
			t.Errorf("apply rejected %s: %v", describe(o), err)
			continue
		}
		applied = append(applied, o)
		if o.GetKind() == "ClusterNetworkPolicy" {
			n++
		}
		if diff := subsetDiff("", o.Object, live.Object); diff != "" {
			t.Errorf("%s: the server changed fields perimeter set: %s", describe(o), diff)
		}
	}
	if n != 2 {
		t.Errorf("%d ClusterNetworkPolicies with domain names, want 2 (the guardrail and the allow's)", n)
	}

	for _, name := range []string{"api*.stripe.com", "localhost", "*", "stripe.*", "-api.stripe.com"} {
		body := "  priority = 1\n  subject = namespaces({})\n  egress \"x\" {\n    action = \"accept\"\n    to = fqdn(\"" + name + "\")\n  }"
		if _, diags := tryCompile(guardrailIntent("e2e-fqdn-bad", `fqdn_egress = "cluster-network-policy"`, body)); !hasError(diags, "Invalid function argument") {
			t.Errorf("fqdn(%q): validate accepts it: %v", name, diags)
		}
		u := probe.DeepCopy()
		u.SetName("e2e-fqdn-bad")
		u.Object["spec"].(map[string]any)["egress"].([]any)[0].(map[string]any)["to"] = []any{map[string]any{"domainNames": []any{name}}}
		if _, err := a.apply(u, true); err == nil {
			t.Errorf("domain name %q: the API server accepts it", name)
		}
	}

	// stricter than the CRD: the API documents domainNames for accept
	// rules only, and no CEL rule enforces it
	deny := strings.Replace(`  priority = 1
  subject = namespaces({})
  egress "x" {
    action = "accept"
    to = fqdn("api.stripe.com")
  }`, `"accept"`, `"deny"`, 1)
	if _, diags := tryCompile(guardrailIntent("e2e-fqdn-deny", `fqdn_egress = "cluster-network-policy"`, deny)); !hasError(diags, "Domain name in a non-accept rule") {
		t.Errorf("a domain name in a deny rule: validate accepts it: %v", diags)
	}
	u := probe.DeepCopy()
	u.SetName("e2e-fqdn-deny")
	u.Object["spec"].(map[string]any)["egress"].([]any)[0].(map[string]any)["action"] = "Deny"
	if _, err := a.apply(u, true); err != nil {
		t.Errorf("the CRD now refuses domain names in deny rules (%v); validate's stricter rule can cite it", err)
	}
}

// installChannel applies the ClusterNetworkPolicy CRD of a channel from the
// network-policy-api module and waits until the server judges probe (a
// policy with domainNames) as that channel does: accepted or refused.
func installChannel(t *testing.T, a *applier, channel string, probe *unstructured.Unstructured, accepts bool) {
	t.Helper()
	dir, err := controlplane.ModuleCRDDir(context.Background(), controlplane.NetworkPolicyAPIModule, channel)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "policy.networking.k8s.io_clusternetworkpolicies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(b)
	if err != nil || len(objs) != 1 {
		t.Fatalf("the %s CRD: %d objects, %v", channel, len(objs), err)
	}
	if _, err := a.apply(objs[0], false); err != nil {
		t.Fatalf("installing the %s channel CRD: %v", channel, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := a.apply(probe, true)
		if (err == nil) == accepts {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("60s after installing the %s channel, the server still judges domainNames otherwise: %v", channel, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func deleteAll(t *testing.T, a *applier, objs []*unstructured.Unstructured) {
	for _, o := range objs {
		r, err := a.resource(o)
		if err == nil {
			err = r.Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s: %v", describe(o), err)
		}
	}
}

// useExperimentalChannel installs the experimental channel of the
// ClusterNetworkPolicy CRD for the rest of the test and puts the standard
// one back when it ends.
func useExperimentalChannel(t *testing.T, a *applier) {
	t.Helper()
	probe := clusterPolicy(t, compileIntent(t, guardrailIntent("e2e-fqdn-probe", `fqdn_egress = "cluster-network-policy"`,
		"  priority = 1\n  subject = namespaces({})\n  egress \"x\" {\n    action = \"accept\"\n    to = fqdn(\"api.stripe.com\")\n  }")))
	installChannel(t, a, "experimental", probe, true)
	t.Cleanup(func() { installChannel(t, a, "standard", probe, false) })
}
