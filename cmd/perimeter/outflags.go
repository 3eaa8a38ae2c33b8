package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// -o/--output means the output format on every command (plan, show,
// apply, validate, check, as kubectl's -o does); the commands that write
// files into a directory (render, import) take --out-dir. The old spelling
// there is refused with a hint, never read as a directory named "json".

// registerOutDir adds --out-dir DIR, and --output/-o as the old spelling
// that only explains itself.
func registerOutDir(cmd *cobra.Command, dir *string, usage string) {
	cmd.Flags().StringVar(dir, "out-dir", "", usage)
	var old string
	cmd.Flags().StringVarP(&old, "output", "o", "", "renamed --out-dir (-o/--output is the output format on every command)")
	_ = cmd.Flags().MarkHidden("output")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if c.Flags().Changed("output") {
			return fmt.Errorf("%s writes YAML files into a directory with --out-dir DIR; -o/--output is the output format on other commands (here it was %q): use --out-dir %s", c.Name(), old, old)
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// terraformOut recognises Terraform's `-out FILE` typed to a command whose
// -o is the output format: pflag reads it as -o "ut".
func terraformOut(format string) error {
	if format == "ut" || format == "ut=" {
		return fmt.Errorf("-out is read as -o ut (the output format); to save the plan, write --out FILE")
	}
	return nil
}
