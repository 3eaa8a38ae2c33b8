package generate_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// TestBadInputs runs the catalogue in testdata/bad: each txtar archive holds
// HCL files, optionally an "env" file naming the environment, and a "want"
// file listing every diagnostic as `severity file:line:col: summary`.
// Cases named warn-* must compile, with exactly the listed warnings.
func TestBadInputs(t *testing.T) {
	cases, err := filepath.Glob("testdata/bad/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("the catalogue has %d cases, want at least 20", len(cases))
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			var want, env string
			for _, f := range ar.Files {
				switch f.Name {
				case "want":
					want = strings.TrimSpace(string(f.Data))
				case "env":
					env = strings.TrimSpace(string(f.Data))
				default:
					files[f.Name] = f.Data
				}
			}
			diags := compile(files, env)
			// warn-* cases are legal but risky intent: warnings, no errors.
			warnOnly := strings.HasPrefix(filepath.Base(path), "warn-")
			if diags.HasErrors() == warnOnly {
				t.Errorf("errors: %v, want %v", diags.HasErrors(), !warnOnly)
			}
			if got := describe(diags); got != want {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// compile runs parse, decode and generate, as the CLI does.
func compile(files map[string][]byte, env string) hcl.Diagnostics {
	src, diags := hclspec.Parse(files)
	if diags.HasErrors() {
		return diags
	}
	in, d := hclspec.Decode(src, hclspec.Options{Env: env})
	diags = append(diags, d...)
	if in == nil {
		return diags
	}
	_, d = generate.Objects(in)
	return append(diags, d...)
}

func describe(diags hcl.Diagnostics) string {
	var lines []string
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		where := "-"
		if d.Subject != nil {
			where = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", sev, where, d.Summary))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
