// Package hostile makes the hostile inputs of issue 13 and their kin — files
// that crashed perimeter with a Go stack overflow, exhausted its memory or
// kept it busy for minutes — so that the CLI tests (cmd/perimeter) and the
// timing tool (bench/hostile) run the same cases. Nothing here is committed
// as data: 50 MB of random bytes is made when needed.
package hostile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

// Case is one hostile input and what perimeter must answer: exit status 1
// and a message matching Want (a regular expression) on standard error.
type Case struct {
	Name string
	// Args are the perimeter arguments; "DIR" stands for the case's
	// directory.
	Args []string
	// Files are the files to write into the directory, by name.
	Files func() map[string][]byte
	Want  string
}

// Write makes the case's files in dir and returns its arguments with DIR
// replaced.
func (c Case) Write(dir string) ([]string, error) {
	for name, b := range c.Files() {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = strings.ReplaceAll(a, "DIR", dir)
	}
	return args, nil
}

// Random returns n random bytes, the same ones for the same seed.
func Random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 13))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// RandomText returns n random printable ASCII characters and newlines.
func RandomText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 13))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(' ' + r.IntN(95))
		if r.IntN(40) == 0 {
			b[i] = '\n'
		}
	}
	return b
}

const head = "perimeter {\n  stack = \"s\"\n}\n"

// intent wraps an expression in a valid intent, as a local value.
func intent(expr string) map[string][]byte {
	return map[string][]byte{"main.hcl": []byte(head + "locals {\n  x = " + expr + "\n}\n")}
}

func one(name string, b []byte) func() map[string][]byte {
	return func() map[string][]byte { return map[string][]byte{name: b} }
}

const (
	tooDeep     = `Error: Nesting too deep(.|\n)*on (\S*/)?main.hcl line`
	notUTF8     = `Error: Intent file is not (UTF-8|text)`
	tooLarge    = `Error: Intent file too large(.|\n)*main.hcl is 50 MiB \(52428800 bytes\)(.|\n)*--max-file-size`
	tooMany     = `Too many errors; [0-9]+ more not shown`
	heredocLong = `Error: Heredoc too long`
	// overBudget is the evaluation budget's diagnostic, at line 5 of an
	// intent() file: the local x.
	overBudget = `Error: Evaluation budget exceeded(.|\n)*on (\S*/)?main.hcl line 5, in locals(.|\n)*--max-eval-work`
)

// doubling is a locals block whose values each hold the one before twice,
// forty times over: a terabyte from 40 lines.
func doubling(first, each string) map[string][]byte {
	var b strings.Builder
	b.WriteString(head + "locals {\n  a0 = " + first + "\n")
	for i := 1; i <= 40; i++ {
		prev := fmt.Sprintf("local.a%d", i-1)
		fmt.Fprintf(&b, "  a%d = %s\n", i, strings.ReplaceAll(each, "PREV", prev))
	}
	b.WriteString("}\n")
	return map[string][]byte{"main.hcl": []byte(b.String())}
}

// nestedFor is three nested for expressions over literal lists of 1,000
// numbers: a billion elements, in a value that may call no function.
func nestedFor() string {
	list := "[" + strings.Repeat("1,", 999) + "1]"
	return "[for a in " + list + " : [for b in " + list + " : [for c in " + list + " : 1]]]"
}

