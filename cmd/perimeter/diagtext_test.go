package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// The diagnostics writer prints what hcl.NewDiagnosticTextWriter prints,
// in colour and without, for every case of the bad-input catalogue.
func TestDiagWriterMatchesHCL(t *testing.T) {
	cases, _ := filepath.Glob("../../generate/testdata/bad/*.txtar")
	if len(cases) < 20 {
		t.Fatalf("found %d bad-input cases", len(cases))
	}
	compared, withValues := 0, 0
	for _, path := range cases {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		env := ""
		for _, f := range ar.Files {
			switch {
			case f.Name == "env":
				env = strings.TrimSpace(string(f.Data))
			case strings.HasSuffix(f.Name, ".hcl"):
				files[f.Name] = f.Data
			}
		}
		src, diags := hclspec.Parse(files)
		if !diags.HasErrors() {
			in, d := hclspec.Decode(src, hclspec.Options{Env: env})
			diags = append(diags, d...)
			diags = generateAndLint(in, diags, false)
		}
		for _, color := range []bool{false, true} {
			var want, got bytes.Buffer
			hw := hcl.NewDiagnosticTextWriter(&want, src.Files(), 100, color)
			ours := newDiagWriter(&got, src.Files(), 100, color)
			for _, d := range diags {
				_ = hw.WriteDiagnostic(d)
				ours.write(d)
				compared++
				if d.Expression != nil && d.EvalContext != nil {
					withValues++
				}
			}
			if got.String() != want.String() {
				t.Errorf("%s (color %v):\n--- hcl\n%s\n--- ours\n%s", path, color, want.String(), got.String())
			}
		}
	}
	if compared < 50 || withValues == 0 {
		t.Errorf("compared %d diagnostics, %d with an expression's values", compared, withValues)
	}
}

// Thousands of errors in a 1 MB file print in well under a second: only
// the first hclspec.MaxErrors are shown, and each costs the same wherever
// it is in the file. (The HCL writer rescanned the whole file for each.)
func TestManyDiagnosticsPrintQuickly(t *testing.T) {
	var src strings.Builder
	for src.Len() < 1<<20 {
		fmt.Fprintf(&src, "x%d = %s\n", src.Len(), strings.Repeat("y", 30))
	}
	b := []byte(src.String())
	file := &hcl.File{Bytes: b}
	var diags hcl.Diagnostics
	for off := 0; off < len(b); off += 97 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Bad", Detail: "Very bad.",
			Subject: &hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Byte: len(b) - off - 1, Line: 1, Column: 1},
				End: hcl.Pos{Byte: len(b) - off, Line: 1, Column: 2}}})
	}
	var out bytes.Buffer
	start := time.Now()
	printFileDiagnostics(&out, map[string]*hcl.File{"main.hcl": file}, diags)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("printing %d diagnostics took %v", len(diags), el)
	}
	if n := strings.Count(out.String(), "Error: Bad"); n != hclspec.MaxErrors {
		t.Errorf("%d diagnostics printed, want %d", n, hclspec.MaxErrors)
	}
	want := fmt.Sprintf("Too many errors; %d more not shown (%d errors, 0 warnings).", len(diags)-hclspec.MaxErrors, len(diags)-hclspec.MaxErrors)
	if !strings.Contains(out.String(), want) {
		t.Errorf("output does not end with %q:\n...%s", want, out.String()[max(0, out.Len()-300):])
	}
}
