package generate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// FuzzCompile feeds arbitrary HCL through parse, decode and generate: bad
// input must produce diagnostics, never a panic, and a successful compile
// must be deterministic.
//
//	go test ./generate -run '^$' -fuzz FuzzCompile -fuzztime 5m -fuzzminimizetime 1s
func FuzzCompile(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/*.hcl")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b), "")
		}
	}
	f.Add(mustRead(f, "../examples/shop/main.hcl"), "prod")
	cases, _ := filepath.Glob("testdata/bad/*.txtar")
	for _, p := range cases {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			continue
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".hcl") {
				f.Add(string(file.Data), "")
			}
		}
	}
	// inputs the read path refuses before parsing (nesting, encodings,
	// heredoc cost), and a policy block the API server would refuse
	for _, s := range []string{
		"x = " + strings.Repeat("(", 300),
		"locals {\n  x = " + strings.Repeat("!", 300) + "true\n}\n",
		"locals {\n  x = a" + strings.Repeat("[0]", 300) + "\n}\n",
		"\xff\xfex\x00",
		"x = \"\xe9\"",
		"x = <<EOT\n" + strings.Repeat("a\n", 3000) + "EOT\n",
		"perimeter {\n  stack = \"s\"\n}\nnamespace \"shop\" {}\npolicy \"p\" {\n  yaml = <<EOT\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 999.0.0.0/99}}], ports: [{port: 70000, protocol: FOO}]}]\nEOT\n}\n",
	} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, src, env string) {
		files := map[string][]byte{"main.hcl": []byte(src)}
		first := compileYAML(t, files, env)
		if second := compileYAML(t, files, env); first != second {
			t.Fatalf("two compiles differ:\n%s\n---\n%s", first, second)
		}
	})
}

func compileYAML(t *testing.T, files map[string][]byte, env string) string {
	src, diags := hclspec.Parse(files)
	if diags.HasErrors() {
		return "parse error"
	}
	in, diags := hclspec.Decode(src, hclspec.Options{Env: env})
	if in == nil {
		if !diags.HasErrors() {
			t.Fatal("Decode returned no intent and no error")
		}
		return "decode error"
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		return "compile error"
	}
	var b strings.Builder
	for _, o := range objs {
		b.WriteString(o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName() + "\n")
	}
	return b.String()
}

func mustRead(f *testing.F, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}
