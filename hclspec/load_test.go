package hclspec

import (
	"fmt"
	"slices"
	"testing"
)

// Parse parses files concurrently; what it returns must not show it:
// every file is kept by name, and diagnostics come in file-name order.
func TestParseKeepsFileOrder(t *testing.T) {
	files := map[string][]byte{"README.md": []byte("not hcl {")}
	var want []string
	for i := range 12 {
		name := fmt.Sprintf("f%02d.hcl", i)
		files[name] = []byte(fmt.Sprintf("namespace \"n%d\" {}\n", i))
		if i%3 == 0 {
			files[name] = []byte("namespace {{\n")
			want = append(want, name)
		}
	}
	for range 20 {
		src, diags := Parse(files)
		var got []string
		for _, d := range diags {
			if n := d.Subject.Filename; len(got) == 0 || got[len(got)-1] != n {
				got = append(got, n)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("diagnostics from %v, want %v", got, want)
		}
		if len(src.Files()) != 12 || src.Files()["README.md"] != nil {
			t.Fatalf("Files() holds %d files, want the 12 .hcl files", len(src.Files()))
		}
		if n := len(src.Names()); n != 13 {
			t.Fatalf("Names() = %d names, want 13", n)
		}
	}
}
