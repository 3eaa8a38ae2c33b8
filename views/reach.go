package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/reach"
)

// Describer names a connection end in the user's terms.
type Describer func(reach.Peer) string

// PolicyLabel names a NetworkPolicy with the HCL block(s) it came from when
// perimeter made it: `shop/default-deny (namespace "shop", main.hcl:15)`.
func PolicyLabel(e *reach.Engine, r reach.PolicyRef) string {
	np := e.Policy(r)
	if np == nil {
		return r.String()
	}
	blocks, sources := np.Annotations[ownership.AnnotationBlock], np.Annotations[ownership.AnnotationSource]
	if blocks == "" {
		return r.String()
	}
	b, s := strings.Split(blocks, ", "), strings.Split(sources, ", ")
	if len(b) != len(s) {
		return fmt.Sprintf("%s (%s, %s)", r, blocks, sources)
	}
	parts := make([]string, len(b))
	for i := range b {
		parts[i] = b[i] + ", " + s[i]
	}
	return fmt.Sprintf("%s (%s)", r, strings.Join(parts, "; "))
}

// RuleLabel names the rule that admitted a connection, with its origin.
func RuleLabel(e *reach.Engine, r reach.RuleRef) string {
	return fmt.Sprintf("%s %s rule %d", PolicyLabel(e, r.Policy), strings.ToLower(string(r.Direction)), r.Rule)
}

// ipBlockNote qualifies a rule that admitted a pod by an ipBlock.
const ipBlockNote = " (an ipBlock matching a pod IP: whether ipBlocks apply to pod traffic is implementation-defined in Kubernetes)"

// ReachReason is a one-line reason for a verdict: which policy and rule
// allowed it, which direction has no rule admitting it, or, when unknown,
// which rules may admit it and the facts that would settle it.
func ReachReason(e *reach.Engine, v reach.Verdict) string {
	switch {
	case v.Loopback:
		return "allowed: a pod's traffic to itself is never blocked"
	case v.Unresolved:
		return fmt.Sprintf("denied: the destination has no container port named %s", v.Port)
	}
	var parts []string
	for _, d := range []struct {
		name string
		v    reach.DirectionVerdict
	}{{"egress", v.Egress}, {"ingress", v.Ingress}} {
		if s := directionReason(e, d.name, d.v); s != "" && (v.Allowed || !d.v.Allowed()) {
			parts = append(parts, s)
		}
	}
	if v.Unknown || v.Pairs.Unknown > 0 {
		parts = append(parts, FactList(v.Facts))
	}
	return strings.ToLower(Verdict(v)) + ": " + strings.Join(parts, "; ") + liveNotes(v)
}

// liveNotes qualifies a verdict over live pods: how many pod pairs it
// covers, and which ends no pod matches.
func liveNotes(v reach.Verdict) string {
	var notes []string
	if c := v.Pairs; c.Total() > 1 {
		n := fmt.Sprintf("%d pod pair(s): %d allowed, %d denied", c.Total(), c.Allowed, c.Denied)
		if c.Unknown > 0 {
			n += fmt.Sprintf(", %d unknown", c.Unknown)
		}
		notes = append(notes, n+fmt.Sprintf("; shown: %s -> %s", v.From, v.To))
	}
	for _, e := range v.NoPods {
		notes = append(notes, fmt.Sprintf("no pod in the cluster matches %s: evaluated for a representative pod", e))
	}
	if len(notes) == 0 {
		return ""
	}
	return " [" + strings.Join(notes, "; ") + "]"
}

// FactList joins what is not known, e.g. `namespace "tools": whether it
// has label team is not known`.
func FactList(fs []reach.Fact) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return strings.Join(out, "; ")
}

// Settle lists how to supply each missing fact of a verdict (deduplicated,
// in order).
func Settle(v reach.Verdict) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range v.Facts {
		if f.Settle != "" && !seen[f.Settle] {
			seen[f.Settle] = true
			out = append(out, f.Settle)
		}
	}
	return out
}

func directionReason(e *reach.Engine, dir string, d reach.DirectionVerdict) string {
	switch {
	case d.Tiers != nil:
		return tierReason(e, dir, d)
	case !d.Applies:
		return ""
	case len(d.MaybeIsolatedBy) > 0:
		return fmt.Sprintf("%s unknown: %s select%s it only if its pods carry labels not known", dir, policyList(e, d.MaybeIsolatedBy), plural1(len(d.MaybeIsolatedBy)))
	case !d.Isolated:
		return dir + " open (no policy isolates it)"
	case d.Allowed():
		return dir + " by " + ruleList(e, d.AllowedBy)
	case d.Unknown():
		return fmt.Sprintf("%s only if %s admits it", dir, ruleList(e, d.Undecided))
	}
	return fmt.Sprintf("no %s rule admits it (isolated by %s)", dir, policyList(e, d.IsolatedBy))
}

func ruleList(e *reach.Engine, rules []reach.RuleRef) string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = RuleLabel(e, r)
		if r.PodByIPBlock {
			out[i] += ipBlockNote
		}
	}
	return strings.Join(out, " and ")
}

func policyList(e *reach.Engine, refs []reach.PolicyRef) string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = PolicyLabel(e, r)
	}
	return strings.Join(out, ", ")
}

