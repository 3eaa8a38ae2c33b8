package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/internal/dataplane"
	"github.com/perimeter-dev/perimeter/reach"
)

// enforceHelp is appended to check's long help.
const enforceHelp = `

With --enforce (Linux, root), the check blocks are tried on real
packets: the compiled NetworkPolicies are enforced by kube-router's
network-policy controller in a private network namespace, with a local
API server, one pod (a network namespace) per endpoint and a host per IP
block, and each check is probed over TCP or UDP. Nothing is added to the
machine's own network namespace. It needs ip, iptables and ipset,
kube-router ($PERIMETER_KUBE_ROUTER, on PATH, or built in a clone of
perimeter) and kube-apiserver and etcd ($KUBEBUILDER_ASSETS, or built in
a clone). It does not cover Services (ClusterIP), IPv6, several nodes or
other CNIs' differences; see docs/dataplane.md.`

// runEnforce runs the check blocks on packets: outside the sandbox it
// re-runs this command inside a new node namespace and passes its exit
// status on; inside, it probes and prints.
func runEnforce(cmd *cobra.Command, dir string, f compileFlags, strict bool) error {
	if !dataplane.InNode() {
		tools, err := dataplane.FindTools(cmd.Context())
		if err != nil {
			return fmt.Errorf("--enforce: %w", err)
		}
		// os.Args[0], not /proc/self/exe: a multi-call binary (the tests'
		// testscript) picks the command by the name it was run as.
		code, err := dataplane.RunInNode(tools, os.Args[0], os.Args[1:])
		if err != nil {
			return fmt.Errorf("--enforce: %w", err)
		}
		if code != 0 {
			return errExit{code}
		}
		return nil
	}
	in, src, diags := f.load(dir)
	printDiagnostics(cmd.ErrOrStderr(), src, diags)
	if in == nil || diags.HasErrors() {
		return errDiagnostics
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		printDiagnostics(cmd.ErrOrStderr(), src, diags)
		return errDiagnostics
	}
	policies, err := reach.PoliciesOf(objs)
	if err != nil {
		return err
	}
	res, err := dataplane.EnforceChecks(cmd.Context(), in, policies)
	if err != nil {
		return fmt.Errorf("--enforce: %w", err)
	}
	if writeEnforced(cmd.OutOrStdout(), res, strict) {
		return errExit{1}
	}
	return nil
}

// writeEnforced prints one line per check and its probes, and reports
// whether the run failed.
func writeEnforced(w io.Writer, res *dataplane.Enforced, strict bool) (failed bool) {
	for _, s := range res.World.Skipped {
		fmt.Fprintf(w, "note: not in the sandbox: %s\n", s)
	}
	pass, fail, unprobed := 0, 0, 0
	for _, r := range res.Results {
		status := "PASS"
		switch {
		case r.Unprobed != "":
			status, unprobed = "UNPROBED", unprobed+1
		case r.Passed():
			pass++
		default:
			status, fail = "FAIL", fail+1
		}
		c := r.Check
		fmt.Fprintf(w, "%-8s check %q (%s:%d): %s\n", status, c.Label, c.Range.Filename, c.Range.Start.Line, r.Summary())
	}
	fmt.Fprintf(w, "On packets (kube-router): %d passed, %d failed, %d not probed.\n", pass, fail, unprobed)
	return fail > 0 || strict && unprobed > 0
}
