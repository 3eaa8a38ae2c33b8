// Package outdir reads, writes and removes files inside one output
// directory and nowhere else. It is what render and import write through,
// and the paths it is given may come from files a pull request can edit
// (the .perimeter-files list of a rendered tree).
//
// Three rules hold for every path:
//
//   - a path must be clean, relative and local ("base/x.yaml"; never
//     "../x", "base/../x", "/etc/x" or "a\b"), else it is refused;
//   - no symbolic link below the directory is followed, wherever it points
//     (outside, inside, nowhere): a path with a link in any component is
//     refused with an error naming the link (errors.Is(err, ErrLink)), so
//     a link is never written through, read through or removed;
//   - everything goes through an os.Root opened on the directory, so even
//     a link planted while perimeter runs cannot lead outside it. Each
//     subdirectory is opened once and checked to be the very directory
//     that was seen not to be a link; each file read is checked to be the
//     regular file that was seen.
//
// The directory itself is the caller's argument and is opened as the
// operating system resolves it: when it is a symbolic link to a directory,
// that directory is the output directory.
//
// Writes are atomic: the data goes to a temporary file created beside the
// target with O_EXCL, which is then renamed over it, so an interrupted or
// failed write leaves the old file (or none), never half a file. A failed
// write removes its temporary file; a process killed mid-write can leave
// one behind, named .perimeter-*.tmp. Files are not fsynced: rewriting ten
// thousand files would cost seconds, and a crash of the machine itself is
// the file system's to recover.
package outdir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// ErrLink is in the error for a path that has a symbolic link in it.
var ErrLink = errors.New("is a symbolic link; perimeter does not follow links inside its output directory (remove the link and run again)")

// Dir is an open output directory. Its methods are safe for concurrent use.
type Dir struct {
	name string // as given, for messages
	mu   sync.Mutex
	dirs map[string]*os.Root // opened directories by slash-separated path; "." is the directory itself
}

// Open opens an existing directory. A missing one gives an error for
// which errors.Is(err, fs.ErrNotExist) holds.
func Open(name string) (*Dir, error) {
	root, err := os.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	return &Dir{name: name, dirs: map[string]*os.Root{".": root}}, nil
}

// Create opens the directory, creating it and its parents when missing.
func Create(name string) (*Dir, error) {
	if err := os.MkdirAll(name, 0o755); err != nil {
		return nil, err
	}
	return Open(name)
}

// Close closes the directory and every subdirectory opened through it.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for p, r := range d.dirs {
		errs = append(errs, r.Close())
		delete(d.dirs, p)
	}
	return errors.Join(errs...)
}

// Path is p's name for messages: the directory's name joined with p.
func (d *Dir) Path(p string) string { return filepath.Join(d.name, filepath.FromSlash(p)) }

// CheckPath reports whether p is a path these methods accept: slash-
// separated, relative, clean (no "." or ".." components, no doubled or
// trailing slash), without backslashes or NUL, and local (on Windows, no
// volume or reserved name).
func CheckPath(p string) error {
	if p == "." || path.Clean(p) != p || strings.ContainsAny(p, "\\\x00") || !filepath.IsLocal(filepath.FromSlash(p)) {
		return fmt.Errorf("%q is not a clean relative path", p)
	}
	return nil
}

// Stat describes the regular file at p. A missing file (or directory on
// the way) gives an error satisfying errors.Is(err, fs.ErrNotExist); a
// symbolic link anywhere on the way or at p gives one satisfying
// errors.Is(err, ErrLink); anything but a regular file at p is an error.
func (d *Dir) Stat(p string) (fs.FileInfo, error) {
	r, base, err := d.parent(p, false)
	if err != nil {
		return nil, err
	}
	return d.statIn(r, p, base)
}

// ReadFile reads the regular file at p (errors as for Stat).
func (d *Dir) ReadFile(p string) ([]byte, error) {
	r, base, err := d.parent(p, false)
	if err != nil {
		return nil, err
	}
	fi, err := d.statIn(r, p, base)
	if err != nil {
		return nil, err
	}
	f, err := r.Open(base)
	if err != nil {
		return nil, d.pathErr(p, err)
	}
	defer f.Close()
	// os.Root follows a link that stays inside it: make sure what was
	// opened is the regular file that was seen, not a link put there since.
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		return nil, fmt.Errorf("%s changed while it was being read", d.Path(p))
	}
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, d.pathErr(p, err)
	}
	return buf.Bytes(), nil
}

