package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/perimeter-dev/perimeter/internal/outdir"
)

// Tree is a set of files to write: contents by slash-separated path
// relative to an output directory.
type Tree map[string][]byte

// Paths returns the tree's paths, sorted.
func (t Tree) Paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// ManifestFile lists, in an output directory, the files perimeter wrote
// there, so a later render removes only its own stale files and never
// touches anything else.
const ManifestFile = ".perimeter-files"

// Changes says how a directory differs from a tree.
type Changes struct {
	Write  []string // files to create or rewrite
	Remove []string // files perimeter wrote before and no longer needs
}

// Empty reports whether the directory is up to date.
func (c Changes) Empty() bool { return len(c.Write)+len(c.Remove) == 0 }

// Compare lists what Write would change in dir. A file in the tree that
// exists in dir but was not written by perimeter is an error: perimeter
// never overwrites files it does not own. So is an entry of dir's
// ManifestFile that is not a clean relative path inside dir, and a
// symbolic link anywhere on the path of a file to write or remove:
// nothing outside dir is ever read, written or removed, and no link is
// followed (see package outdir). A missing dir is one with nothing in it.
func Compare(dir string, t Tree) (Changes, error) {
	d, err := outdir.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := checkTree(t); err != nil {
			return Changes{}, err
		}
		return Changes{Write: t.Paths()}, nil
	}
	if err != nil {
		return Changes{}, err
	}
	defer d.Close()
	c, _, err := compare(d, t)
	return c, err
}

// Write brings dir up to date with the tree and records what perimeter
// owns there, creating dir when missing. It returns what it changed.
// Everything Compare refuses is refused before anything is written or
// removed. Each file is written atomically (see outdir.Dir.WriteFile);
// when ctx is cancelled no further file is started, and the files written
// so far are whole and listed as perimeter's.
func Write(ctx context.Context, dir string, t Tree) (Changes, error) {
	d, err := outdir.Create(dir)
	if err != nil {
		return Changes{}, err
	}
	defer d.Close()
	c, m, err := compare(d, t)
	if err != nil {
		return c, fmt.Errorf("%w; nothing was written or removed", err)
	}
	// List the new files before they exist, so a render interrupted while
	// writing them leaves a list that still owns every file it wrote.
	listed := slices.Collect(maps.Keys(m.owned))
	for _, p := range c.Write {
		if m.owned[p] == 0 {
			listed = append(listed, p)
		}
	}
	if len(listed) > len(m.owned) {
		slices.Sort(listed)
		if err := m.write(d, listed); err != nil {
			return c, err
		}
	}
	if err := writeFiles(ctx, d, t, c.Write); err != nil {
		return c, err
	}
	for _, p := range c.Remove {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		if err := d.Remove(p); err != nil {
			return c, err
		}
	}
	return c, m.write(d, t.Paths())
}

// compare is Compare on an open directory; it also returns the manifest.
func compare(d *outdir.Dir, t Tree) (Changes, *manifestFile, error) {
	if err := checkTree(t); err != nil {
		return Changes{}, nil, err
	}
	m, err := readManifest(d)
	if err != nil {
		return Changes{}, nil, err
	}
	var c Changes
	for _, p := range t.Paths() {
		cur, err := d.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.Write = append(c.Write, p)
		case err != nil:
			return c, nil, err
		case m.owned[p] == 0 && !bytes.Equal(cur, t[p]):
			return c, nil, fmt.Errorf("%s exists and was not written by perimeter; move it away or choose another --output", d.Path(p))
		case !bytes.Equal(cur, t[p]):
			c.Write = append(c.Write, p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(m.owned)) {
		if _, keep := t[p]; keep {
			continue
		}
		_, err := d.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return c, nil, fmt.Errorf("%s:%d: entry %q: %w", d.Path(ManifestFile), m.owned[p], p, err)
		default:
			c.Remove = append(c.Remove, p)
		}
	}
	return c, m, nil
}

// checkTree refuses a tree path that is not clean, relative and local: the
// generators build paths from names the intent checks, and this makes sure.
func checkTree(t Tree) error {
	for p := range t {
		if err := outdir.CheckPath(p); err != nil {
			return fmt.Errorf("generated file name: %w", err)
		}
	}
	return nil
}

// manifestFile is a directory's ManifestFile as read.
type manifestFile struct {
	owned map[string]int // path -> line
	raw   []byte         // its contents (nil when missing)
}

// readManifest reads and checks the list of files perimeter wrote in d.
// The list is a file anyone can edit, so every entry must be a clean
// relative path inside d; any other is refused, naming it.
func readManifest(d *outdir.Dir) (*manifestFile, error) {
	b, err := d.ReadFile(ManifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		return &manifestFile{owned: map[string]int{}}, nil
	}
	if err != nil {
		return nil, err
	}
	m := &manifestFile{owned: map[string]int{}, raw: b}
	for i, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if outdir.CheckPath(line) != nil {
			return nil, fmt.Errorf("%s:%d: entry %q is not a clean relative path inside %s", d.Path(ManifestFile), i+1, line, d.Path("."))
		}
		m.owned[line] = i + 1
	}
	return m, nil
}

// write replaces the list with paths, unless it already says that.
func (m *manifestFile) write(d *outdir.Dir, paths []string) error {
	var b bytes.Buffer
	b.WriteString("# Files written by perimeter render. perimeter removes these\n# when it no longer needs them and never touches other files.\n")
	for _, p := range paths {
		b.WriteString(p + "\n")
	}
	if bytes.Equal(b.Bytes(), m.raw) {
		return nil
	}
	if err := d.WriteFile(ManifestFile, b.Bytes(), 0o644); err != nil {
		return err
	}
	m.raw = b.Bytes()
	return nil
}

// writeFiles writes paths with a few writers in flight: creating ten
// thousand small files is dominated by file-system latency, not CPU. The
// first error, or ctx's cancellation, stops it starting more.
func writeFiles(ctx context.Context, d *outdir.Dir, t Tree, paths []string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, p := range paths {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return d.WriteFile(p, t[p], 0o644) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
