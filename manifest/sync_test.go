package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteOwnsOnlyItsFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o644)
	first := Tree{"base/kustomization.yaml": []byte("a"), "base/x.yaml": []byte("x"), "overlays/prod/kustomization.yaml": []byte("p")}
	if c, err := Write(t.Context(), dir, first); err != nil || len(c.Write) != 3 {
		t.Fatalf("first write: %+v %v", c, err)
	}
	if c, err := Compare(dir, first); err != nil || !c.Empty() {
		t.Fatalf("re-render is not a no-op: %+v %v", c, err)
	}
	second := Tree{"base/kustomization.yaml": []byte("a2"), "overlays/prod/kustomization.yaml": []byte("p")}
	c, err := Write(t.Context(), dir, second)
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
	if _, err := Write(t.Context(), dir, third); err == nil || !strings.Contains(err.Error(), "not written by perimeter") {
		t.Fatalf("overwrote an unowned file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "base/kustomization.yaml")); string(b) != "a2" {
		t.Error("a refused write changed files")
	}
}

// hostile is an output directory rendered once, beside files a render
// must never touch: ../victim, and ../outside/ (reached by links).
type hostile struct {
	top, out string
	tree     Tree
}

func newHostile(t *testing.T) hostile {
	t.Helper()
	top := t.TempDir()
	h := hostile{top: top, out: filepath.Join(top, "out"), tree: Tree{
		"base/kustomization.yaml": []byte("base"), "base/x.yaml": []byte("x"), "overlays/prod/kustomization.yaml": []byte("prod")}}
	if _, err := Write(t.Context(), h.out, h.tree); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(top, "victim"), []byte("victim"), 0o644)
	os.Mkdir(filepath.Join(top, "outside"), 0o755)
	os.WriteFile(filepath.Join(top, "outside", "x.yaml"), []byte("victim"), 0o644)
	os.WriteFile(filepath.Join(top, "x"), []byte("victim"), 0o644)
	return h
}

// untouched fails the test unless everything outside out is as it was.
func (h hostile) untouched(t *testing.T) {
	t.Helper()
	for _, p := range []string{"victim", "x", "outside/x.yaml"} {
		if b, err := os.ReadFile(filepath.Join(h.top, p)); err != nil || string(b) != "victim" {
			t.Errorf("%s, outside the output directory, was changed: %q %v", p, b, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(h.top, "outside")); len(ents) != 1 {
		t.Errorf("files were created outside the output directory: %v", ents)
	}
}

// unchanged fails the test unless out holds the first render, whole.
func (h hostile) unchanged(t *testing.T) {
	t.Helper()
	for p, want := range h.tree {
		if b, err := os.ReadFile(filepath.Join(h.out, p)); err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s was changed by a refused render: %q %v", p, b, err)
		}
	}
}

func (h hostile) appendManifest(t *testing.T, line string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(h.out, ManifestFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, line)
	f.Close()
}

// A .perimeter-files entry that is not a clean relative path inside the
// output directory, or that leads through a link, refuses the whole
// render (and --check) before anything is written or removed, naming the
// entry and the list.
func TestManifestEntriesStayInside(t *testing.T) {
	for _, c := range []struct {
		entry string
		setup func(h hostile)
		want  string
	}{
		{entry: "../victim", want: `out/.perimeter-files:6: entry "../victim" is not a clean relative path inside`},
		{entry: "base/../../x", want: `out/.perimeter-files:6: entry "base/../../x" is not a clean relative path inside`},
		{entry: "/etc/x", want: `out/.perimeter-files:6: entry "/etc/x" is not a clean relative path inside`},
		{entry: "evil/x.yaml", setup: func(h hostile) { os.Symlink("../outside", filepath.Join(h.out, "evil")) },
			want: `out/.perimeter-files:6: entry "evil/x.yaml": ` + "%OUT%/evil is a symbolic link"},
		{entry: "evil/x.yaml", setup: func(h hostile) { os.Symlink(filepath.Join(h.top, "outside"), filepath.Join(h.out, "evil")) },
			want: `out/.perimeter-files:6: entry "evil/x.yaml": ` + "%OUT%/evil is a symbolic link"},
		{entry: "link.yaml", setup: func(h hostile) { os.Symlink("../victim", filepath.Join(h.out, "link.yaml")) },
			want: `out/.perimeter-files:6: entry "link.yaml": ` + "%OUT%/link.yaml is a symbolic link"},
	} {
		t.Run(c.entry, func(t *testing.T) {
			h := newHostile(t)
			if c.setup != nil {
				c.setup(h)
			}
			h.appendManifest(t, c.entry)
			want := strings.ReplaceAll(c.want, "%OUT%", h.out)
			// the next render drops base/x.yaml and rewrites base/kustomization.yaml
			next := Tree{"base/kustomization.yaml": []byte("base2"), "base/new.yaml": []byte("new"), "overlays/prod/kustomization.yaml": []byte("prod")}
			if _, err := Compare(h.out, next); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Compare: %v\nwant %q", err, want)
			}
			_, err := Write(t.Context(), h.out, next)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nothing was written or removed") {
				t.Errorf("Write: %v\nwant %q", err, want)
			}
			h.untouched(t)
			h.unchanged(t)
			if _, err := os.Stat(filepath.Join(h.out, "base", "new.yaml")); !os.IsNotExist(err) {
				t.Error("a refused render wrote a new file")
			}
			if _, err := os.Lstat(filepath.Join(h.out, c.entry)); c.setup != nil && err != nil {
				t.Errorf("the link was removed: %v", err)
			}
		})
	}
}

