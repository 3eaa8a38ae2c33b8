package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/plan"
)

// FuzzShow feeds arbitrary bytes to the saved-plan reader and prints what
// it accepts in every format of perimeter show: a file that is not a plan
// must end in an error, never in a panic.
//
//	go test ./cmd/perimeter -run '^$' -fuzz FuzzShow -fuzztime 3m -fuzzminimizetime 1s
func FuzzShow(f *testing.F) {
	seed, err := os.ReadFile("../../views/testdata/plan.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"format_version":"1","changes":[{"action":"update","desired":{"metadata":"x","spec":[1]},"fields":[{"path":"","before":{},"after":[]}]}]}`))
	f.Add([]byte(`{"format_version":"1","changes":[{"action":"delete","before":{"kind":7}},{"action":"bogus"}],"boundary":[{}],"namespaces":[{}]}`))
	f.Add([]byte(strings.Repeat("[", 20000)))
	f.Add([]byte{0xff, 0xfe, '{', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := plan.Read(bytes.NewReader(b))
		if err != nil {
			if p != nil {
				t.Fatal("Read returned a plan and an error")
			}
			return
		}
		for _, format := range []string{"text", "json", "markdown", "diff"} {
			_ = showPlan(io.Discard, p, format)
		}
	})
}

// budgetSeed is an intent whose local x is expr.
func budgetSeed(expr string) string {
	return "perimeter {\n  stack = \"s\"\n}\nlocals {\n  x = " + expr + "\n}\n"
}

// FuzzReadIntent runs the CLI's whole read path on one intent file:
// bytes -> size bound -> CheckSource (encoding, nesting, template cost) ->
// parse -> decode -> compile -> the diagnostics printer. Whatever the
// bytes, it ends in objects or diagnostics, never a panic or a stack
// overflow, and the printer shows at most hclspec.MaxErrors diagnostics.
// The seeds include the shapes that crashed or hung before the bounds.
//
//	go test ./cmd/perimeter -run '^$' -fuzz FuzzReadIntent -fuzztime 3m -fuzzminimizetime 1s
func FuzzReadIntent(f *testing.F) {
	examples, _ := filepath.Glob("../../examples/*/*.hcl")
	for _, p := range examples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint16(0))
			f.Add(b, uint16(len(b)/2))
		}
	}
	for _, s := range []string{
		"x = " + strings.Repeat("(", 300),
		"x = " + strings.Repeat("[", 300) + strings.Repeat("]", 300),
		"locals {\n  x = " + strings.Repeat("!", 300) + "true\n}\n",
		"locals {\n  x = " + strings.Repeat("1 + ", 300) + "1\n}\n",
		"locals {\n  x = a" + strings.Repeat(".b", 300) + "\n}\n",
		"locals {\n  x = \"" + strings.Repeat("${", 300) + "\"\n}\n",
		"locals {\n  x = <<EOT\n" + strings.Repeat("%{if true}", 300) + "\nEOT\n}\n",
		"x = <<EOT\n" + strings.Repeat("a\n", 5000),
		strings.Repeat("a = 1\n", 200),
		"\xff\xfex\x00 \x00=\x00 \x001\x00",
		"\xef\xbb\xbfperimeter {\n  stack = \"s\"\n}\n",
		"x = \"\xc3\x28\"",
		// the evaluation budget's cases, small: the fuzzer's budget is small
		budgetSeed("[for a in range(64) : [for b in range(64) : [for c in range(64) : 1]]]"),
		budgetSeed("setproduct(range(64), range(64), range(64))"),
		budgetSeed(`format("%999999999d", 1)`),
		budgetSeed(`"%{for a in range(64)}%{for b in range(64)}x%{endfor}%{endfor}"`),
		budgetSeed(`"${1e999999}"`),
		"perimeter {\n  stack = \"s\"\n}\nlocals {\n  a = \"xxxx\"\n  b = \"${local.a}${local.a}\"\n  c = [local.b, local.b]\n  d = [local.c, local.c]\n}\n",
	} {
		f.Add([]byte(s), uint16(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, limit uint16) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		// limit 0 is the default; others put some inputs over the limit
		// a small evaluation budget, so that inputs that spend it are quick
		in, src, diags := hclspec.Load(dir, hclspec.Options{MaxFileSize: int64(limit), MaxEvalWork: 1 << 16})
		if in == nil && !diags.HasErrors() {
			t.Fatal("Load returned no intent and no error")
		}
		diags = generateAndLint(in, diags, false)
		var out bytes.Buffer
		printDiagnostics(&out, src, diags)
		printed := 0
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "Error: ") || strings.HasPrefix(line, "Warning: ") {
				printed++
			}
		}
		if printed > hclspec.MaxErrors {
			t.Fatalf("%d diagnostics printed", printed)
		}
	})
}
