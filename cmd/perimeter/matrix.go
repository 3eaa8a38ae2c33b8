package main

import (
	"bytes"
	"fmt"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/views"
)

func newMatrix() *cobra.Command {
	var f compileFlags
	var lf liveFlags
	var namespace, format string
	cmd := &cobra.Command{
		Use:   "matrix [DIR]",
		Short: "Print which workloads may reach which, as a grid or a picture",
		Long: `matrix compiles the intent in DIR (default: the current directory) and
evaluates, under the NetworkPolicies it produces, every source (the
gateways' data planes, the services, the other sources of allow blocks)
against every destination (the services on their target port, the IP blocks
of allow blocks on the allow's first port).

A cell is Y (allowed), . (denied), ? (unknown: it depends on a fact the
intent does not hold, listed below the grid) or, with --live, ~ (allowed
for some of the pods only). With --live the endpoints stand for the
cluster's real pods, with its namespaces and NetworkPolicies.

--format text (default) prints a grid; dot prints a Graphviz digraph with an
edge per allowed connection; svg renders that with Graphviz's dot, which
must be installed. --namespace keeps the workloads of one namespace (with
the gateways and external ends).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "dot" && format != "svg" {
				return fmt.Errorf("--format must be text, dot or svg, not %q", format)
			}
			_, _, w, err := loadReach(cmd, dirArg(args), f, lf)
			if err != nil {
				return err
			}
			m, err := w.Matrix(namespace)
			if err != nil {
				return err
			}
			switch format {
			case "text":
				views.MatrixText(cmd.OutOrStdout(), m)
				return nil
			case "dot":
				views.MatrixDOT(cmd.OutOrStdout(), m)
				return nil
			}
			var dot bytes.Buffer
			views.MatrixDOT(&dot, m)
			return renderSVG(cmd, dot.Bytes())
		},
	}
	f.register(cmd)
	lf.register(cmd)
	cmd.Flags().StringVar(&namespace, "namespace", "", "only the workloads of this namespace")
	cmd.Flags().StringVar(&format, "format", "text", "text, dot or svg")
	return cmd
}

// renderSVG pipes a DOT graph through Graphviz.
func renderSVG(cmd *cobra.Command, dot []byte) error {
	path, err := exec.LookPath("dot")
	if err != nil {
		return fmt.Errorf("--format svg needs Graphviz's dot on PATH; install graphviz, or use --format dot and render it elsewhere")
	}
	c := exec.CommandContext(cmd.Context(), path, "-Tsvg")
	c.Stdin = bytes.NewReader(dot)
	c.Stdout = cmd.OutOrStdout()
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("dot -Tsvg: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
