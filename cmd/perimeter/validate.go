package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/lint"
)

func newValidate() *cobra.Command {
	var f compileFlags
	var all, strict bool
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Parse, type-check and compile the intent, reporting problems",
		Long: `validate parses the *.hcl files in DIR (default: the current directory),
type-checks them and compiles them, printing every error and warning with its
file:line:col. With --all-envs it checks every declared environment.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			envs := []string{f.env}
			if all {
				src, diags := hclspec.ReadDirMax(dirArg(args), maxFileSize)
				if diags.HasErrors() {
					printDiagnostics(cmd.ErrOrStderr(), src, diags)
					return errDiagnostics
				}
				if envs = hclspec.EnvironmentNames(src); len(envs) == 0 {
					envs = []string{""}
				}
			}
			failed := false
			for _, env := range envs {
				opts := f.options()
				opts.Env = env
				in, src, diags := hclspec.Load(dirArg(args), opts)
				if in != nil {
					_, d := generate.Objects(in)
					diags = append(diags, d...)
				}
				diags = lint.Validate(in, diags, strict)
				printDiagnostics(cmd.ErrOrStderr(), src, diags)
				label := "The intent"
				if env != "" {
					label = fmt.Sprintf("Environment %q", env)
				}
				if diags.HasErrors() {
					failed = true
					summarize(cmd.ErrOrStderr(), diags)
					continue
				}
				if !validateChecks(cmd.OutOrStdout(), in, src, strict) {
					failed = true
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s is valid.\n", label)
			}
			if failed {
				return errDiagnostics
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&all, "all-envs", false, "validate every declared environment")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings (including lint findings) as errors")
	return cmd
}
