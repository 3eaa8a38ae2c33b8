package hclspec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const budgetHead = "perimeter {\n  stack = \"s\"\n}\n"

// decodeLocal decodes an intent whose local x is expr (on line 5), with
// the given budget.
func decodeLocal(t *testing.T, expr string, limit int64) (*Intent, hcl.Diagnostics) {
	t.Helper()
	src, diags := Parse(map[string][]byte{"main.hcl": []byte(budgetHead + "locals {\n  x = " + expr + "\n}\n")})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Decode(src, Options{MaxEvalWork: limit})
}

// Each expression that builds more than the budget ends in one
// diagnostic, at the expression that spent it.
func TestBudgetDiagnostics(t *testing.T) {
	for _, c := range []struct {
		expr, summary, at, detail string
	}{
		{"[for a in range(1024) : [for b in range(1024) : [for c in range(1024) : 1]]]", "Evaluation budget exceeded", "main.hcl:5,65-76", "Iterating over this collection"},
		{"setproduct(range(1024), range(1024), range(1024))", "Evaluation budget exceeded", "main.hcl:5,7-18", "The product of these sets"},
		{`format("%999999999d", 1)`, "Evaluation budget exceeded", "main.hcl:5,7-14", "The widths and precisions of this format"},
		{`formatlist("%99999d", range(1024))`, "Evaluation budget exceeded", "main.hcl:5,7-18", "for every element"},
		{`"${1e999999}"`, "Number too large", "main.hcl:5,10-18", "about 10^999999"},
		{`tostring(1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300 * 1e300)`,
			"Number too large", "main.hcl:5,16-", "about 10^"},
		{"[for a in range(1024) : range(1024)]", "Evaluation budget exceeded", "main.hcl:5,", "takes the intent past its evaluation budget of"},
		{`tostring(1e-9999999)`, "Number too large", "main.hcl:5,16-26", "about 10^-999999"},
		{`indent(-1, "a\nb")`, "Invalid function argument", "main.hcl:5,14-16", "must not be negative"},
	} {
		t.Run(c.expr, func(t *testing.T) {
			_, diags := decodeLocal(t, c.expr, 0)
			if len(diags) != 1 {
				t.Fatalf("%d diagnostics, want 1: %v", len(diags), diags)
			}
			d := diags[0]
			if d.Summary != c.summary || !strings.HasPrefix(d.Subject.String(), c.at) || !strings.Contains(d.Detail, c.detail) {
				t.Errorf("got %q at %s: %s\nwant %q at %s: ...%s...", d.Summary, d.Subject, d.Detail, c.summary, c.at, c.detail)
			}
		})
	}
}

// Locals that double a value forty times are stopped after about twenty,
// whether the value is a string or a list (shared, but traversed whole by
// anything that reads it).
func TestBudgetDoubling(t *testing.T) {
	for _, c := range []struct{ first, each string }{
		{`"xxxxxxxxxxxxxxxx"`, `"${PREV}${PREV}"`},
		{`[1]`, `[PREV, PREV]`},
		{`{a = 1}`, `merge({b = PREV}, {c = PREV})`},
	} {
		var b strings.Builder
		b.WriteString(budgetHead + "locals {\n  a0 = " + c.first + "\n")
		for i := 1; i <= 40; i++ {
			fmt.Fprintf(&b, "  a%d = %s\n", i, strings.ReplaceAll(c.each, "PREV", fmt.Sprintf("local.a%d", i-1)))
		}
		b.WriteString("}\n")
		src, diags := Parse(map[string][]byte{"main.hcl": []byte(b.String())})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		in, diags := Decode(src, Options{})
		if in != nil || len(diags) != 1 || diags[0].Summary != "Evaluation budget exceeded" {
			t.Fatalf("%s: %v", c.each, diags)
		}
		if line := diags[0].Subject.Start.Line; line < 15 || line > 30 {
			t.Errorf("%s: stopped at line %d, want about the twentieth local", c.each, line)
		}
	}
}

// The examples and the benchmark's shape of intent stay far below the
// default budget.
func TestBudgetOfNormalIntents(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*")
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "main.hcl")); err != nil {
			continue
		}
		src, diags := ReadDir(dir)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		envs := EnvironmentNames(src)
		if len(envs) == 0 {
			envs = []string{""}
		}
		for _, env := range envs {
			in, diags := Decode(src, Options{Env: env})
			if diags.HasErrors() {
				t.Fatalf("%s %s: %v", dir, env, diags)
			}
			if used := in.budget.Used(); used > DefaultMaxEvalWork/100 {
				t.Errorf("%s %s: used %d units, more than 1%% of %d", dir, env, used, DefaultMaxEvalWork)
			}
		}
	}
}

// The expressions of explain --from/--to are charged to the budget of the
// run that decoded the intent.
func TestEvalEndpointSharesTheBudget(t *testing.T) {
	in, diags := decodeLocal(t, "[for a in range(200) : a]", 10_000)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	before := in.budget.Used()
	_, _, diags = in.EvalEndpoint(`cidr(format("%d.0.0.0/8", length(range(10))))`, "<from>")
	if diags.HasErrors() || in.budget.Used() <= before {
		t.Fatalf("used %d then %d: %v", before, in.budget.Used(), diags)
	}
	_, _, diags = in.EvalEndpoint(`cidr(format("%99999d", 1))`, "<to>")
	if len(diags) != 1 || diags[0].Summary != "Evaluation budget exceeded" || diags[0].Subject.Filename != "<to>" {
		t.Fatalf("got %v", diags)
	}
}

// valueSize counts a shared part each time it is reached, and stops
// counting past its limit.
func TestValueSize(t *testing.T) {
	v := cty.StringVal(strings.Repeat("x", 160))
	for range 30 {
		v = cty.TupleVal([]cty.Value{v, v})
	}
	n, err := valueSize(v, 1000)
	if err != nil || n <= 1000 || n > 1100 {
		t.Errorf("valueSize = %d, %v; want just over 1000", n, err)
	}
	n, _ = valueSize(cty.TupleVal([]cty.Value{cty.StringVal(strings.Repeat("x", 160)), cty.NullVal(cty.String)}), 1<<20)
	if n != 1+11+1 {
		t.Errorf("valueSize = %d, want 13", n)
	}
}
