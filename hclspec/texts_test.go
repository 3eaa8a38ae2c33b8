package hclspec

import (
	"bytes"
	"testing"
)

// Parse of Texts gives the same files: same names, same bytes, and syntax
// trees that show diagnostics the same way.
func TestTextsParseAgain(t *testing.T) {
	files := map[string][]byte{
		"a.hcl":     []byte("perimeter { stack = \"s\" }\n"),
		"b.hcl":     []byte("namespace \"shop\" {}\n"),
		"notes.txt": []byte("not intent"),
	}
	src, diags := Parse(files)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	texts := src.Texts()
	if len(texts) != 2 || texts["notes.txt"] != nil {
		t.Fatalf("Texts: %v, want the two .hcl files", texts)
	}
	again, diags := Parse(texts)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for name, f := range src.Files() {
		g := again.Files()[name]
		if g == nil || !bytes.Equal(g.Bytes, f.Bytes) || g.Nav == nil {
			t.Errorf("%s: parsed again as %v", name, g)
		}
	}
}
