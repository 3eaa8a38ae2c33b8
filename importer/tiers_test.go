package importer

import (
	"os"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

// An AdminNetworkPolicy becomes a guardrail and a ClusterNetworkPolicy a
// guardrail or baseline; a BaselineAdminNetworkPolicy whose subject uses
// label expressions is reported, not written. The examples/platform
// objects import back into blocks that compile to the same
// ClusterNetworkPolicies.
func TestImportClusterTiers(t *testing.T) {
	b, err := os.ReadFile("testdata/tiers-v1alpha1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	in, _, diags := hclspec.Load("../examples/platform", hclspec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	platform, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, o := range platform {
		if o.GetKind() == "ClusterNetworkPolicy" {
			objs = append(objs, o)
		}
	}
	res, err := Import(objs, Options{Stack: "imported", Gateway: "infra/public"})
	if err != nil {
		t.Fatal(err)
	}
	hcl := string(res.HCL)
	for _, want := range []string{
		"fqdn_egress = \"cluster-network-policy\"",
		"guardrail \"cluster-control\" {\n  priority = 34\n  subject  = namespaces({})\n  ingress \"allow-from-monitoring\" {\n    action = \"accept\"",
		"  egress \"pass-to-dns\" {\n    action = \"pass\"\n    to     = pods(\"kube-system\", { k8s-app = \"kube-dns\" })\n    ports  = [\"53/udp\"]",
		"baseline \"egress-dns-only\" {\n  priority = 100",
		"    to     = [cidr(\"0.0.0.0/0\"), cidr(\"::/0\")]",
		"guardrail \"platform-users-pays-fqdn\" {\n  priority = 1000\n  subject  = pods(\"shop\", { app = \"users\" })",
		"    to     = fqdn(\"api.stripe.com\")",
	} {
		if !strings.Contains(hcl, want) {
			t.Errorf("missing %q in:\n%s", want, hcl)
		}
	}
	report := map[string]Severity{}
	for _, e := range res.Report {
		report[e.Object+" "+e.Item] = e.Severity
	}
	for obj, sev := range map[string]Severity{
		"AdminNetworkPolicy cluster-control ":                       Translated,
		"BaselineAdminNetworkPolicy default ":                       Dropped,
		"ClusterNetworkPolicy platform-users-pays-fqdn domainNames": Warning,
	} {
		if report[obj] != sev {
			t.Errorf("report for %q: %q, want %q (%v)", obj, report[obj], sev, res.Report)
		}
	}
}
