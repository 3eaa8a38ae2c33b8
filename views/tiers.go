package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/reach"
)

// TierPolicyLabel names a ClusterNetworkPolicy by the HCL block it came
// from when perimeter made it, `admin guardrail "no-metadata"
// (platform.hcl:12)`, and otherwise by kind, name and priority.
func TierPolicyLabel(e *reach.Engine, r reach.TierRuleRef) string {
	tier := strings.ToLower(string(r.Tier))
	if p := e.ClusterPolicy(r.Policy); p != nil {
		if block := p.Annotations[ownership.AnnotationBlock]; block != "" {
			switch {
			case strings.HasPrefix(block, "guardrail ") || strings.HasPrefix(block, "baseline "):
				if !strings.HasPrefix(block, tier+" ") {
					block = tier + " " + block
				}
			default: // an allow's egress by name, accepted at the Admin tier
				block += " (" + tier + " tier)"
			}
			if src := p.Annotations[ownership.AnnotationSource]; src != "" {
				return fmt.Sprintf("%s (%s)", block, src)
			}
			return block
		}
	}
	return fmt.Sprintf("%s ClusterNetworkPolicy %s (priority %d)", tier, r.Policy, r.Priority)
}

// TierRuleLabel names a rule of a ClusterNetworkPolicy with its origin:
// `admin guardrail "no-metadata" (platform.hcl:12) egress rule 0 "metadata"`.
func TierRuleLabel(e *reach.Engine, r reach.TierRuleRef) string {
	s := fmt.Sprintf("%s %s rule %d", TierPolicyLabel(e, r), strings.ToLower(string(r.Direction)), r.Rule)
	if r.RuleName != "" {
		s += fmt.Sprintf(" %q", r.RuleName)
	}
	return s
}

func tierRuleList(e *reach.Engine, rules []reach.TierRuleRef) string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = TierRuleLabel(e, r) + " (" + strings.ToLower(r.Action) + ")"
	}
	return strings.Join(out, " and ")
}

// tierReason is directionReason for a direction the cluster tiers decide.
func tierReason(e *reach.Engine, dir string, d reach.DirectionVerdict) string {
	t := d.Tiers
	passed := ""
	if len(t.Passed) > 0 {
		passed = " after " + tierRuleList(e, t.Passed) + " passed it on"
	}
	switch t.DecidedBy {
	case reach.TierAdmin:
		return fmt.Sprintf("%s %s by %s before any NetworkPolicy was consulted", dir, actionVerb(t.Rule.Action), TierRuleLabel(e, *t.Rule))
	case reach.TierNetworkPolicy:
		np := d
		np.Tiers = nil
		return directionReason(e, dir, np) + passed
	case reach.TierBaseline:
		return fmt.Sprintf("%s %s by %s, as no NetworkPolicy isolates it%s", dir, actionVerb(t.Rule.Action), TierRuleLabel(e, *t.Rule), passed)
	case reach.TierDefault:
		return fmt.Sprintf("%s open (no policy of any tier decides it%s)", dir, passed)
	}
	var parts []string
	if len(t.Undecided) > 0 {
		parts = append(parts, "whether "+tierRuleList(e, t.Undecided)+" match")
	}
	if len(d.MaybeIsolatedBy) > 0 {
		parts = append(parts, "whether "+policyList(e, d.MaybeIsolatedBy)+" select it (by labels not known)")
	}
	if len(d.Undecided) > 0 {
		parts = append(parts, "whether "+ruleList(e, d.Undecided)+" admits it")
	}
	return dir + " depends on " + strings.Join(parts, " and ")
}

func actionVerb(action string) string {
	if action == "Accept" {
		return "accepted"
	}
	return "denied"
}

