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