// A link where a generated file goes is never written through, wherever
// it points: the render is refused, naming it, and changes nothing.
func TestLinkAtGeneratedFileIsRefused(t *testing.T) {
	for _, c := range []struct{ name, target string }{
		{"outside", "../../victim"},
		{"inside", "kustomization.yaml"},
		{"dangling", "../../nowhere.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostile(t)
			link := filepath.Join(h.out, "base", "x.yaml")
			os.Remove(link)
			if err := os.Symlink(c.target, link); err != nil {
				t.Fatal(err)
			}
			next := Tree{"base/kustomization.yaml": []byte("base2"), "base/x.yaml": []byte("x2"), "overlays/prod/kustomization.yaml": []byte("prod")}
			want := link + " is a symbolic link"
			if _, err := Compare(h.out, next); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Compare: %v\nwant %q", err, want)
			}
			if _, err := Write(t.Context(), h.out, next); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Write: %v\nwant %q", err, want)
			}
			if got, err := os.Readlink(link); err != nil || got != c.target {
				t.Errorf("the link was changed: %q %v", got, err)
			}
			if b, _ := os.ReadFile(filepath.Join(h.out, "base", "kustomization.yaml")); string(b) != "base" {
				t.Errorf("a refused render changed a file: %q", b)
			}
			if _, err := os.Stat(filepath.Join(h.top, "nowhere.yaml")); !os.IsNotExist(err) {
				t.Error("a dangling link's target was created")
			}
			h.untouched(t)
		})
	}
}

// The list itself is not read through a link: its lines would end up in
// error messages (a CI log).
func TestManifestLinkIsRefused(t *testing.T) {
	h := newHostile(t)
	list := filepath.Join(h.out, ManifestFile)
	os.Remove(list)
	os.Symlink("../victim", list)
	if _, err := Write(t.Context(), h.out, h.tree); err == nil || !strings.Contains(err.Error(), list+" is a symbolic link") || strings.Contains(err.Error(), "victim\"") {
		t.Errorf("Write: %v", err)
	}
	h.untouched(t)
}

// Stale files are removed with the directories they leave empty, but a
// directory link on the way is neither followed nor removed.
func TestRemoveCleansEmptyDirectories(t *testing.T) {
	h := newHostile(t)
	next := Tree{"base/kustomization.yaml": []byte("base")}
	c, err := Write(t.Context(), h.out, next)
	if err != nil || strings.Join(c.Remove, ",") != "base/x.yaml,overlays/prod/kustomization.yaml" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(h.out, "overlays")); !os.IsNotExist(err) {
		t.Error("an emptied directory was left")
	}
	if _, err := os.Stat(h.out); err != nil {
		t.Error("the output directory was removed")
	}
	h.untouched(t)
}

// An interrupted render stops before the next file; what it wrote is
// whole and listed, so the next render (of changed intent) carries on.
func TestInterruptedWrite(t *testing.T) {
	h := newHostile(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	next := Tree{"base/kustomization.yaml": []byte("base"), "base/new.yaml": []byte("new"), "overlays/prod/kustomization.yaml": []byte("prod")}
	if _, err := Write(ctx, h.out, next); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v", err)
	}
	list, _ := os.ReadFile(filepath.Join(h.out, ManifestFile))
	if !strings.Contains(string(list), "\nbase/new.yaml\n") || !strings.Contains(string(list), "\nbase/x.yaml\n") {
		t.Errorf("the list does not own the old and new files:\n%s", list)
	}
	// a render that wrote base/new.yaml and died before updating the list
	os.WriteFile(filepath.Join(h.out, "base", "new.yaml"), []byte("half"), 0o644)
	next["base/new.yaml"] = []byte("changed")
	c, err := Write(t.Context(), h.out, next)
	if err != nil || strings.Join(c.Write, ",") != "base/new.yaml" || strings.Join(c.Remove, ",") != "base/x.yaml" {
		t.Fatalf("the next render: %+v %v", c, err)
	}
	if c, err := Compare(h.out, next); err != nil || !c.Empty() {
		t.Errorf("not up to date: %+v %v", c, err)
	}
	ents, _ := os.ReadDir(filepath.Join(h.out, "base"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".perimeter-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// A render with nothing to change changes nothing, the list included.
func TestUpToDateWriteChangesNothing(t *testing.T) {
	h := newHostile(t)
	list := filepath.Join(h.out, ManifestFile)
	before, _ := os.Lstat(list)
	c, err := Write(t.Context(), h.out, h.tree)
	if err != nil || !c.Empty() {
		t.Fatalf("%+v %v", c, err)
	}
	if after, _ := os.Lstat(list); !os.SameFile(before, after) {
		t.Error("the list was rewritten")
	}
}
