package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/hclspec"
)

func newFmt() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt [DIR]",
		Short: "Rewrite the intent files in canonical HCL format",
		Long: `fmt rewrites the *.hcl files in DIR (default: the current directory) in the
canonical HCL style and lists the files it changed. With --check it changes
nothing, lists the files that are not formatted, and exits 1 if there are any.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := filepath.Glob(filepath.Join(dirArg(args), "*.hcl"))
			if err != nil {
				return err
			}
			parser := hclparse.NewParser()
			var diags hcl.Diagnostics
			unformatted := 0
			files := map[string]*hcl.File{} // the files not parsed
			for _, p := range paths {
				name := filepath.Base(p)
				src, d := hclspec.ReadFile(p, name, maxFileSize)
				if d == nil {
					d = hclspec.CheckSource(name, src)
				}
				if d != nil {
					diags = append(diags, d)
					files[name] = &hcl.File{Bytes: src}
					continue
				}
				// Refuse to format what does not parse: hclwrite would
				// happily shuffle a broken file.
				if _, d := parser.ParseHCL(src, name); d.HasErrors() {
					diags = append(diags, d...)
					continue
				}
				formatted := hclwrite.Format(src)
				if bytes.Equal(src, formatted) {
					continue
				}
				unformatted++
				fmt.Fprintln(cmd.OutOrStdout(), p)
				if !check {
					if err := os.WriteFile(p, formatted, 0o644); err != nil {
						return err
					}
				}
			}
			if diags.HasErrors() {
				for name, f := range parser.Files() {
					files[name] = f
				}
				printFileDiagnostics(cmd.ErrOrStderr(), files, diags)
				return errDiagnostics
			}
			if check && unformatted > 0 {
				return errExit{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "list unformatted files and exit 1 instead of rewriting them")
	return cmd
}
