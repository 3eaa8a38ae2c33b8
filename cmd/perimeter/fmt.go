package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/views"
)

// fmtFlags are fmt's options.
type fmtFlags struct {
	check, diff, recursive bool
}

func newFmt() *cobra.Command {
	var f fmtFlags
	cmd := &cobra.Command{
		Use:   "fmt [PATH ...]",
		Short: "Rewrite the intent files in canonical HCL format",
		Long: `fmt rewrites *.hcl files in the canonical HCL style and lists the files it
changed. Each PATH is a directory (its *.hcl files; with --recursive, those
of its subdirectories too) or a file; the default is the current directory.
With --check it changes nothing, lists the files that are not formatted,
and exits 1 if there are any. --diff prints what would change as a unified
diff. A PATH that does not exist is an error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			paths, err := fmtTargets(args, f.recursive)
			if err != nil {
				return err
			}
			return f.run(cmd, paths)
		},
	}
	cmd.Flags().BoolVar(&f.check, "check", false, "list unformatted files and exit 1 instead of rewriting them")
	cmd.Flags().BoolVar(&f.diff, "diff", false, "print the changes as a unified diff")
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "r", false, "also format the *.hcl files of subdirectories")
	return cmd
}

// fmtTargets expands the arguments into the files to format, sorted: a
// file as given, a directory's *.hcl files (and its subdirectories' with
// recursive). A missing path is an error naming it.
func fmtTargets(args []string, recursive bool) ([]string, error) {
	var out []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("fmt: %s: no such file or directory", arg)
		}
		if !info.IsDir() {
			out = append(out, arg)
			continue
		}
		if !recursive {
			paths, err := filepath.Glob(filepath.Join(arg, "*.hcl"))
			if err != nil {
				return nil, err
			}
			out = append(out, paths...)
			continue
		}
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git, .terraform-style caches
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".hcl") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f fmtFlags) run(cmd *cobra.Command, paths []string) error {
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	unformatted := 0
	files := map[string]*hcl.File{} // the files not parsed, for their diagnostics
	for _, p := range paths {
		// bounded and checked (size, UTF-8, nesting) before the parser
		// recurses into it
		src, d := hclspec.ReadFile(p, p, maxFileSize)
		if d == nil {
			d = hclspec.CheckSource(p, src)
		}
		if d != nil {
			diags = append(diags, d)
			files[p] = &hcl.File{Bytes: src}
			continue
		}
		// Refuse to format what does not parse: hclwrite would happily
		// shuffle a broken file.
		if _, d := parser.ParseHCL(src, p); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		formatted := hclwrite.Format(src)
		if bytes.Equal(src, formatted) {
			continue
		}
		unformatted++
		if f.diff {
			style := views.Style{Color: useColor(cmd.OutOrStdout())}
			fmt.Fprint(cmd.OutOrStdout(), views.UnifiedText("old/"+p, "new/"+p, string(src), string(formatted), style))
		} else {
			fmt.Fprintln(cmd.OutOrStdout(), p)
		}
		if !f.check {
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
	if f.check && unformatted > 0 {
		return errExit{code: 1}
	}
	return nil
}
