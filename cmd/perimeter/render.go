package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

func newRender() *cobra.Command {
	var f compileFlags
	var out string
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Print the Kubernetes objects the intent compiles to",
		Long: `render compiles the intent in DIR (default: the current directory) and prints
the objects as one YAML stream, or with --output writes one file per object
(<namespace>/<kind>-<name>.yaml) under a directory.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, src, diags := hclspec.Load(dirArg(args), f.options())
			if in != nil {
				objs, d := generate.Objects(in)
				diags = append(diags, d...)
				if !diags.HasErrors() {
					printDiagnostics(cmd.ErrOrStderr(), src, diags)
					return writeObjects(cmd, objs, out)
				}
			}
			printDiagnostics(cmd.ErrOrStderr(), src, diags)
			summarize(cmd.ErrOrStderr(), diags)
			return errDiagnostics
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write one file per object under this directory")
	return cmd
}

func writeObjects(cmd *cobra.Command, objs []*unstructured.Unstructured, out string) error {
	if out == "" {
		return manifest.WriteStream(cmd.OutOrStdout(), objs)
	}
	files, err := manifest.WriteDir(out, objs)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %d objects to %s.\n", len(files), out)
	return nil
}
