//go:build unix

package outdir

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// layout is a test's directory: out (the output directory) beside a
// victim file and directory that nothing done in out may touch.
type layout struct {
	top, out, victim, victimDir string
}

func newLayout(t *testing.T) layout {
	t.Helper()
	top := t.TempDir()
	l := layout{top: top, out: filepath.Join(top, "out"), victim: filepath.Join(top, "victim"), victimDir: filepath.Join(top, "victimdir")}
	must(t, os.Mkdir(l.out, 0o755))
	must(t, os.WriteFile(l.victim, []byte("victim"), 0o644))
	must(t, os.Mkdir(l.victimDir, 0o755))
	must(t, os.WriteFile(filepath.Join(l.victimDir, "x.yaml"), []byte("victim"), 0o644))
	return l
}

// untouched fails the test unless the victims hold what they held.
func (l layout) untouched(t *testing.T) {
	t.Helper()
	for _, p := range []string{l.victim, filepath.Join(l.victimDir, "x.yaml")} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "victim" {
			t.Errorf("%s outside the output directory was changed: %q %v", p, b, err)
		}
	}
	if ents, _ := os.ReadDir(l.victimDir); len(ents) != 1 {
		t.Errorf("a file was created outside the output directory: %v", ents)
	}
	if ents, _ := os.ReadDir(l.top); len(ents) != 3 {
		t.Errorf("a file was created beside the output directory: %v", ents)
	}
}

func (l layout) open(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(l.out)
	must(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"x.yaml", "base/x.yaml", "overlays/prod/patches/a-b.yaml", ".perimeter-files", "a..b/c"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for _, p := range []string{"", ".", "..", "../victim", "base/../../x", "base/../x", "/etc/x", "./x", "base/./x", "base//x", "base/", `a\b`, `..\x`, "a\x00b"} {
		if err := CheckPath(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

// Every method refuses a path that is not clean and relative, even one
// that would stay inside.
func TestMethodsRefuseUncleanPaths(t *testing.T) {
	l := newLayout(t)
	d := l.open(t)
	for _, p := range []string{"../victim", "x/../../victim", l.victim, "x/../y"} {
		if err := d.WriteFile(p, []byte("w"), 0o644); err == nil {
			t.Errorf("WriteFile(%q) accepted", p)
		}
		if err := d.Remove(p); err == nil {
			t.Errorf("Remove(%q) accepted", p)
		}
		if _, err := d.ReadFile(p); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(%q): %v", p, err)
		}
	}
	l.untouched(t)
}

// A symbolic link where a file goes is never written through, read
// through or removed, wherever it points; the error names it.
func TestLinkAtFileIsRefused(t *testing.T) {
	for _, c := range []struct{ name, target string }{
		{"outside", "../victim"},
		{"outside absolute", ""}, // the victim's absolute path
		{"inside", "real.yaml"},
		{"dangling", "../nowhere"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLayout(t)
			target := c.target
			if target == "" {
				target = l.victim
			}
			must(t, os.WriteFile(filepath.Join(l.out, "real.yaml"), []byte("real"), 0o644))
			link := filepath.Join(l.out, "x.yaml")
			must(t, os.Symlink(target, link))
			d := l.open(t)
			want := link + " is a symbolic link"
			for op, err := range map[string]error{
				"write":  d.WriteFile("x.yaml", []byte("generated"), 0o644),
				"remove": d.Remove("x.yaml"),
				"read":   second(d.ReadFile("x.yaml")),
				"stat":   second(d.Stat("x.yaml")),
			} {
				if !errors.Is(err, ErrLink) || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %v, want %q", op, err, want)
				}
			}
			if got, err := os.Readlink(link); err != nil || got != target {
				t.Errorf("the link was changed: %q %v", got, err)
			}
			if b, _ := os.ReadFile(filepath.Join(l.out, "real.yaml")); string(b) != "real" {
				t.Errorf("the link's target inside was changed: %q", b)
			}
			if _, err := os.Stat(filepath.Join(l.top, "nowhere")); !os.IsNotExist(err) {
				t.Error("a dangling link's target was created")
			}
			l.untouched(t)
		})
	}
}

// A directory on the way that is a symbolic link is refused, wherever it
// points, and is not created through when dangling.
func TestLinkedDirectoryIsRefused(t *testing.T) {
	for _, c := range []struct{ name, target string }{
		{"outside", "../victimdir"},
		{"inside", "real"},
		{"dangling", "../newdir"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLayout(t)
			must(t, os.MkdirAll(filepath.Join(l.out, "real", "sub"), 0o755))
			must(t, os.WriteFile(filepath.Join(l.out, "real", "x.yaml"), []byte("real"), 0o644))
			must(t, os.Symlink(c.target, filepath.Join(l.out, "base")))
			d := l.open(t)
			want := filepath.Join(l.out, "base") + " is a symbolic link"
			for _, p := range []string{"base/x.yaml", "base/sub/x.yaml", "base/new/x.yaml"} {
				for op, err := range map[string]error{
					"write":  d.WriteFile(p, []byte("generated"), 0o644),
					"remove": d.Remove(p),
					"read":   second(d.ReadFile(p)),
				} {
					if !errors.Is(err, ErrLink) || !strings.Contains(err.Error(), want) {
						t.Errorf("%s %s: %v, want %q", op, p, err, want)
					}
				}
			}
			if b, _ := os.ReadFile(filepath.Join(l.out, "real", "x.yaml")); string(b) != "real" {
				t.Errorf("a file behind an inside link was changed: %q", b)
			}
			if _, err := os.Lstat(filepath.Join(l.top, "newdir")); !os.IsNotExist(err) {
				t.Error("a directory was created through a dangling link")
			}
			l.untouched(t)
		})
	}
}

