package main

import (
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
	"github.com/perimeter-dev/perimeter/views"
)

func newCheck() *cobra.Command {
	var f compileFlags
	var lf liveFlags
	var strict, enforce bool
	var output string
	cmd := &cobra.Command{
		Use:   "check [DIR]",
		Short: "Evaluate the intent's check blocks against the policies it compiles to",
		Long: `check compiles the intent in DIR (default: the current directory) and
evaluates every check block against the NetworkPolicies it produces, with
Kubernetes NetworkPolicy semantics. Each check prints PASS or FAIL with its
file:line, the verdict, and the reason: the policy and HCL block whose rule
allowed the connection, or the direction no rule admits it in. A check
whose verdict depends on a fact the intent does not hold (a namespace's
labels, the pods' named ports, pod IPs) is UNKNOWN, with the fact that
would settle it. The exit status is 1 when any expectation fails, and with
--strict also when any is unknown.

Each endpoint stands for one representative pod (a service for a pod with
its selector's labels and its target port, its other labels unknown: a
policy selecting by another label makes a verdict that depends on it
UNKNOWN); an IP block for its first
usable address. A check without a port uses the destination service's
target port; a port range or a bare protocol ("udp") expects every port of
it to have the verdict.

With --live (and --kubeconfig, --context as for plan), the endpoints stand
for the cluster's real pods instead (a service for the pods its selector
matches, and so on; every pair of them is evaluated), namespaces have their
live labels, and the cluster's NetworkPolicies apply alongside the intent's
(which replace the stack's own): one LIST each of Namespaces, Pods and
NetworkPolicies. The unknowns of the intent-level model disappear.` + enforceHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", output)
			}
			if enforce {
				if lf.live || output != "text" {
					return fmt.Errorf("--enforce works alone: not with --live or --output json")
				}
				return runEnforce(cmd, dirArg(args), f, strict)
			}
			in, src, w, err := loadReach(cmd, dirArg(args), f, lf)
			if err != nil {
				return err
			}
			results := evaluateChecks(in, w, src)
			switch output {
			case "json":
				if err := writeCheckJSON(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			default:
				writeCheckResults(cmd.OutOrStdout(), results, true)
			}
			if checksFailed(results, strict) {
				return errExit{1}
			}
			return nil
		},
	}
	f.register(cmd)
	lf.register(cmd)
	cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 when a check's verdict is unknown (or, with --enforce, not probed), too")
	cmd.Flags().BoolVar(&enforce, "enforce", false, "run the checks on real packets instead: enforced by kube-router in a private network namespace (Linux, root), each probe shown beside reach's verdict")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json (one entry per check, with its HCL range)")
	return cmd
}

// loadReach loads and compiles the intent and builds its reachability
// evaluator (over the live cluster with --live), printing diagnostics.
func loadReach(cmd *cobra.Command, dir string, f compileFlags, lf liveFlags) (*hclspec.Intent, *hclspec.Sources, *reach.Intent, error) {
	in, src, diags := f.load(dir)
	if in == nil || diags.HasErrors() {
		printDiagnostics(cmd.ErrOrStderr(), src, diags)
		summarize(cmd.ErrOrStderr(), diags)
		return nil, src, nil, errDiagnostics
	}
	var w *reach.Intent
	var d hcl.Diagnostics
	if lf.live {
		client, err := lf.connect()
		if err != nil {
			return nil, src, nil, err
		}
		w, d = buildLiveReach(cmd.Context(), client, in)
	} else {
		w, d = buildReach(in)
	}
	diags = append(diags, d...)
	printDiagnostics(cmd.ErrOrStderr(), src, diags)
	if diags.HasErrors() {
		summarize(cmd.ErrOrStderr(), diags)
		return nil, src, nil, errDiagnostics
	}
	return in, src, w, nil
}

// buildReach compiles the intent and builds an evaluator over its policies.
func buildReach(in *hclspec.Intent) (*reach.Intent, hcl.Diagnostics) {
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		return nil, diags
	}
	o, err := reach.FromObjects(objs)
	if err == nil {
		var w *reach.Intent
		if w, err = reach.FromIntentObjects(in, o); err == nil {
			return w, diags
		}
	}
	return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot evaluate the policies", Detail: err.Error()})
}

// checkResult is the outcome of one check block: pass, fail, or unknown
// when the verdict depends on facts the intent does not hold.
type checkResult struct {
	check   *hclspec.Check
	pass    bool
	unknown bool
	what    string // "<from> -> <to> on <ports>"
	reason  string
	settle  []string // how to supply the missing facts
}