// WriteFile replaces the file at p with data, atomically, creating the
// directories on the way (0755 before umask). A new file gets perm (before
// umask); a file that exists keeps its permission bits. A symbolic link or
// anything but a regular file at p is refused, never written through.
func (d *Dir) WriteFile(p string, data []byte, perm fs.FileMode) error {
	r, base, err := d.parent(p, true)
	if err != nil {
		return err
	}
	old, err := d.statIn(r, p, base)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, f, err := createTemp(r, perm)
	if err != nil {
		return d.pathErr(path.Join(path.Dir(p), tmp), err)
	}
	err = writeData(f, data)
	if err == nil && old != nil {
		err = f.Chmod(old.Mode().Perm())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// renameat replaces whatever entry is at base, a link included,
		// and never follows it.
		err = r.Rename(tmp, base)
	}
	if err != nil {
		_ = r.Remove(tmp)
		return fmt.Errorf("writing %s: %w", d.Path(p), unwrapPath(err))
	}
	return nil
}

// writeData writes the temporary file's contents; tests replace it to
// fail or crash midway.
var writeData = func(f *os.File, data []byte) error {
	_, err := f.Write(data)
	return err
}

// TempPrefix and TempSuffix frame the names of temporary files: hidden,
// and not *.yaml, so nothing that reads a rendered tree picks one up.
const (
	TempPrefix = ".perimeter-"
	TempSuffix = ".tmp"
)

// createTemp creates a new file in r with O_EXCL, which never follows a
// link: an entry of that name, dangling link included, makes it try again.
func createTemp(r *os.Root, perm fs.FileMode) (string, *os.File, error) {
	for range 100 {
		name := fmt.Sprintf("%s%016x%s", TempPrefix, rand.Uint64(), TempSuffix)
		f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
	return "", nil, errors.New("could not create a temporary file")
}

// Remove removes the regular file at p (a symbolic link or anything else
// there is refused), then each directory on the way that it left empty,
// never the output directory itself. A missing file is not an error.
func (d *Dir) Remove(p string) error {
	r, base, err := d.parent(p, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := d.statIn(r, p, base); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if err := r.Remove(base); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d.pathErr(p, err)
	}
	d.removeEmpty(path.Dir(p))
	return nil
}

// removeEmpty removes directory p and its parents while they are empty
// directories (not links), stopping below the output directory.
func (d *Dir) removeEmpty(p string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for ; p != "."; p = path.Dir(p) {
		parent, err := d.dirLocked(path.Dir(p), false)
		if err != nil {
			return
		}
		base := path.Base(p)
		if fi, err := parent.Lstat(base); err != nil || !fi.IsDir() {
			return
		}
		if err := parent.Remove(base); err != nil { // fails when not empty
			return
		}
		if r := d.dirs[p]; r != nil {
			r.Close()
			delete(d.dirs, p)
		}
	}
}

// parent checks p and opens the directory holding it, creating it when
// create is set; it returns that directory and p's last component.
func (d *Dir) parent(p string, create bool) (*os.Root, string, error) {
	if err := CheckPath(p); err != nil {
		return nil, "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r, err := d.dirLocked(path.Dir(p), create)
	return r, path.Base(p), err
}

// dirLocked opens the directory p, one component at a time from the
// output directory, refusing a component that is a link or not a
// directory. Opened directories are kept for the next call.
func (d *Dir) dirLocked(p string, create bool) (*os.Root, error) {
	if r := d.dirs[p]; r != nil {
		return r, nil
	}
	if d.dirs["."] == nil {
		return nil, fmt.Errorf("%s: %w", d.name, os.ErrClosed)
	}
	parent, err := d.dirLocked(path.Dir(p), create)
	if err != nil {
		return nil, err
	}
	base := path.Base(p)
	fi, err := parent.Lstat(base)
	if create && errors.Is(err, fs.ErrNotExist) {
		if err = parent.Mkdir(base, 0o755); err == nil || errors.Is(err, fs.ErrExist) {
			fi, err = parent.Lstat(base)
		}
	}
	switch {
	case err != nil:
		return nil, d.pathErr(p, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s %w", d.Path(p), ErrLink)
	case !fi.IsDir():
		return nil, fmt.Errorf("%s is not a directory", d.Path(p))
	}
	r, err := parent.OpenRoot(base)
	if err != nil {
		return nil, d.pathErr(p, err)
	}
	// OpenRoot follows a link that stays inside: make sure this is the
	// directory that was seen, not a link put there since.
	if got, err := r.Stat("."); err != nil || !os.SameFile(fi, got) {
		r.Close()
		return nil, fmt.Errorf("%s changed while it was being opened", d.Path(p))
	}
	d.dirs[p] = r
	return r, nil
}

// statIn describes base in r, which is p's directory: a regular file, or
// an error.
func (d *Dir) statIn(r *os.Root, p, base string) (fs.FileInfo, error) {
	fi, err := r.Lstat(base)
	switch {
	case err != nil:
		return nil, d.pathErr(p, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s %w", d.Path(p), ErrLink)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", d.Path(p))
	}
	return fi, nil
}

// pathErr names p in full in an error from an os.Root method, which names
// only the part relative to the opened directory.
func (d *Dir) pathErr(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: d.Path(p), Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", d.Path(p), err)
}

// unwrapPath drops the relative name an os.Root method put in an error
// (the caller names the file in full).
func unwrapPath(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