// Anything but a regular file where a file goes is refused.
func TestNonRegularIsRefused(t *testing.T) {
	l := newLayout(t)
	must(t, os.MkdirAll(filepath.Join(l.out, "dir.yaml", "inner"), 0o755))
	must(t, syscall.Mkfifo(filepath.Join(l.out, "fifo.yaml"), 0o644))
	d := l.open(t)
	for _, p := range []string{"dir.yaml", "fifo.yaml"} {
		if err := d.WriteFile(p, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("write %s: %v", p, err)
		}
		if err := d.Remove(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("remove %s: %v", p, err)
		}
		if _, err := d.ReadFile(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("read %s: %v", p, err)
		}
	}
}

func TestWriteReadRemove(t *testing.T) {
	l := newLayout(t)
	must(t, os.WriteFile(filepath.Join(l.out, "keep.md"), []byte("mine"), 0o644))
	d := l.open(t)
	must(t, d.WriteFile("a/b/c/x.yaml", []byte("one"), 0o644))
	must(t, d.WriteFile("a/y.yaml", []byte("two"), 0o644))
	if b, err := d.ReadFile("a/b/c/x.yaml"); err != nil || string(b) != "one" {
		t.Fatalf("read back: %q %v", b, err)
	}
	if _, err := d.ReadFile("a/missing/x.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if err := d.Remove("a/missing/x.yaml"); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
	// the emptied directories go, up to one still holding a file
	must(t, d.Remove("a/b/c/x.yaml"))
	if _, err := os.Stat(filepath.Join(l.out, "a", "b")); !os.IsNotExist(err) {
		t.Error("an emptied directory was left")
	}
	// and a directory removed is written again as a new one
	must(t, d.WriteFile("a/b/z.yaml", []byte("three"), 0o644))
	if b, err := os.ReadFile(filepath.Join(l.out, "a", "b", "z.yaml")); err != nil || string(b) != "three" {
		t.Errorf("write after removing its directory: %q %v", b, err)
	}
	must(t, d.Remove("a/b/z.yaml"))
	must(t, d.Remove("a/y.yaml"))
	if _, err := os.Stat(filepath.Join(l.out, "a")); !os.IsNotExist(err) {
		t.Error("an emptied directory was left")
	}
	if _, err := os.Stat(l.out); err != nil {
		t.Error("the output directory itself was removed")
	}
	l.untouched(t)
}

// A directory emptied by a removal is removed, but a link to a directory
// on the way up never is (nor is anything reached through it).
func TestRemoveEmptyStopsAtLinks(t *testing.T) {
	l := newLayout(t)
	must(t, os.MkdirAll(filepath.Join(l.out, "a", "b"), 0o755))
	must(t, os.WriteFile(filepath.Join(l.out, "a", "b", "x.yaml"), nil, 0o644))
	d := l.open(t)
	must(t, second(d.ReadFile("a/b/x.yaml"))) // opens a and a/b
	// replace a by a link once it is open: removal must not follow it up
	must(t, os.Rename(filepath.Join(l.out, "a"), filepath.Join(l.out, "moved")))
	must(t, os.Symlink("moved", filepath.Join(l.out, "a")))
	must(t, d.Remove("a/b/x.yaml"))
	if _, err := os.Lstat(filepath.Join(l.out, "a")); err != nil {
		t.Errorf("the link was removed: %v", err)
	}
}

// An existing file keeps its permission bits; a new one gets perm.
func TestWriteKeepsMode(t *testing.T) {
	l := newLayout(t)
	p := filepath.Join(l.out, "x.yaml")
	must(t, os.WriteFile(p, []byte("old"), 0o600))
	must(t, os.Chmod(p, 0o640))
	d := l.open(t)
	must(t, d.WriteFile("x.yaml", []byte("new"), 0o644))
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after rewrite: %v %v", fi.Mode(), err)
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	must(t, d.WriteFile("new.yaml", []byte("new"), 0o666))
	if fi, err := os.Stat(filepath.Join(l.out, "new.yaml")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode of a new file: %v %v", fi.Mode(), err)
	}
}

// A write that fails midway leaves the old file as it was, or no file,
// and no temporary file.
func TestFailedWriteLeavesOldFile(t *testing.T) {
	l := newLayout(t)
	p := filepath.Join(l.out, "x.yaml")
	must(t, os.WriteFile(p, []byte("old contents"), 0o640))
	must(t, os.Chmod(p, 0o640))
	failing := errors.New("disk full")
	writeData = func(f *os.File, data []byte) error {
		if _, err := f.Write(data[:len(data)/2]); err != nil {
			return err
		}
		return failing
	}
	defer func() { writeData = defaultWriteData }()
	d := l.open(t)
	err := d.WriteFile("x.yaml", []byte("new contents, longer than the old"), 0o644)
	if !errors.Is(err, failing) || !strings.Contains(err.Error(), p) {
		t.Fatalf("error: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old contents" {
		t.Errorf("the old file was changed: %q", b)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the old file's mode was changed: %v %v", fi, err)
	}
	if err := d.WriteFile("sub/new.yaml", []byte("new"), 0o644); !errors.Is(err, failing) {
		t.Fatalf("error: %v", err)
	}
	if _, err := os.Stat(filepath.Join(l.out, "sub", "new.yaml")); !os.IsNotExist(err) {
		t.Error("a failed write of a new file left one")
	}
	noTemp(t, l.out)
}

var defaultWriteData = writeData

// noTemp fails the test if a temporary file is left anywhere below dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), TempPrefix) {
			t.Errorf("temporary file left: %s", p)
		}
		return err
	})
}

