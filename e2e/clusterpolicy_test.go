package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

// tierIntent is a stack with guardrails and baselines that use every
// construct the standard channel of ClusterNetworkPolicy has: both tiers,
// every action, every subject and peer kind, every protocol, single ports,
// ranges and bare protocols.
const tierIntent = `
perimeter { stack = "tiers" }

namespace "shop" {}

service "users" {
  namespace = "shop"
  selector  = { app = "users" }
  port      = 80
}

guardrail "e2e-no-metadata" {
  priority = 0
  subject  = namespaces({})
  egress "metadata" {
    action = "deny"
    to     = [cidr("169.254.169.254/32"), cidr("fd00:ec2::254/128")]
  }
}

guardrail "e2e-users" {
  priority = 1000
  subject  = service.users
  ingress "monitoring" {
    action = "accept"
    from   = [pods("monitoring", { app = "prom" }), namespaces({ team = "sre" })]
    ports  = ["9090", "udp", "8000-8100/sctp"]
  }
  ingress "rest" {
    action = "pass"
    from   = namespaces({})
  }
  egress "shop" {
    action = "accept"
    to     = [namespace.shop, service.users]
    ports  = ["8080/tcp"]
  }
}

baseline "e2e-dns-only" {
  priority = 100
  subject  = pods("shop", {})
  egress "dns" {
    action = "accept"
    to     = pods("kube-system", { k8s-app = "kube-dns" })
    ports  = ["53/udp", "53/tcp"]
  }
  egress "rest" {
    action = "deny"
    to     = [cidr("0.0.0.0/0"), cidr("::/0"), namespaces({})]
  }
  ingress "other namespaces" {
    action = "deny"
    from   = namespaces({})
  }
}
`

// TestClusterPoliciesAccepted applies every ClusterNetworkPolicy the tier
// intent compiles to, dry-run and then for real: the API server (with the
// standard-channel CRD from sigs.k8s.io/network-policy-api) accepts each
// one and keeps every field as perimeter sent it.
func TestClusterPoliciesAccepted(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	objs := compileIntent(t, tierIntent)
	n := 0
	for _, o := range objs {
		if o.GetKind() != "ClusterNetworkPolicy" {
			continue
		}
		n++
		if _, err := a.apply(o, true); err != nil {
			t.Errorf("dry-run rejected %s: %v", describe(o), err)
			continue
		}
		live, err := a.apply(o, false)
		if err != nil {
			t.Errorf("apply rejected %s: %v", describe(o), err)
			continue
		}
		if diff := subsetDiff("", o.Object, live.Object); diff != "" {
			t.Errorf("%s: the server changed fields perimeter set: %s", describe(o), diff)
		}
	}
	if n != 3 {
		t.Fatalf("the intent compiles to %d ClusterNetworkPolicies, want 3", n)
	}
}

// compileIntent decodes and compiles one main.hcl, failing on errors.
func compileIntent(t *testing.T, src string) []*unstructured.Unstructured {
	t.Helper()
	objs, diags := tryCompile(src)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", diags.Error())
	}
	return generate.ForOutput(objs)
}

func tryCompile(src string) ([]*unstructured.Unstructured, hcl.Diagnostics) {
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		return nil, diags
	}
	in, d := hclspec.Decode(files, hclspec.Options{})
	if diags = append(diags, d...); in == nil {
		return nil, diags
	}
	objs, d := generate.Objects(in)
	return objs, append(diags, d...)
}

// guardrailIntent wraps one guardrail body in a stack; setting adds lines
// to its perimeter block.
func guardrailIntent(name, setting, body string) string {
	return fmt.Sprintf(`perimeter {
  stack = "tiers"
  %s
}

namespace "shop" {}

guardrail %q {
%s
}
`, setting, name, body)
}

// repeat joins n copies of format, each given its index.
func repeat(n int, sep, format string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, sep)
}

// rejectBase is the valid guardrail every rejection case starts from.
const rejectBase = `  priority = 1
  subject  = namespaces({})
  egress "x" {
    action = "deny"
    to     = cidr("10.0.0.0/8")
  }`

// rejection is one thing validate refuses in a guardrail: the HCL, the
// diagnostic, and the same thing written straight to the API (a change to
// the compiled base guardrail), which the API server must refuse too,
// unless stricter says why perimeter refuses what the CRD lets through.
type rejection struct {
	name, setting, body, summary string
	mutate                       func(u *unstructured.Unstructured)
	stricter                     string
}

