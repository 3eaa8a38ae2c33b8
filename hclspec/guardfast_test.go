package hclspec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shallowCases are inputs shallow must get right: it may give up on any of
// them, but when it accepts one, checkShape must accept it too.
var shallowCases = []string{
	"a = 1\n", "a = b.c.d\n", "a = [1, 2, (3 + 4) * 5]\n", "x {\n y = \"${a.b}c\"\n}\n",
	"a = 1.5e-3 + 2..3\n", "a = f(g(h(1)))\n", "a = x[0][1][2]\n", "a = \"\\\"${\"${b}\"}\"\n",
	"a = !!!!b\n", "a = b ? c : d ? e : f\n", "# c (\n// d [\na = 1 # e\n", "a = 1\r\nb = 2\r\n",
	"a = {\n b = 1 + \n 2\n}\n", "a = [for x in y : x => x...]\n", "a = b == c && d != e || f <= g\n",
	"a = \"$\"\n", "a = \"%{if b}c%{endif}\"\n", "a = <<EOT\nx\nEOT\n", "/* ( */ a = 1\n", "a = 1 ~\n",
	"a = (\n", "a = )\n", "a = \"x\n", "a = \"${ ( }\"\n", "a-b = c-d - e\n", "a = 1e\n", "a = x.0.1\n",
}

// FuzzShallow checks shallow against checkShape: whatever shallow accepts,
// the exact scan accepts.
//
//	go test ./hclspec -run '^$' -fuzz FuzzShallow -fuzztime 60s -fuzzminimizetime 1s
func FuzzShallow(f *testing.F) {
	for _, c := range shallowCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(strings.Repeat("(", 200) + strings.Repeat(")", 200)))
	f.Add([]byte("a = " + strings.Repeat("b.", 200) + "c\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if ok, depth := shallowDepth(src); ok {
			d, exact := shapeScan("f.hcl", src)
			if d != nil {
				t.Fatalf("shallow accepted what checkShape refuses: %s: %s", d.Summary, d.Detail)
			}
			if depth != exact {
				t.Fatalf("shallow counted %d levels, checkShape %d", depth, exact)
			}
		}
	})
}

// TestShallowAgreesWithCheckShape runs the fuzz seeds, and nesting just
// below and above the fast path's limit.
func TestShallowAgreesWithCheckShape(t *testing.T) {
	cases := append([]string(nil), shallowCases...)
	for _, n := range []int{shallowLimit - 1, shallowLimit, shallowLimit + 1, MaxNesting + 1} {
		cases = append(cases, strings.Repeat("[", n)+strings.Repeat("]", n), "a = "+strings.Repeat("b+", n)+"c\n",
			"a = \""+strings.Repeat("${\"", n)+strings.Repeat("\"}", n)+"\"\n")
	}
	for _, c := range cases {
		ok, depth := shallowDepth([]byte(c))
		d, exact := shapeScan("f.hcl", []byte(c))
		if ok && (d != nil || depth != exact) {
			t.Errorf("shallow accepted %q at %d levels; checkShape counts %d (%v)", c, depth, exact, d)
		}
	}
	if shallow([]byte(strings.Repeat("[", shallowLimit+1) + strings.Repeat("]", shallowLimit+1))) {
		t.Error("shallow accepted nesting past its limit")
	}
}

// TestShallowTakesRealIntents: the examples' and test intents' files take
// the fast path (or the pre-scan would cost as before), and agree.
func TestShallowTakesRealIntents(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/*.hcl")
	fast := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ok, depth := shallowDepth(src)
		if ok {
			fast++
		}
		if d, exact := shapeScan(f, src); ok && (d != nil || depth != exact) {
			t.Errorf("%s: shallow accepted it at %d levels; checkShape counts %d (%v)", f, depth, exact, d)
		}
	}
	if len(files) == 0 || fast == 0 {
		t.Fatalf("%d of %d example files take the fast path", fast, len(files))
	}
	t.Logf("%d of %d example files take the fast path", fast, len(files))
}