// evaluation are the expressions that build huge values within the input
// bounds, refused by the evaluation budget (hclspec/budget.go).
func evaluation(validate []string) []Case {
	return []Case{
		{Name: "eval: a billion elements, three nested for over range(1024)", Args: validate, Files: func() map[string][]byte {
			return intent("[for a in range(1024) : [for b in range(1024) : [for c in range(1024) : 1]]]")
		}, Want: overBudget},
		{Name: "eval: a billion characters, three nested %{ for } in a template", Args: validate, Files: func() map[string][]byte {
			return intent(`"%{for a in range(1024)}%{for b in range(1024)}%{for c in range(1024)}x%{endfor}%{endfor}%{endfor}"`)
		}, Want: overBudget},
		{Name: "eval: setproduct of three range(1024)", Args: validate, Files: func() map[string][]byte {
			return intent("setproduct(range(1024), range(1024), range(1024))")
		}, Want: overBudget[:len(overBudget)-len(`(.|\n)*--max-eval-work`)] + `(.|\n)*The product of these sets`},
		{Name: `eval: format("%999999999d", 1)`, Args: validate, Files: func() map[string][]byte {
			return intent(`format("%999999999d", 1)`)
		}, Want: overBudget[:len(overBudget)-len(`(.|\n)*--max-eval-work`)] + `(.|\n)*The widths and precisions of this format`},
		{Name: "eval: indent(999999999, ...)", Args: validate, Files: func() map[string][]byte {
			return intent(`indent(999999999, "a\nb\nc")`)
		}, Want: overBudget[:len(overBudget)-len(`(.|\n)*--max-eval-work`)] + `(.|\n)*This indentation`},
		{Name: "eval: join with a 100 KB separator", Args: validate, Files: func() map[string][]byte {
			return intent(`join(format("%99999s", ""), range(1024))`)
		}, Want: overBudget[:len(overBudget)-len(`(.|\n)*--max-eval-work`)] + `(.|\n)*Joining with this separator`},
		{Name: "eval: replace every position of 10 KB with 10 KB", Args: validate, Files: func() map[string][]byte {
			return intent(`replace(format("%9999s", ""), "", format("%9999s", ""))`)
		}, Want: overBudget[:len(overBudget)-len(`(.|\n)*--max-eval-work`)] + `(.|\n)*This replacement`},
		{Name: "eval: a string doubled forty times in locals", Args: validate, Files: func() map[string][]byte {
			return doubling(`"xxxxxxxxxxxxxxxx"`, `"${PREV}${PREV}"`)
		}, Want: `Error: Evaluation budget exceeded(.|\n)*on (\S*/)?main.hcl line \d+, in locals`},
		{Name: "eval: a list doubled forty times in locals", Args: validate, Files: func() map[string][]byte {
			return doubling(`[1]`, `[PREV, PREV]`)
		}, Want: `Error: Evaluation budget exceeded(.|\n)*on (\S*/)?main.hcl line \d+, in locals`},
		{Name: "eval: tostring of a number of ten million digits", Args: validate, Files: func() map[string][]byte {
			return intent(`tostring(1e9999999)`)
		}, Want: `Error: Number too large(.|\n)*on (\S*/)?main.hcl line 5`},
		{Name: `eval: a gigabyte of format("%999999d") in a for`, Args: validate, Files: func() map[string][]byte {
			return intent(`[for i in range(1000) : format("%999999d", i)]`)
		}, Want: overBudget[:len(overBudget)-len(`(.|\n)*--max-eval-work`)] + `(.|\n)*The widths and precisions of this format`},
		{Name: "eval: jsonencode of a list doubled twenty times", Args: validate, Files: func() map[string][]byte {
			f := doubling(`[1]`, `[PREV, PREV]`)
			f["main.hcl"] = []byte(strings.Replace(string(f["main.hcl"]), "  a0 = [1]\n", "  j = jsonencode(local.a20)\n  a0 = [1]\n", 1))
			return f
		}, Want: `Error: Evaluation budget exceeded(.|\n)*on (\S*/)?main.hcl line \d+, in locals`},
		{Name: "eval: a billion elements in a values file", Args: validate, Files: func() map[string][]byte {
			return map[string][]byte{
				"main.hcl":     []byte(head + "variable \"x\" {\n  default = null\n}\n"),
				"x.auto.pvars": []byte("x = " + nestedFor() + "\n"),
			}
		}, Want: `Error: Evaluation budget exceeded(.|\n)*on \S*x.auto.pvars line 1`},
		{Name: "eval: a billion elements in a --var value", Args: []string{"validate", "--var", "x=" + nestedFor(), "DIR"}, Files: func() map[string][]byte {
			return map[string][]byte{"main.hcl": []byte(head + "variable \"x\" {\n  type    = list(any)\n  default = []\n}\n")}
		}, Want: `Error: Evaluation budget exceeded(.|\n)*<value for var.x>`},
		{Name: "eval: --max-eval-work 1000 on 1,000 iterations", Args: []string{"validate", "--max-eval-work", "1000", "DIR"}, Files: func() map[string][]byte {
			return map[string][]byte{"main.hcl": []byte("perimeter { stack = \"s\" }\nlocals { x = [for a in range(1000) : a] }\n")}
		}, Want: `Error: Evaluation budget exceeded(.|\n)*budget of 1068 units`},
	}
}

