package main

import (
	"testing"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// stackName answers only when the parsed files name the stack with a
// string constant in their only perimeter block that is a label value;
// the plan reads the cluster early only then.
func TestStackName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
		ok    bool
	}{
		{"literal", map[string]string{"a.hcl": `perimeter { stack = "shop" }`}, "shop", true},
		{"in the second file", map[string]string{"a.hcl": `namespace "x" {}`, "b.hcl": "perimeter {\n  stack = \"shop\"\n  state_namespace = \"st\"\n}"}, "shop", true},
		{"no block", map[string]string{"a.hcl": `namespace "x" {}`}, "", false},
		{"no stack", map[string]string{"a.hcl": `perimeter {}`}, "", false},
		{"two blocks", map[string]string{"a.hcl": `perimeter { stack = "a" }`, "b.hcl": `perimeter { stack = "b" }`}, "", false},
		{"a variable", map[string]string{"a.hcl": `perimeter { stack = var.name }`}, "", false},
		{"a function", map[string]string{"a.hcl": `perimeter { stack = lower("SHOP") }`}, "", false},
		{"a number", map[string]string{"a.hcl": `perimeter { stack = 5 }`}, "", false},
		{"null", map[string]string{"a.hcl": `perimeter { stack = null }`}, "", false},
		{"empty", map[string]string{"a.hcl": `perimeter { stack = "" }`}, "", false},
		{"a selector in the name", map[string]string{"a.hcl": `perimeter { stack = "shop,app!=x" }`}, "", false},
		{"not a label value", map[string]string{"a.hcl": `perimeter { stack = "a b" }`}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			for n, s := range tc.files {
				files[n] = []byte(s)
			}
			src, _ := hclspec.Parse(files)
			got, ok := stackName(src)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("stackName = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