// A process that dies in the middle of writing a file (here: exits with
// half the new contents written) leaves the old file whole.
func TestCrashMidWriteLeavesOldFile(t *testing.T) {
	if dir := os.Getenv("OUTDIR_CRASH_IN"); dir != "" {
		writeData = func(f *os.File, data []byte) error {
			f.Write(data[:len(data)/2])
			os.Exit(3) // no deferred cleanup, as in a kill
			return nil
		}
		d, err := Open(dir)
		if err == nil {
			err = d.WriteFile("x.yaml", []byte("new contents, longer than the old"), 0o644)
		}
		t.Fatalf("the write did not crash: %v", err)
	}
	l := newLayout(t)
	p := filepath.Join(l.out, "x.yaml")
	must(t, os.WriteFile(p, []byte("old contents"), 0o644))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidWriteLeavesOldFile$")
	cmd.Env = append(os.Environ(), "OUTDIR_CRASH_IN="+l.out)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("the writer did not crash as planned: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(p); string(b) != "old contents" {
		t.Errorf("a crash mid-write changed the file: %q", b)
	}
	// what is left is one hidden temporary file holding the half
	ents, _ := os.ReadDir(l.out)
	if len(ents) != 2 || !strings.HasPrefix(ents[0].Name(), TempPrefix) || !strings.HasSuffix(ents[0].Name(), TempSuffix) {
		t.Errorf("left behind: %v", ents)
	}
	l.untouched(t)
}

// The output directory itself may be a link (the caller's argument): it
// is followed, and what is below it is held to the rules.
func TestOutputDirectoryLinkIsFollowed(t *testing.T) {
	l := newLayout(t)
	link := filepath.Join(t.TempDir(), "out-link")
	must(t, os.Symlink(l.out, link))
	d, err := Open(link)
	must(t, err)
	defer d.Close()
	must(t, d.WriteFile("x.yaml", []byte("x"), 0o644))
	if b, _ := os.ReadFile(filepath.Join(l.out, "x.yaml")); string(b) != "x" {
		t.Errorf("not written through the output directory's link: %q", b)
	}
}

func second[T any](_ T, err error) error { return err }
