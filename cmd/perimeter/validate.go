package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/lint"
)

// validateFlags are validate's options.
type validateFlags struct {
	compileFlags
	all, strict bool
	output      string
}

func newValidate() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Parse, type-check and compile the intent, reporting problems",
		Long: `validate parses the *.hcl files in DIR (default: the current directory),
type-checks them and compiles them, printing every error and warning with its
file:line:col. A stack that declares environments is checked in each of them
unless --env names one (--all-envs says so explicitly); a finding shared by
several environments is printed once, naming them. --output json prints the
result for editors and CI annotations (see docs/plan-format.md).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.output != "text" && f.output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", f.output)
			}
			envs, src, diags := validateEnvironments(dirArg(args), f)
			if diags.HasErrors() {
				return reportValidation(cmd, f, src, []envResult{{diags: diags}})
			}
			var results []envResult
			for _, env := range envs {
				results = append(results, validateEnv(dirArg(args), src, diags, env, f))
			}
			return reportValidation(cmd, f, src, results)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.all, "all-envs", false, "validate every declared environment (the default when --env is not given)")
	cmd.Flags().BoolVar(&f.strict, "strict", false, "treat warnings (including lint findings) as errors")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// validateEnvironments reads and parses the intent once and lists the
// environments to check: the one --env names, or every declared one (none
// declared: the defaults, ""). The diagnostics are the parser's.
func validateEnvironments(dir string, f validateFlags) ([]string, *hclspec.Sources, hcl.Diagnostics) {
	src, diags := hclspec.ReadDirMax(dir, maxFileSize)
	if diags.HasErrors() {
		return nil, src, diags
	}
	if f.env != "" && !f.all {
		return []string{f.env}, src, diags
	}
	envs := hclspec.EnvironmentNames(src)
	if len(envs) == 0 {
		envs = []string{""}
	}
	return envs, src, diags
}

// envResult is validate's verdict on one environment.
type envResult struct {
	env      string
	diags    hcl.Diagnostics
	checksOK bool
	checks   string // check results, as text
}

// validateEnv compiles the parsed intent src in environment env;
// parseDiags are the parser's findings, reported with each environment's
// (as if it had been parsed for it).
func validateEnv(dir string, src *hclspec.Sources, parseDiags hcl.Diagnostics, env string, f validateFlags) envResult {
	opts, diags := f.options(dir)
	if diags.HasErrors() {
		return envResult{env: env, diags: diags}
	}
	opts.Env = env
	in, d := hclspec.Decode(src, opts)
	diags = append(append(diags, parseDiags...), d...)
	diags = generateAndLint(in, diags, f.strict)
	r := envResult{env: env, diags: diags, checksOK: true}
	if !diags.HasErrors() {
		var b strings.Builder
		r.checksOK = validateChecks(&b, in, src, f.strict)
		r.checks = b.String()
	}
	return r
}

// generateAndLint adds to diags what generating in's objects finds and
// then the lints' findings on them (lint.Validate); in may be nil.
func generateAndLint(in *hclspec.Intent, diags hcl.Diagnostics, strict bool) hcl.Diagnostics {
	var objs []*unstructured.Unstructured
	if in != nil {
		generated, d := generate.Objects(in)
		objs, diags = generated, append(diags, d...)
	}
	return lint.Validate(in, objs, diags, strict)
}

// reportValidation prints the merged findings and each environment's
// verdict, as text or JSON; it fails when any environment does.
func reportValidation(cmd *cobra.Command, f validateFlags, src *hclspec.Sources, results []envResult) error {
	merged := mergeFindings(results)
	failed := false
	for _, r := range results {
		failed = failed || r.diags.HasErrors() || !r.checksOK
	}
	if f.output == "json" {
		if err := writeValidationJSON(cmd.OutOrStdout(), merged, results, failed); err != nil {
			return err
		}
	} else {
		writeValidationText(cmd, src, merged, results)
	}
	if failed {
		return errDiagnostics
	}
	return nil
}

func writeValidationText(cmd *cobra.Command, src *hclspec.Sources, merged []finding, results []envResult) {
	var all hcl.Diagnostics
	for _, m := range merged {
		all = append(all, m.diag)
	}
	printDiagnostics(cmd.ErrOrStderr(), src, all)
	summarize(cmd.ErrOrStderr(), all)
	for _, r := range results {
		io.WriteString(cmd.OutOrStdout(), r.checks)
		label := "The intent"
		if r.env != "" {
			label = fmt.Sprintf("Environment %q", r.env)
		}
		if !r.diags.HasErrors() && r.checksOK {
			fmt.Fprintf(cmd.OutOrStdout(), "%s is valid.\n", label)
		} else if len(results) > 1 {
			fmt.Fprintf(cmd.OutOrStdout(), "%s is not valid.\n", label)
		}
	}
}

// finding is one diagnostic and the environments it occurs in.
type finding struct {
	diag *hcl.Diagnostic
	envs []string
}

// mergeFindings prints a diagnostic shared by several environments once:
// its detail names them when it does not occur in all of them (for a
// warning: in all that had no errors, since those are not linted).
func mergeFindings(results []envResult) []finding {
	var out []finding
	index := map[string]int{}
	for _, r := range results {
		for _, d := range r.diags {
			k := diagKey(d)
			if i, seen := index[k]; seen {
				out[i].envs = append(out[i].envs, r.env)
				continue
			}
			index[k] = len(out)
			copied := *d
			out = append(out, finding{diag: &copied, envs: []string{r.env}})
		}
	}
	if len(results) > 1 {
		clean := 0 // environments that got as far as linting
		for _, r := range results {
			if !r.diags.HasErrors() {
				clean++
			}
		}
		for _, f := range out {
			expected := len(results)
			if f.diag.Severity == hcl.DiagWarning {
				expected = clean // lint skips an environment with errors
			}
			if len(f.envs) < expected {
				f.diag.Detail = strings.TrimSpace(f.diag.Detail + " (in environment" + plural(len(f.envs)) + " " + strings.Join(quoted(f.envs), ", ") + ")")
			}
		}
	}
	return out
}

func diagKey(d *hcl.Diagnostic) string {
	r := ""
	if d.Subject != nil {
		r = d.Subject.String()
	}
	return fmt.Sprintf("%d\x00%s\x00%s\x00%s", d.Severity, d.Summary, d.Detail, r)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}
