package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// A plan lets go of the syntax trees once the intent is decoded: they
// are the largest part of what the compile holds, and the objects are
// generated (and the cluster read) after it.
func TestCompileLetsGoOfSyntaxTrees(t *testing.T) {
	dir := t.TempDir()
	var text strings.Builder
	text.WriteString("perimeter {\n  stack = \"shop\"\n}\nnamespace \"shop\" {}\n")
	for i := range 200 {
		fmt.Fprintf(&text, "service \"s%d\" {\n  namespace = \"shop\"\n  selector = { app = \"s%d\" }\n  port = 80\n}\n", i, i)
		fmt.Fprintf(&text, "allow \"s%d out\" {\n  from = service.s%d\n  to = cidr(\"10.0.%d.0/24\")\n  ports = [443]\n}\n", i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var file weak.Pointer[hcl.File]
	parsed := func(src *hclspec.Sources) { file = weak.Make(src.Files()["main.hcl"]) }
	collected := false
	afterDecode = func() {
		runtime.GC()
		runtime.GC()
		collected = file.Value() == nil
	}
	defer func() { afterDecode = nil }()
	in, objs, texts, _, err := compileSourcesThen(&cobra.Command{}, dir, compileFlags{}, parsed)
	if err != nil || in == nil || len(objs) == 0 || len(texts["main.hcl"]) == 0 {
		t.Fatalf("compile: %v, %d objects, files %v", err, len(objs), len(texts))
	}
	if file.Value() == nil && !collected {
		t.Fatal("main.hcl was never parsed")
	}
	if !collected {
		t.Error("the syntax trees were still reachable after decoding")
	}
}