// Cases are the hostile inputs: first the three of issue 13, then their
// relatives. Each ends in exit status 1 and a diagnostic.
func Cases() []Case {
	validate := []string{"validate", "DIR"}
	return append([]Case{
		{Name: "issue: 100,000 nested (", Args: validate, Files: one("main.hcl", []byte("x = "+strings.Repeat("(", 100_000))), Want: tooDeep},
		{Name: "issue: 100,000 nested [", Args: validate, Files: one("main.hcl", []byte("x = "+strings.Repeat("[", 100_000))), Want: tooDeep},
		{Name: "issue: 50 MB of random bytes", Args: validate, Files: func() map[string][]byte { return map[string][]byte{"main.hcl": Random(50<<20, 1)} }, Want: tooLarge},
		{Name: "issue: 1 MB of random bytes", Args: validate, Files: func() map[string][]byte { return map[string][]byte{"main.hcl": Random(1<<20, 2)} }, Want: notUTF8},

		{Name: "1 MB of random text", Args: validate, Files: func() map[string][]byte { return map[string][]byte{"main.hcl": RandomText(1<<20, 3)} }, Want: `Error: `},
		{Name: "170,000 errors (a = 1, repeated)", Args: validate, Files: one("main.hcl", bytes.Repeat([]byte("a = 1\n"), 170_000)), Want: tooMany},
		{Name: "100,000 nested blocks", Args: validate, Files: one("main.hcl", bytes.Repeat([]byte("a {\n"), 100_000)), Want: tooDeep},
		{Name: "1,000,000 ! (unary operators)", Args: validate, Files: func() map[string][]byte { return intent(strings.Repeat("!", 1_000_000) + "true") }, Want: tooDeep},
		{Name: "250,000 + (a binary chain)", Args: validate, Files: func() map[string][]byte { return intent(strings.Repeat("1 + ", 250_000) + "1") }, Want: tooDeep},
		{Name: "100,000 ternaries", Args: validate, Files: func() map[string][]byte { return intent(strings.Repeat("true ? 1 : ", 100_000) + "2") }, Want: tooDeep},
		{Name: "500,000 attribute accesses", Args: validate, Files: func() map[string][]byte { return intent("a" + strings.Repeat(".b", 500_000)) }, Want: tooDeep},
		{Name: "100,000 nested ${", Args: validate, Files: func() map[string][]byte { return intent(strings.Repeat(`"${`, 100_000)) }, Want: tooDeep},
		{Name: "100,000 nested %{ if }", Args: validate, Files: func() map[string][]byte {
			return intent("<<EOT\n" + strings.Repeat("%{ if true }", 100_000) + "\nEOT")
		}, Want: tooDeep},
		{Name: "heredoc of 100,000 lines", Args: validate, Files: func() map[string][]byte {
			return intent("<<EOT\n" + strings.Repeat("a: b\n", 100_000) + "EOT")
		}, Want: heredocLong},
		{Name: "string of 500,000 $${ escapes", Args: validate, Files: func() map[string][]byte { return intent(`"` + strings.Repeat("$${", 500_000) + `"`) }, Want: heredocLong},
		{Name: "UTF-16 intent", Args: validate, Files: func() map[string][]byte { return map[string][]byte{"main.hcl": utf16LE(head)} }, Want: `Error: Intent file is not UTF-8(.|\n)*UTF-16 byte order mark`},
		{Name: "issue: 50 MB of random bytes, --max-file-size 64MiB", Args: []string{"validate", "--max-file-size", "64MiB", "DIR"},
			Files: func() map[string][]byte { return map[string][]byte{"main.hcl": Random(50<<20, 1)} }, Want: notUTF8},
		{Name: "intent directory over 4 times --max-file-size", Args: []string{"validate", "--max-file-size", "64KiB", "DIR"}, Files: func() map[string][]byte {
			files := map[string][]byte{}
			for i := range 5 {
				files[fmt.Sprintf("f%d.hcl", i)] = bytes.Repeat([]byte("# a comment of 32 bytes, or so.\n"), 60<<10/32)
			}
			return files
		}, Want: `Error: Intent too large(.|\n)*add up to more than 256 KiB`},
		{Name: "values file (*.auto.pvars): 100,000 nested (", Args: validate, Files: func() map[string][]byte {
			return map[string][]byte{"main.hcl": []byte(head), "x.auto.pvars": []byte("x = " + strings.Repeat("(", 100_000))}
		}, Want: `Error: Nesting too deep(.|\n)*on \S*x.auto.pvars line`},
		{Name: "fmt: 100,000 nested (", Args: []string{"fmt", "DIR"}, Files: one("main.hcl", []byte("x = "+strings.Repeat("(", 100_000))), Want: tooDeep},
		{Name: "fmt: 50 MB of random bytes", Args: []string{"fmt", "DIR"}, Files: func() map[string][]byte { return map[string][]byte{"main.hcl": Random(50<<20, 1)} }, Want: tooLarge},
		{Name: "import: 100,000 nested [ in YAML", Args: []string{"import", "--from-file", "DIR/in.yaml", "--gateway", "infra/gw"},
			Files: one("in.yaml", []byte(strings.Repeat("[", 100_000))), Want: `Error: .*in.yaml: .*exceeded max depth`},
		{Name: "import: 1 MB of random bytes as YAML", Args: []string{"import", "--from-file", "DIR/in.yaml", "--gateway", "infra/gw"},
			Files: func() map[string][]byte { return map[string][]byte{"in.yaml": Random(1<<20, 2)} }, Want: `Error: .*in.yaml: `},
		{Name: "import: YAML over 16 times --max-file-size", Args: []string{"import", "--max-file-size", "1KiB", "--from-file", "DIR/in.yaml", "--gateway", "infra/gw"},
			Files: func() map[string][]byte {
				return map[string][]byte{"in.yaml": bytes.Repeat([]byte("# comment\n"), 2<<10)}
			},
			Want: `Error: .*in.yaml is 20 KiB, more than 16 KiB, the limit for one input file; raise it with --max-file-size`},
		{Name: "plan --against: a kustomize resource over 16 times --max-file-size", Args: []string{"plan", "--max-file-size", "1KiB", "--against", "DIR/tree", "DIR"},
			Files: func() map[string][]byte {
				return map[string][]byte{"main.hcl": []byte(head), "tree/kustomization.yaml": []byte("resources:\n- big.yaml\n"),
					"tree/big.yaml": bytes.Repeat([]byte("# comment\n"), 2<<10)}
			},
			Want: `Error: kustomize build .*tree: .*big.yaml is 20 KiB, more than 16 KiB, the limit for one input file; raise it with --max-file-size`},
		{Name: "plan --against: a kustomize resource from a URL", Args: []string{"plan", "--against", "DIR/tree", "DIR"},
			Files: func() map[string][]byte {
				return map[string][]byte{"main.hcl": []byte(head), "tree/kustomization.yaml": []byte("resources:\n- https://127.0.0.1:9/x.yaml\n")}
			},
			Want: `Error: kustomize tree .*tree refers to remote content; plan --against reads local files only`},
		{Name: "plan --against: a kustomize base in a git repository", Args: []string{"plan", "--against", "DIR/tree", "DIR"},
			Files: func() map[string][]byte {
				return map[string][]byte{"main.hcl": []byte(head), "tree/kustomization.yaml": []byte("resources:\n- github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\n")}
			},
			Want: `Error: kustomize tree .*tree refers to remote content; plan --against reads local files only`},
		{Name: "show: 1 MB of random bytes as a plan", Args: []string{"show", "DIR/p.plan"},
			Files: func() map[string][]byte { return map[string][]byte{"p.plan": Random(1<<20, 2)} }, Want: `Error: .*p.plan: reading plan: not a saved plan`},
		{Name: "show: 100,000 nested [ as a plan", Args: []string{"show", "DIR/p.plan"},
			Files: one("p.plan", []byte(strings.Repeat("[", 100_000))), Want: `Error: .*p.plan: reading plan: not a saved plan`},
	}, evaluation(validate)...)
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}
