package lint

import (
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
)

// tiersHCL: an allow a guardrail denies, a baseline NetworkPolicies
// shadow in its namespace, and one that decides for a namespace no
// NetworkPolicy isolates (so its egress is not "left open").
const tiersHCL = `
perimeter { stack = "t" }

namespace "shop" {
  default_deny = ["ingress", "egress"]
}

namespace "tools" {}

service "users" {
  namespace = "shop"
  selector  = { app = "users" }
  port      = 80
}

guardrail "no-metadata" {
  priority = 10
  subject  = namespaces({})
  egress "metadata" {
    action = "deny"
    to     = cidr("169.254.0.0/16")
  }
}

allow "users reads metadata" {
  from  = service.users
  to    = cidr("169.254.169.254/32")
  ports = ["80/tcp"]
}

baseline "shop-egress" {
  priority = 100
  subject  = namespace.shop
  egress "deny" {
    action = "deny"
    to     = cidr("0.0.0.0/0")
  }
}

baseline "tools-egress" {
  priority = 101
  subject  = namespace.tools
  egress "deny" {
    action = "deny"
    to     = [cidr("0.0.0.0/0"), cidr("::/0")]
  }
}
`

func TestTierLints(t *testing.T) {
	in, _ := load(t, tiersHCL)
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := render(Intent(in, objs))
	for _, want := range []string{
		`main.hcl:25 Allow denied by a guardrail [] allow "users reads metadata" can never take effect for service.users -> cidr("169.254.169.254/32") on 80/TCP: admin guardrail "no-metadata" (main.hcl:16) egress rule 0 "metadata" denies its egress first`,
		`main.hcl:31 Baseline never takes effect [] baseline "shop-egress" applies to namespace "shop", whose pods NetworkPolicies already isolate for egress`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{`baseline "tools-egress"`, `"tools" may send`} {
		if strings.Contains(got, unwanted) {
			t.Errorf("false positive %q:\n%s", unwanted, got)
		}
	}
}

// TestShadowedAllowsShortcut: shadowedAllows skips evaluating when no
// Admin-tier rule denies; with an Admin rule that accepts or passes, a
// Baseline deny, or no cluster policy at all, evaluating every allow
// finds nothing either, and with an Admin deny the finding stays.
func TestShadowedAllowsShortcut(t *testing.T) {
	noGuardrail := strings.Replace(tiersHCL, "guardrail \"no-metadata\"", "baseline \"no-metadata\"", 1)
	for name, tc := range map[string]struct {
		hcl  string
		want int
	}{
		"admin deny":    {tiersHCL, 1},
		"admin pass":    {strings.Replace(tiersHCL, `action = "deny"`, `action = "pass"`, 1), 0},
		"admin accept":  {strings.Replace(tiersHCL, `action = "deny"`, `action = "accept"`, 1), 0},
		"baseline deny": {noGuardrail, 0},
	} {
		t.Run(name, func(t *testing.T) {
			in, _ := load(t, tc.hcl)
			objs, diags := generate.Objects(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			w := engineFor(in, objs, nil)
			if w == nil {
				t.Fatal("no engine")
			}
			var slow []Finding
			for _, a := range in.Allows {
				if f, ok := shadowedAllow(a, w); ok {
					slow = append(slow, f)
				}
			}
			fast := shadowedAllows(in, w)
			if len(fast) != tc.want || render(fast) != render(slow) {
				t.Errorf("shortcut found %d (want %d):\n%s\nevaluating every allow found:\n%s", len(fast), tc.want, render(fast), render(slow))
			}
		})
	}
}