// Verdict renders ALLOWED, DENIED or UNKNOWN.
func Verdict(v reach.Verdict) string {
	switch {
	case v.Unknown:
		return "UNKNOWN"
	case v.Allowed:
		return "ALLOWED"
	}
	return "DENIED"
}

// directionState renders a direction's outcome in lower case.
func directionState(d reach.DirectionVerdict) string {
	switch {
	case d.Allowed():
		return "allowed"
	case d.Unknown():
		return "unknown"
	}
	return "denied"
}

// WriteReachExplanation writes the chain of reasons behind a verdict: each
// direction, the policies isolating that end, and the rules admitting the
// connection or the fact that none does.
func WriteReachExplanation(w io.Writer, e *reach.Engine, v reach.Verdict, describe Describer) {
	from, to := describe(v.From), describe(v.To)
	fmt.Fprintf(w, "%s -> %s on %s: %s\n\n", from, to, v.Port, Verdict(v))
	if v.Pairs.Mixed() {
		fmt.Fprintf(w, "  Some pod pairs are allowed and others denied; shown: a denied pair.\n\n")
	}
	switch {
	case v.Loopback:
		fmt.Fprintln(w, "  A pod's traffic to itself is never blocked by NetworkPolicy.")
		return
	case v.Unresolved:
		fmt.Fprintf(w, "  %s has no container port named %s: there is nothing to connect to.\n", to, v.Port)
		return
	}
	writeDirection(w, e, "Egress", "from", from, v.Egress, to, v.Port)
	writeDirection(w, e, "Ingress", "to", to, v.Ingress, from, v.Port)
	writeUnknown(w, v)
	if n := liveNotes(v); n != "" {
		fmt.Fprintf(w, "Pod pairs: %s\n", strings.Trim(n, " []"))
	}
}

// writeUnknown lists the facts an unknown verdict depends on and how to
// settle each.
func writeUnknown(w io.Writer, v reach.Verdict) {
	switch {
	case v.Unknown:
		fmt.Fprintln(w, "Unknown, because the intent does not say:")
	case v.Pairs.Unknown > 0:
		fmt.Fprintln(w, "Unknown for some pod pairs, because the intent does not say:")
	default:
		return
	}
	for _, f := range v.Facts {
		fmt.Fprintf(w, "  %s\n", f)
		if f.Settle != "" {
			fmt.Fprintf(w, "    to settle it: %s\n", f.Settle)
		}
	}
}

func writeDirection(w io.Writer, e *reach.Engine, dir, prep, subject string, d reach.DirectionVerdict, other string, port reach.Port) {
	lower := strings.ToLower(dir)
	switch {
	case d.Tiers != nil:
		writeTierDirection(w, e, dir, prep, subject, d, other, port)
		return
	case !d.Applies:
		fmt.Fprintf(w, "%s %s %s: not governed (outside the cluster)\n", dir, prep, subject)
		return
	case !d.Isolated && len(d.MaybeIsolatedBy) == 0:
		fmt.Fprintf(w, "%s %s %s: allowed\n  no NetworkPolicy selects it for %s, so all %s is open\n", dir, prep, subject, lower, lower)
		return
	}
	fmt.Fprintf(w, "%s %s %s: %s\n", dir, prep, subject, directionState(d))
	writePolicies(w, e, "  isolated for "+lower+" by:", d.IsolatedBy)
	writePolicies(w, e, "  isolated for "+lower+", if its pods carry labels they are not known to carry, by:", d.MaybeIsolatedBy)
	switch {
	case d.Unknown() && len(d.Undecided) == 0:
		fmt.Fprintf(w, "  no %s rule of these policies admits %s on %s: it is denied if they select it\n", lower, other, port)
	case d.Unknown():
		fmt.Fprintf(w, "  no %s rule of these policies surely admits %s on %s; these may, depending on facts listed below:\n", lower, other, port)
		for _, r := range d.Undecided {
			fmt.Fprintf(w, "    %s %s\n", e.PolicyKind(r.Policy), ruleDetail(e, r))
		}
	case !d.Allowed():
		fmt.Fprintf(w, "  no %s rule of these policies admits %s on %s\n", lower, other, port)
	default:
		fmt.Fprintln(w, "  admitted by:")
		for _, r := range d.AllowedBy {
			fmt.Fprintf(w, "    %s %s\n", e.PolicyKind(r.Policy), ruleDetail(e, r))
		}
	}
}

// writePolicies lists policies under a heading, if there are any.
func writePolicies(w io.Writer, e *reach.Engine, heading string, refs []reach.PolicyRef) {
	if len(refs) == 0 {
		return
	}
	fmt.Fprintln(w, heading)
	for _, r := range refs {
		fmt.Fprintf(w, "    %s %s\n", e.PolicyKind(r), PolicyLabel(e, r))
	}
}

// plural1 is the verb ending for a subject of n things: "s" for one.
func plural1(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

func ruleDetail(e *reach.Engine, r reach.RuleRef) string {
	s := RuleLabel(e, r)
	peer, port := "every peer", "every port"
	if r.Peer >= 0 {
		peer = fmt.Sprintf("peer %d", r.Peer)
	}
	if r.Port >= 0 {
		port = fmt.Sprintf("port %d", r.Port)
	}
	s += " (" + peer + ", " + port + ")"
	if r.PodByIPBlock {
		s += ipBlockNote
	}
	return s
}
