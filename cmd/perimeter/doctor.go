package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/doctor"
	"github.com/perimeter-dev/perimeter/hclspec"
)

func newDoctor() *cobra.Command {
	var cf compileFlags
	var kf clusterFlags
	cmd := &cobra.Command{
		Use:   "doctor [DIR]",
		Short: "Check that the cluster enforces what perimeter writes",
		Long: `doctor inspects the live cluster: which CNI runs and whether it enforces
NetworkPolicy (Flannel alone does not: an error), whether the retired
ingress-nginx still runs, which Gateway API CRDs (version and channel) are
installed, and which GatewayClasses exist and are accepted. Given DIR, it
also reports the stack's managed namespaces that lack a default-deny egress
policy in the cluster.

It prints one line per finding with its severity (ok, warning, error) and
exits 1 when a finding is an error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in *hclspec.Intent
			if len(args) > 0 {
				var err error
				if in, _, err = compile(cmd, args[0], cf); err != nil {
					return err
				}
			}
			client, err := kf.connect()
			if err != nil {
				return err
			}
			fs, err := doctor.Run(context.Background(), client, in)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Cluster: %s\n", target(client))
			for _, f := range fs {
				fmt.Fprintln(out, f)
			}
			fmt.Fprintf(out, "%d error(s), %d warning(s).\n", doctor.Count(fs, doctor.Error), doctor.Count(fs, doctor.Warning))
			if doctor.HasErrors(fs) {
				return errExit{code: 1}
			}
			return nil
		},
	}
	cf.register(cmd)
	kf.register(cmd)
	return cmd
}