// writeTierDirection explains a direction the cluster tiers decide, tier
// by tier in the order the API evaluates them, up to the one that decided.
func writeTierDirection(w io.Writer, e *reach.Engine, dir, prep, subject string, d reach.DirectionVerdict, other string, port reach.Port) {
	t := d.Tiers
	fmt.Fprintf(w, "%s %s %s: %s\n", dir, prep, subject, directionState(d))
	lower := strings.ToLower(dir)
	if t.DecidedBy == "" {
		fmt.Fprintf(w, "  depends on rules whose match is not known (facts below):\n")
		for _, r := range t.Undecided {
			fmt.Fprintf(w, "    %s (%s)\n", TierRuleLabel(e, r), strings.ToLower(r.Action))
		}
		for _, r := range d.MaybeIsolatedBy {
			fmt.Fprintf(w, "    %s %s (selects it only if its pods carry labels not known)\n", e.PolicyKind(r), PolicyLabel(e, r))
		}
		for _, r := range d.Undecided {
			fmt.Fprintf(w, "    %s %s\n", e.PolicyKind(r.Policy), ruleDetail(e, r))
		}
		return
	}
	admin := "no rule matches"
	if p := passedIn(t.Passed, reach.TierAdmin); p != nil {
		admin = "passed on by " + TierRuleLabel(e, *p)
	}
	if t.DecidedBy == reach.TierAdmin {
		fmt.Fprintf(w, "  1. Admin tier: %s by %s; final, no NetworkPolicy or baseline is consulted\n", actionVerb(t.Rule.Action), TierRuleLabel(e, *t.Rule))
		return
	}
	fmt.Fprintf(w, "  1. Admin tier: %s\n", admin)
	if t.DecidedBy == reach.TierNetworkPolicy {
		fmt.Fprintf(w, "  2. NetworkPolicy tier: final, as it isolates %s for %s:\n", subject, lower)
		np := d
		np.Tiers = nil
		var b strings.Builder
		writeDirection(&b, e, dir, prep, subject, np, other, port)
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "  %s\n", l)
		}
		return
	}
	fmt.Fprintf(w, "  2. NetworkPolicy tier: no NetworkPolicy selects it for %s\n", lower)
	baseline := "no rule matches"
	if p := passedIn(t.Passed, reach.TierBaseline); p != nil {
		baseline = "passed on by " + TierRuleLabel(e, *p)
	}
	if t.DecidedBy == reach.TierBaseline {
		baseline = fmt.Sprintf("%s by %s", actionVerb(t.Rule.Action), TierRuleLabel(e, *t.Rule))
	}
	fmt.Fprintf(w, "  3. Baseline tier: %s\n", baseline)
	if t.DecidedBy == reach.TierDefault {
		fmt.Fprintf(w, "  4. Default: allowed, as no tier decided\n")
	}
}

func passedIn(refs []reach.TierRuleRef, tier reach.Tier) *reach.TierRuleRef {
	for i := range refs {
		if refs[i].Tier == tier {
			return &refs[i]
		}
	}
	return nil
}

// tierMark marks a matrix cell a cluster tier decided: A+ or A- when an
// admin guardrail accepted or denied it, B+ or B- for a baseline; "" when
// NetworkPolicies or the default decided. A denied cell takes the mark of
// the direction that denied it (egress first), an allowed one that of any
// direction a tier accepted.
func tierMark(v *reach.Verdict) string {
	dirs := []reach.DirectionVerdict{v.Egress, v.Ingress}
	for _, tier := range []reach.Tier{reach.TierAdmin, reach.TierBaseline} {
		for _, d := range dirs {
			if d.Tiers == nil || d.Tiers.DecidedBy != tier || d.Allowed() != v.Allowed {
				continue
			}
			if v.Allowed {
				return string(tier[0]) + "+"
			}
			return string(tier[0]) + "-"
		}
	}
	return ""
}

func hasTierCells(m reach.Matrix) bool {
	for _, line := range m.Cells {
		for _, v := range line {
			if v != nil && !v.Unknown && tierMark(v) != "" {
				return true
			}
		}
	}
	return false
}
