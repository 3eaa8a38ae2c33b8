package main

import (
	"encoding/json"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/perimeter-dev/perimeter/plan"
)

// validationJSON is `validate --output json`, shaped like Terraform's
// `validate -json` so editors and CI annotations read it the same way.
type validationJSON struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Environments  []envJSON        `json:"environments"`
	Diagnostics   []diagnosticJSON `json:"diagnostics"`
}

type envJSON struct {
	Name  string `json:"name"` // "" for an intent without environments
	Valid bool   `json:"valid"`
}

// diagnosticJSON is one finding; Environments lists where it occurs.
type diagnosticJSON struct {
	Severity     string            `json:"severity"` // "error" or "warning"
	Summary      string            `json:"summary"`
	Detail       string            `json:"detail,omitempty"`
	Range        *plan.SourceRange `json:"range,omitempty"`
	Environments []string          `json:"environments,omitempty"`
}

func writeValidationJSON(w io.Writer, merged []finding, results []envResult, failed bool) error {
	out := validationJSON{FormatVersion: "1", Valid: !failed, Environments: []envJSON{}, Diagnostics: []diagnosticJSON{}}
	for _, r := range results {
		out.Environments = append(out.Environments, envJSON{Name: r.env, Valid: !r.diags.HasErrors() && r.checksOK})
	}
	for _, f := range sortFindings(merged) {
		d := diagnosticJSON{Severity: "warning", Summary: f.diag.Summary, Detail: f.diag.Detail, Range: plan.RangeOf(f.diag.Subject)}
		if f.diag.Severity == hcl.DiagError {
			d.Severity = "error"
			out.ErrorCount++
		} else {
			out.WarningCount++
		}
		if len(results) > 1 {
			d.Environments = f.envs
		}
		out.Diagnostics = append(out.Diagnostics, d)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// sortFindings orders findings as the text output does: by file and
// position, those without one first.
func sortFindings(fs []finding) []finding {
	var diags hcl.Diagnostics
	byDiag := map[*hcl.Diagnostic]finding{}
	for _, f := range fs {
		diags = append(diags, f.diag)
		byDiag[f.diag] = f
	}
	out := make([]finding, 0, len(fs))
	for _, d := range sortDiagnostics(diags) {
		out = append(out, byDiag[d])
	}
	return out
}
