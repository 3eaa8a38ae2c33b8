package hclspec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const guardHead = "perimeter {\n  stack = \"s\"\n}\n"

// At most MaxNesting levels parse; one more is refused where it starts,
// before the parser recurses.
func TestNestingLimit(t *testing.T) {
	for _, c := range []struct {
		name        string
		open, close string
		levels      int // per open
	}{
		{"parentheses", "(", ")", 1},
		{"brackets", "[", "]", 1},
		{"objects", "{a = ", "}", 1},
		{"interpolations", `"${`, `}"`, 2}, // the string and the interpolation
	} {
		// the locals block is a level of its own
		deepest := (MaxNesting - 1) / c.levels
		for _, n := range []int{deepest, deepest + 1} {
			prefix := guardHead + "locals {\n  x = "
			src := prefix + strings.Repeat(c.open, n) + "1" + strings.Repeat(c.close, n) + "\n}\n"
			files, diags := Parse(map[string][]byte{"main.hcl": []byte(src)})
			switch {
			case n == deepest && diags.HasErrors():
				t.Errorf("%s, %d deep: %v", c.name, n, diags)
			case n == deepest:
				if _, d := Decode(files, Options{}); d.HasErrors() {
					t.Errorf("%s, %d deep: decode: %v", c.name, n, d)
				}
			case len(diags) != 1 || diags[0].Summary != "Nesting too deep":
				t.Errorf("%s, %d deep: %v, want one Nesting too deep", c.name, n, diags)
			case c.levels == 1 && diags[0].Subject.Start.Byte != len(prefix)+deepest*len(c.open):
				t.Errorf("%s, %d deep: the diagnostic points at byte %d, want %d (the level over the limit)",
					c.name, n, diags[0].Subject.Start.Byte, len(prefix)+deepest*len(c.open))
			}
		}
	}
}

// Chains the parser or the evaluator recurses on count as nesting: a long
// one is refused, a short one parses and evaluates.
func TestChainsCount(t *testing.T) {
	for _, c := range []struct{ name, unit, end string }{
		{"not", "!", "true"},
		{"minus", "-", "1"},
		{"plus", "1 + ", "1"},
		{"and", "true && ", "true"},
		{"ternary", "true ? 1 : ", "2"},
		{"attributes", "local.o.", "a"},
		{"indexes", "[[1]]", ""},
		{"splats", "[*]", ""},
		{"plus over lines", "1 +\n  ", "1"},
	} {
		for _, n := range []int{10, 100_000} {
			expr := strings.Repeat(c.unit, n) + c.end
			switch c.name {
			case "attributes":
				expr = "local.o" + strings.Repeat(".a", n)
			case "indexes":
				expr = "[[1]]" + strings.Repeat("[0]", n)
			case "splats":
				expr = "[]" + strings.Repeat("[*]", n)
			case "plus over lines":
				expr = "(" + expr + ")"
			}
			src := guardHead + "locals {\n  o = {a = {a = 1}}\n  x = " + expr + "\n}\n"
			files, diags := Parse(map[string][]byte{"main.hcl": []byte(src)})
			if n > MaxNesting {
				if len(diags) != 1 || diags[0].Summary != "Nesting too deep" {
					t.Errorf("%s × %d: %v, want Nesting too deep", c.name, n, diags)
				}
				continue
			}
			if diags.HasErrors() {
				t.Errorf("%s × %d: %v", c.name, n, diags)
				continue
			}
			Decode(files, Options{}) // errors are fine (a.a.a... is not there); a crash is not
		}
	}
}

// Flat things, however long, are not nesting: a list of 100,000 items,
// 10,000 attributes, the benchmark's 10,000 services, comments and strings
// full of brackets.
func TestFlatInputsPass(t *testing.T) {
	var b strings.Builder
	b.WriteString(guardHead + "locals {\n  list = [")
	for i := range 100_000 {
		fmt.Fprintf(&b, "%d, ", i)
	}
	b.WriteString("]\n")
	for i := range 10_000 {
		fmt.Fprintf(&b, "  a%d = local.list[%d] + 1\n", i, i)
	}
	b.WriteString("  s = \"" + strings.Repeat("((([[[{{{", 1000) + "\"\n}\n")
	b.WriteString("# " + strings.Repeat("(", 10_000) + "\n/* " + strings.Repeat("[", 10_000) + " */\n")
	if d := CheckSource("main.hcl", []byte(b.String())); d != nil {
		t.Errorf("refused: %v", d)
	}
	examples, _ := filepath.Glob("../examples/*/*.hcl")
	for _, p := range examples {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if d := CheckSource(p, src); d != nil {
			t.Errorf("%s refused: %v", p, d)
		}
	}
}

