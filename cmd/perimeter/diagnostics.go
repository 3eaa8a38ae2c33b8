package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// compileFlags are the flags that choose what to compile.
type compileFlags struct {
	env      string
	vars     map[string]string
	varFiles []string
}

func (f *compileFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.env, "env", "", "environment whose variable values to use")
	cmd.Flags().StringToStringVar(&f.vars, "var", nil, "set a variable, NAME=VALUE (repeatable; overrides every other source)")
	cmd.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variable values from an HCL file of NAME = VALUE lines (repeatable; later files win; after DIR/*.auto.pvars)")
	_ = cmd.RegisterFlagCompletionFunc("env", completeEnvironments)
}

// options are the compile options for the intent in dir: the environment,
// --var, and the values files (dir's *.auto.pvars in name order, then each
// --var-file in order).
func (f *compileFlags) options(dir string) (hclspec.Options, hcl.Diagnostics) {
	files, diags := hclspec.ReadVarFilesMax(append(hclspec.AutoVarFiles(dir), f.varFiles...), maxFileSize)
	return hclspec.Options{Env: f.env, Vars: f.vars, VarFiles: files, MaxFileSize: maxFileSize, MaxEvalWork: maxEvalWork}, diags
}

// load is hclspec.Load with the flags' options.
func (f *compileFlags) load(dir string) (*hclspec.Intent, *hclspec.Sources, hcl.Diagnostics) {
	return f.loadThen(dir, nil)
}

// loadThen is load that calls parsed (unless nil) with the parsed files
// before it decodes them: hclspec.Load is reading and parsing the files
// (hclspec.ReadDirMax), then decoding them (hclspec.Decode), and a plan
// starts reading the cluster in between (see prefetchMembers).
func (f *compileFlags) loadThen(dir string, parsed func(*hclspec.Sources)) (*hclspec.Intent, *hclspec.Sources, hcl.Diagnostics) {
	opts, diags := f.options(dir)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	src, d := hclspec.ReadDirMax(dir, opts.MaxFileSize)
	diags = append(diags, d...)
	if d.HasErrors() {
		return nil, src, diags
	}
	if parsed != nil {
		parsed(src)
	}
	in, d := hclspec.Decode(src, opts)
	return in, src, append(diags, d...)
}

// dirArg is the intent directory: the first argument or ".".
func dirArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return "."
}

// printDiagnostics renders diagnostics with source snippets, in colour only
// on a terminal and never when NO_COLOR is set.
func printDiagnostics(w io.Writer, src *hclspec.Sources, diags hcl.Diagnostics) {
	var files map[string]*hcl.File
	if src != nil {
		files = src.Files()
	}
	printFileDiagnostics(w, files, diags)
}

// printFileDiagnostics prints diagnostics in source order. Like a
// compiler, it stops after hclspec.MaxErrors of them (errors first) and
// says how many more there are: the first few are what the reader fixes.
func printFileDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	shown, errs, warns := capDiagnostics(diags, hclspec.MaxErrors)
	wr := newDiagWriter(w, files, 100, useColor(w))
	for _, d := range sortDiagnostics(shown) {
		wr.write(d)
	}
	switch {
	case errs > 0:
		fmt.Fprintf(w, "Too many errors; %d more not shown (%d errors, %d warnings).\n", errs+warns, errs, warns)
	case warns > 0:
		fmt.Fprintf(w, "Too many warnings; %d more not shown.\n", warns)
	}
}

// capDiagnostics keeps at most n diagnostics, errors before warnings, each
// in their order, and counts the errors and warnings left out.
func capDiagnostics(diags hcl.Diagnostics, n int) (kept hcl.Diagnostics, errs, warns int) {
	if len(diags) <= n {
		return diags, 0, 0
	}
	for _, sev := range []hcl.DiagnosticSeverity{hcl.DiagError, hcl.DiagWarning} {
		for _, d := range sortDiagnostics(diags) {
			if (d.Severity == hcl.DiagError) != (sev == hcl.DiagError) {
				continue
			}
			switch {
			case len(kept) < n:
				kept = append(kept, d)
			case d.Severity == hcl.DiagError:
				errs++
			default:
				warns++
			}
		}
	}
	return kept, errs, warns
}

// noColor is the --no-color flag, for every command.
var noColor bool

func useColor(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set || noColor {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal (not a pipe or file).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// summarize prints a one-line count of errors and warnings.
func summarize(w io.Writer, diags hcl.Diagnostics) {
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	if errs+warns > 0 {
		fmt.Fprintf(w, "%d error(s), %d warning(s).\n", errs, warns)
	}
}

// sortDiagnostics orders diagnostics by source position (those without one
// first), so a reader can walk the files top to bottom.
func sortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return out
}
