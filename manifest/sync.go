package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
// never overwrites files it does not own.
func Compare(dir string, t Tree) (Changes, error) {
	owned, err := readManifest(dir)
	if err != nil {
		return Changes{}, err
	}
	var c Changes
	for _, p := range t.Paths() {
		cur, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.Write = append(c.Write, p)
		case err != nil:
			return c, err
		case !owned[p] && !bytes.Equal(cur, t[p]):
			return c, fmt.Errorf("%s exists and was not written by perimeter; move it away or choose another --output", filepath.Join(dir, p))
		case !bytes.Equal(cur, t[p]):
			c.Write = append(c.Write, p)
		}
	}
	for p := range owned {
		if _, keep := t[p]; !keep {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
				c.Remove = append(c.Remove, p)
			}
		}
	}
	sort.Strings(c.Remove)
	return c, nil
}

// Write brings dir up to date with the tree and records what perimeter
// owns there. It returns what it changed.
func Write(dir string, t Tree) (Changes, error) {
	c, err := Compare(dir, t)
	if err != nil {
		return c, err
	}
	if err := writeFiles(dir, t, c.Write); err != nil {
		return c, err
	}
	for _, p := range c.Remove {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return c, err
		}
		removeEmptyParents(dir, filepath.Dir(full))
	}
	return c, writeManifest(dir, t)
}

func readManifest(dir string) (map[string]bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			owned[line] = true
		}
	}
	return owned, nil
}

func writeManifest(dir string, t Tree) error {
	var b strings.Builder
	b.WriteString("# Files written by perimeter render. perimeter removes these\n# when it no longer needs them and never touches other files.\n")
	for _, p := range t.Paths() {
		b.WriteString(p + "\n")
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), []byte(b.String()), 0o644)
}

// removeEmptyParents removes directories emptied by a removal, up to dir.
func removeEmptyParents(dir, from string) {
	for d := from; d != dir && strings.HasPrefix(d, dir); d = filepath.Dir(d) {
		if err := os.Remove(d); err != nil { // fails when not empty
			return
		}
	}
}

// writeFiles writes paths with a few writers in flight: creating ten
// thousand small files is dominated by file-system latency, not CPU.
func writeFiles(dir string, t Tree, paths []string) error {
	made := map[string]bool{}
	for _, p := range paths {
		d := filepath.Dir(filepath.Join(dir, filepath.FromSlash(p)))
		if !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
	}
	const writers = 16
	errs := make(chan error, writers)
	next := make(chan string)
	for w := 0; w < writers; w++ {
		go func() {
			var first error
			for p := range next {
				if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), t[p], 0o644); err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		}()
	}
	for _, p := range paths {
		next <- p
	}
	close(next)
	var first error
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
