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
	cmd := &cobra.Command{
		Use:   "check [DIR]",
		Short: "Evaluate the intent's check blocks against the policies it compiles to",
		Long: `check compiles the intent in DIR (default: the current directory) and
evaluates every check block against the NetworkPolicies it produces, with
Kubernetes NetworkPolicy semantics. Each check prints PASS or FAIL with its
file:line, the verdict, and the reason: the policy and HCL block whose rule
allowed the connection, or the direction no rule admits it in. The exit
status is 1 when any expectation fails.

Each endpoint stands for one representative pod (a service for a pod with
its selector's labels and its target port); an IP block for its first
usable address. A check without a port uses the destination service's
target port; a port range or a bare protocol ("udp") expects every port of
it to have the verdict.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, src, w, err := loadReach(cmd, dirArg(args), f)
			if err != nil {
				return err
			}
			results := evaluateChecks(in, w, src)
			writeCheckResults(cmd.OutOrStdout(), results, true)
			if failedChecks(results) > 0 {
				return errExit{1}
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// loadReach loads and compiles the intent and builds its reachability
// evaluator, printing diagnostics.
func loadReach(cmd *cobra.Command, dir string, f compileFlags) (*hclspec.Intent, *hclspec.Sources, *reach.Intent, error) {
	in, src, diags := hclspec.Load(dir, f.options())
	if in == nil || diags.HasErrors() {
		printDiagnostics(cmd.ErrOrStderr(), src, diags)
		summarize(cmd.ErrOrStderr(), diags)
		return nil, src, nil, errDiagnostics
	}
	w, d := buildReach(in)
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
	policies, err := reach.PoliciesOf(objs)
	if err == nil {
		var w *reach.Intent
		if w, err = reach.FromIntent(in, policies); err == nil {
			return w, diags
		}
	}
	return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot evaluate the policies", Detail: err.Error()})
}

// checkResult is the outcome of one check block.
type checkResult struct {
	check  *hclspec.Check
	pass   bool
	what   string // "<from> -> <to> on <ports>"
	reason string
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
	r.pass = (expectAllow && rv.Denied == 0) || (!expectAllow && rv.Allowed == 0)
	r.reason = views.ReachReason(w.Engine, rv.Sample)
	if rv.Allowed+rv.Denied > 1 {
		r.reason = fmt.Sprintf("%d port(s) allowed, %d denied; on %s %s", rv.Allowed, rv.Denied, rv.Sample.Port, r.reason)
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

// writeCheckResults prints a PASS/FAIL line per check (only failures when
// all is false) and a summary.
func writeCheckResults(out io.Writer, results []checkResult, all bool) {
	for _, r := range results {
		if r.pass && !all {
			continue
		}
		status := "FAIL"
		if r.pass {
			status = "PASS"
		}
		fmt.Fprintf(out, "%s %s: %s: %s (expected %s)\n     %s\n",
			status, generate.Source(r.check.Range), r.check.Block, r.what, r.check.Expect, r.reason)
	}
	failed := failedChecks(results)
	fmt.Fprintf(out, "%d check(s): %d passed, %d failed.\n", len(results), len(results)-failed, failed)
}

func failedChecks(results []checkResult) int {
	n := 0
	for _, r := range results {
		if !r.pass {
			n++
		}
	}
	return n
}

// validateChecks runs the check blocks for validate, printing failures;
// it reports whether every check passed.
func validateChecks(out io.Writer, in *hclspec.Intent, src *hclspec.Sources) bool {
	if len(in.Checks) == 0 {
		return true
	}
	w, diags := buildReach(in)
	if diags.HasErrors() {
		return true // compile errors are validate's own to report
	}
	results := evaluateChecks(in, w, src)
	writeCheckResults(out, results, false)
	return failedChecks(results) == 0
}