// A heredoc of YAML as long as a large NetworkPolicy parses; one whose
// parse would take seconds (the parser joins its lines in quadratic time)
// is refused at its start.
func TestHeredocBound(t *testing.T) {
	yaml := strings.Repeat("    - ipBlock: {cidr: 10.0.0.0/8}\n", 4000)
	src := guardHead + "locals {\n  a = <<EOT\n" + yaml + "EOT\n  b = <<EOT\n" + yaml + "EOT\n}\n"
	if d := CheckSource("main.hcl", []byte(src)); d != nil {
		t.Errorf("two heredocs of 4,000 lines refused: %v", d)
	}
	src = guardHead + "locals {\n  a = <<EOT\n" + strings.Repeat(yaml, 10) + "EOT\n}\n"
	d := CheckSource("main.hcl", []byte(src))
	if d == nil || d.Summary != "Heredoc too long" || d.Subject.Start.Line != 5 {
		t.Errorf("a heredoc of 40,000 lines: %v, want Heredoc too long at line 5", d)
	}
}

func TestEncodings(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
		line, col       int
	}{
		{"UTF-8", "x = \"héllo\"\n", "", 0, 0},
		{"UTF-8 with a byte order mark", "\xef\xbb\xbfx = 1\n", "", 0, 0},
		{"UTF-16 LE", "\xff\xfex\x00", "UTF-16 byte order mark", 1, 1},
		{"UTF-16 BE", "\xfe\xff\x00x", "UTF-16 byte order mark", 1, 1},
		{"UTF-32", "\xff\xfe\x00\x00x\x00\x00\x00", "UTF-32 byte order mark", 1, 1},
		{"Latin-1", "x = 1\ny = \"h\xe9llo\"\n", "the byte 0xE9 at line 2, column 7", 2, 7},
		{"NUL", "x = 1\n\x00", "NUL byte at line 2, column 1", 2, 1},
		{"after a multibyte character", "é\xff", "line 1, column 2", 1, 2},
	} {
		d := CheckSource("main.hcl", []byte(c.src))
		switch {
		case c.want == "" && d != nil:
			t.Errorf("%s: %v", c.name, d)
		case c.want == "":
		case d == nil || !strings.Contains(d.Detail, c.want):
			t.Errorf("%s: %v, want %q", c.name, d, c.want)
		case d.Subject.Start.Line != c.line || d.Subject.Start.Column != c.col:
			t.Errorf("%s: at %d:%d, want %d:%d", c.name, d.Subject.Start.Line, d.Subject.Start.Column, c.line, c.col)
		}
	}
}

func TestReadDirLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(guardHead+strings.Repeat("#\n", n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.hcl", 500)
	if _, diags := ReadDirMax(dir, 2000); diags.HasErrors() {
		t.Errorf("under the limit: %v", diags)
	}
	_, diags := ReadDirMax(dir, 1000)
	if len(diags) != 1 || diags[0].Summary != "Intent file too large" ||
		!strings.Contains(diags[0].Detail, "a.hcl is 1 KiB (1028 bytes); perimeter reads intent files of at most 1000 bytes") {
		t.Errorf("over the limit: %v", diags)
	}
	for _, n := range []string{"b.hcl", "c.hcl", "d.hcl", "e.hcl"} {
		write(n, 500)
	}
	if _, diags := ReadDirMax(dir, 1100); len(diags) != 1 || diags[0].Summary != "Intent too large" {
		t.Errorf("5 files over 4 times the limit: %v", diags)
	}
}

// Decoding stops after MaxErrors errors: later phases are not run.
func TestDecodeStopsAfterMaxErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(guardHead)
	for i := range MaxErrors + 10 {
		fmt.Fprintf(&b, "namespace \"n%d\" {\n  bogus = 1\n}\n", i)
	}
	b.WriteString("service \"s\" {\n  bogus = 1\n}\n")
	files, diags := Parse(map[string][]byte{"main.hcl": []byte(b.String())})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, diags = Decode(files, Options{})
	if len(diags) < MaxErrors {
		t.Fatalf("%d diagnostics", len(diags))
	}
	for _, d := range diags {
		if d.Subject != nil && d.Subject.Start.Line > 3+3*(MaxErrors+10) {
			t.Errorf("the services were decoded after %d errors: %v", MaxErrors, d)
		}
	}
}

// Values given on the command line (--var, explain's --from and --to) are
// checked like files: 100,000 nested brackets are a diagnostic, not a
// stack overflow.
func TestCommandLineExpressions(t *testing.T) {
	deep := strings.Repeat("[", 100_000)
	src := guardHead + "variable \"l\" {\n  type = list(string)\n}\n"
	files, diags := Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, diags = Decode(files, Options{Vars: map[string]string{"l": deep}})
	if !strings.Contains(diags.Error(), "Nesting too deep") {
		t.Errorf("--var l=[[[...: %v", diags)
	}
	in, diags := Decode(files, Options{Vars: map[string]string{"l": `["a"]`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, _, diags := in.EvalEndpoint(deep, "<--from>"); !strings.Contains(diags.Error(), "Nesting too deep") {
		t.Errorf("--from [[[...: %v", diags)
	}
}