func (r checkResult) status() string {
	switch {
	case r.pass:
		return "PASS"
	case r.unknown:
		return "UNKNOWN"
	}
	return "FAIL"
}

// evaluateChecks evaluates every check block, in source order.
func evaluateChecks(in *hclspec.Intent, w *reach.Intent, src *hclspec.Sources) []checkResult {
	var out []checkResult
	for _, c := range in.Checks {
		out = append(out, evaluateCheck(c, w, src))
	}
	return out
}

func evaluateCheck(c *hclspec.Check, w *reach.Intent, src *hclspec.Sources) checkResult {
	r := checkResult{check: c, what: exprText(src, c.From.Range) + " -> " + exprText(src, c.To.Range)}
	var from reach.Peer
	var err error
	if c.FromGateway != nil {
		from = w.GatewayPeer(c.FromGateway)
	} else {
		from, err = w.Peer(c.From)
	}
	var to reach.Peer
	if err == nil {
		to, err = w.Peer(c.To)
	}
	var ports reach.PortRange
	if err == nil {
		ports, err = reach.PortsFor(c.Port, c.To)
	}
	if err != nil {
		r.reason = "cannot evaluate: " + err.Error()
		return r
	}
	r.what += " on " + ports.String()
	expectAllow := c.Expect == "allow"
	rv := w.EvaluateRange(from, to, ports, expectAllow)
	r.pass = rv.Contrary == 0 && rv.Undecided == 0
	r.unknown = rv.Contrary == 0 && rv.Undecided > 0
	r.reason = views.ReachReason(w.Engine, rv.Sample)
	if n := rv.Allowed + rv.Denied + rv.Unknown + rv.Mixed; n > 1 {
		counts := fmt.Sprintf("%d port(s) allowed, %d denied", rv.Allowed, rv.Denied)
		if rv.Unknown > 0 {
			counts += fmt.Sprintf(", %d unknown", rv.Unknown)
		}
		if rv.Mixed > 0 {
			counts += fmt.Sprintf(", %d allowed for some pods only", rv.Mixed)
		}
		r.reason = fmt.Sprintf("%s; on %s %s", counts, rv.Sample.Port, r.reason)
	}
	if r.unknown {
		r.settle = views.Settle(rv.Sample)
	}
	return r
}

// exprText is the HCL source of an expression, as the user wrote it.
func exprText(src *hclspec.Sources, r hcl.Range) string {
	if src != nil {
		if f := src.Files()[r.Filename]; f != nil && r.End.Byte <= len(f.Bytes) && r.Start.Byte < r.End.Byte {
			return string(f.Bytes[r.Start.Byte:r.End.Byte])
		}
	}
	return r.String()
}

// writeCheckResults prints a PASS/FAIL/UNKNOWN line per check (only
// failures and unknowns when all is false) and a summary.
func writeCheckResults(out io.Writer, results []checkResult, all bool) {
	for _, r := range results {
		if r.pass && !all {
			continue
		}
		fmt.Fprintf(out, "%s %s: %s: %s (expected %s)\n     %s\n",
			r.status(), generate.Source(r.check.Range), r.check.Block, r.what, r.check.Expect, r.reason)
		for _, s := range r.settle {
			fmt.Fprintf(out, "     to settle it: %s\n", s)
		}
	}
	failed, unknown := failedChecks(results), unknownChecks(results)
	summary := fmt.Sprintf("%d check(s): %d passed, %d failed", len(results), len(results)-failed-unknown, failed)
	if unknown > 0 {
		summary += fmt.Sprintf(", %d unknown", unknown)
	}
	fmt.Fprintln(out, summary+".")
}

func failedChecks(results []checkResult) int {
	n := 0
	for _, r := range results {
		if !r.pass && !r.unknown {
			n++
		}
	}
	return n
}

func unknownChecks(results []checkResult) int {
	n := 0
	for _, r := range results {
		if r.unknown {
			n++
		}
	}
	return n
}

// checksFailed reports whether the results make check exit 1: a failure,
// or with strict an unknown.
func checksFailed(results []checkResult, strict bool) bool {
	return failedChecks(results) > 0 || (strict && unknownChecks(results) > 0)
}

// validateChecks runs the check blocks for validate, printing failures and
// unknowns; it reports whether no check failed (or, with strict, was
// unknown).
func validateChecks(out io.Writer, in *hclspec.Intent, src *hclspec.Sources, strict bool) bool {
	if len(in.Checks) == 0 {
		return true
	}
	w, diags := buildReach(in)
	if diags.HasErrors() {
		return true // compile errors are validate's own to report
	}
	results := evaluateChecks(in, w, src)
	writeCheckResults(out, results, false)
	return !checksFailed(results, strict)
}