func rejections() []rejection {
	rule := func(to string) string {
		return "  priority = 1\n  subject = namespaces({})\n  egress \"x\" {\n    action = \"deny\"\n    to = " + to + "\n  }"
	}
	ports := func(p string) string {
		return "  priority = 1\n  subject = namespaces({})\n  egress \"x\" {\n    action = \"deny\"\n    to = namespaces({})\n    ports = " + p + "\n  }"
	}
	egress0 := func(u *unstructured.Unstructured) map[string]any {
		return u.Object["spec"].(map[string]any)["egress"].([]any)[0].(map[string]any)
	}
	setSpec := func(field string, v any) func(*unstructured.Unstructured) {
		return func(u *unstructured.Unstructured) { u.Object["spec"].(map[string]any)[field] = v }
	}
	setRule := func(field string, v any) func(*unstructured.Unstructured) {
		return func(u *unstructured.Unstructured) { egress0(u)[field] = v }
	}
	many := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	denyRule := func(i int) any {
		return map[string]any{"action": "Deny", "name": fmt.Sprint("r", i), "to": []any{map[string]any{"networks": []any{"10.0.0.0/8"}}}}
	}
	tcp := func(port any) any { return map[string]any{"tcp": map[string]any{"destinationPort": port}} }
	return []rejection{
		{name: "priority above 1000", body: strings.Replace(rejectBase, "priority = 1", "priority = 1001", 1), summary: "Invalid number", mutate: setSpec("priority", int64(1001))},
		{name: "negative priority", body: strings.Replace(rejectBase, "priority = 1", "priority = -1", 1), summary: "Invalid number", mutate: setSpec("priority", int64(-1))},
		{name: "26 egress rules", body: "  priority = 1\n  subject = namespaces({})\n" + repeat(26, "\n", "  egress \"r%d\" {\n    action = \"deny\"\n    to = cidr(\"10.0.0.0/8\")\n  }"),
			summary: "Too many rules", mutate: setSpec("egress", many(26, denyRule))},
		{name: "26 ingress rules", body: "  priority = 1\n  subject = namespaces({})\n" + repeat(26, "\n", "  ingress \"r%d\" {\n    action = \"deny\"\n    from = namespaces({})\n  }"),
			summary: "Too many rules", mutate: setSpec("ingress", many(26, func(i int) any {
				return map[string]any{"action": "Deny", "name": fmt.Sprint("r", i), "from": []any{map[string]any{"namespaces": map[string]any{}}}}
			}))},
		{name: "rule name over 100 characters", body: strings.Replace(rejectBase, `egress "x"`, `egress "`+strings.Repeat("n", 101)+`"`, 1),
			summary: "Rule name too long", mutate: setRule("name", strings.Repeat("n", 101))},
		{name: "26 peers", body: rule("[" + repeat(26, ", ", `pods("shop", { app = "a%d" })`) + "]"), summary: "Too many peers",
			mutate: setRule("to", many(26, func(i int) any {
				return map[string]any{"namespaces": map[string]any{"matchLabels": map[string]any{"app": fmt.Sprint("a", i)}}}
			}))},
		{name: "26 networks", body: rule("[" + repeat(26, ", ", `cidr("10.%d.0.0/16")`) + "]"), summary: "Too many peers",
			mutate: setRule("to", []any{map[string]any{"networks": many(26, func(i int) any { return fmt.Sprintf("10.%d.0.0/16", i) })}})},
		{name: "26 ports", body: ports("[" + repeat(26, ", ", `"10%02d"`) + "]"), summary: "Too many ports",
			mutate: setRule("protocols", many(26, func(i int) any { return tcp(map[string]any{"number": int64(1000 + i)}) }))},
		{name: "port range backwards", body: ports(`["8100-8000"]`), summary: "Invalid port",
			mutate: setRule("protocols", []any{tcp(map[string]any{"range": map[string]any{"start": int64(8100), "end": int64(8000)}})})},
		{name: "port above 65535", body: ports(`["65536"]`), summary: "Invalid port", mutate: setRule("protocols", []any{tcp(map[string]any{"number": int64(65536)})})},
		{name: "named port", body: ports(`["http"]`), summary: "Named port in a cluster policy", mutate: setRule("protocols", []any{map[string]any{"destinationNamedPort": "http"}})},
		{name: "CIDR with host bits", body: rule(`cidr("10.0.0.1/8")`), summary: "Invalid function argument",
			mutate: setRule("to", []any{map[string]any{"networks": []any{"10.0.0.1/8"}}})},
		{name: "empty destination list", body: rule("[]"), summary: "Empty endpoint list", mutate: setRule("to", []any{})},
		{name: "unknown action", body: strings.Replace(rejectBase, `"deny"`, `"allow"`, 1), summary: "Invalid value", mutate: setRule("action", "Allow")},
		{name: "IP block in an ingress rule", body: "  priority = 1\n  subject = namespaces({})\n  ingress \"x\" {\n    action = \"deny\"\n    from = cidr(\"10.0.0.0/8\")\n  }",
			summary: "IP block in a cluster ingress rule", mutate: setSpec("ingress", []any{map[string]any{"action": "Deny", "from": []any{map[string]any{"networks": []any{"10.0.0.0/8"}}}}})},
		{name: "two subjects", body: strings.Replace(rejectBase, "namespaces({})", "[namespace.shop, namespaces({})]", 1), summary: "One subject per policy",
			mutate: setSpec("subject", map[string]any{"namespaces": map[string]any{}, "pods": map[string]any{"namespaceSelector": map[string]any{}, "podSelector": map[string]any{}}})},
		{name: "invalid label key", body: strings.Replace(rejectBase, "namespaces({})", `namespaces({ "bad key!" = "x" })`, 1), summary: "Invalid function argument",
			mutate:   setSpec("subject", map[string]any{"namespaces": map[string]any{"matchLabels": map[string]any{"bad key!": "x"}}}),
			stricter: "the CRD's schema does not check label selectors; no label can have that key, so the selector would match nothing"},
		{name: "invalid policy name", body: rejectBase, summary: "Invalid cluster policy name", mutate: func(u *unstructured.Unstructured) { u.SetName("Bad_Name") }},
		// The standard channel has no domainNames: without fqdn_egress,
		// validate refuses what such a cluster would refuse at apply.
		{name: "domain name on the standard channel", body: strings.Replace(strings.Replace(rejectBase, `"deny"`, `"accept"`, 1), `cidr("10.0.0.0/8")`, `fqdn("api.stripe.com")`, 1),
			summary: "No implementation enforces egress by domain name", mutate: setRule("to", []any{map[string]any{"domainNames": []any{"api.stripe.com"}}})},
	}
}

