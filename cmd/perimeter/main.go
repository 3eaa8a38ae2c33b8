// Command perimeter compiles boundary intent written in HCL into Gateway API
// routes and NetworkPolicies. This package holds flags and wiring only.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	stop := profile()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	memTrace.close()
	stop()
	os.Exit(code)
}

// errDiagnostics means diagnostics were already printed; exit 1 quietly.
var errDiagnostics = errors.New("the intent has errors")

// errExit carries a specific exit status whose message was already printed.
type errExit struct{ code int }

func (e errExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run executes the CLI and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	var exit errExit
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	case errors.Is(err, errDiagnostics):
		return 1
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	return 1
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "perimeter",
		Short: "Boundary intent in HCL, compiled to Gateway API routes and NetworkPolicies",
		Long: `perimeter compiles a team's boundary intent — which services are exposed
through which gateway, who may call whom, where pods may send traffic —
from HCL into Gateway API routes and NetworkPolicies.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Version = versionText()
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().BoolVar(&noColor, "no-color", false, "never colour the output (as NO_COLOR does)")
	registerLimits(root)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newVersion(), newForceUnlock(), newValidate(), newFmt(), newRender(), newPlan(), newShow(), newApply(), newDestroy(), newCheck(), newExplain(), newMatrix(), newDoctor(), newImport())
	return root
}
