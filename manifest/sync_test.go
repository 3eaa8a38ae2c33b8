package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteOwnsOnlyItsFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o644)
	first := Tree{"base/kustomization.yaml": []byte("a"), "base/x.yaml": []byte("x"), "overlays/prod/kustomization.yaml": []byte("p")}
	if c, err := Write(dir, first); err != nil || len(c.Write) != 3 {
		t.Fatalf("first write: %+v %v", c, err)
	}
	if c, err := Compare(dir, first); err != nil || !c.Empty() {
		t.Fatalf("re-render is not a no-op: %+v %v", c, err)
	}
	second := Tree{"base/kustomization.yaml": []byte("a2"), "overlays/prod/kustomization.yaml": []byte("p")}
	c, err := Write(dir, second)
	if err != nil || strings.Join(c.Write, ",") != "base/kustomization.yaml" || strings.Join(c.Remove, ",") != "base/x.yaml" {
		t.Fatalf("second write: %+v %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "base/x.yaml")); !os.IsNotExist(err) {
		t.Error("a stale file survived")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != "mine" {
		t.Error("a file perimeter did not write was touched")
	}
	// a user's file where perimeter wants to write: refuse, change nothing
	os.WriteFile(filepath.Join(dir, "base/y.yaml"), []byte("user"), 0o644)
	third := Tree{"base/kustomization.yaml": []byte("a3"), "base/y.yaml": []byte("generated")}
	if _, err := Write(dir, third); err == nil || !strings.Contains(err.Error(), "not written by perimeter") {
		t.Fatalf("overwrote an unowned file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "base/kustomization.yaml")); string(b) != "a2" {
		t.Error("a refused write changed files")
	}
}