// TestClusterPolicyRejectionsAgree checks that what validate refuses in a
// guardrail, the API server refuses too: each case's HCL fails with its
// diagnostic, and the same object written to the API is rejected (except
// where perimeter is knowingly stricter, which the case says and the test
// confirms, so the list stays true).
func TestClusterPolicyRejectionsAgree(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	base := clusterPolicy(t, compileIntent(t, guardrailIntent("e2e-reject", "", rejectBase)))
	if _, err := a.apply(base, true); err != nil {
		t.Fatalf("the base guardrail is rejected: %v", err)
	}
	for i, rc := range rejections() {
		t.Run(rc.name, func(t *testing.T) {
			name := "e2e-reject"
			if rc.summary == "Invalid cluster policy name" {
				name = "Bad_Name"
			}
			_, diags := tryCompile(guardrailIntent(name, rc.setting, rc.body))
			if !hasError(diags, rc.summary) {
				t.Errorf("validate: want error %q, got %v", rc.summary, diags)
			}
			u := base.DeepCopy()
			u.SetName(fmt.Sprintf("e2e-reject-%d", i))
			rc.mutate(u)
			_, err := a.apply(u, true)
			switch {
			case rc.stricter == "" && err == nil:
				t.Errorf("the API server accepts %v", u.Object["spec"])
			case rc.stricter != "" && err != nil:
				t.Errorf("the API server now rejects this too (%v); drop the stricter note %q", err, rc.stricter)
			}
		})
	}
}

// clusterPolicy returns the one ClusterNetworkPolicy among objs.
func clusterPolicy(t *testing.T, objs []*unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ClusterNetworkPolicy" {
			out = append(out, o)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d ClusterNetworkPolicies, want 1", len(out))
	}
	return out[0]
}

func hasError(diags hcl.Diagnostics, summary string) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == summary {
			return true
		}
	}
	return false
}
