package overlay

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/perimeter-dev/perimeter/internal/readlimit"
)

// Limits bound what one kustomize build may read.
type Limits struct {
	// MaxFileSize is the largest file read (<= 0: no limit).
	MaxFileSize int64
	// MaxTotal is the most bytes all reads of the build may add up to
	// (<= 0: no limit). A file read twice counts twice: a tree that names
	// one patch a thousand times is as costly as a thousand patches.
	MaxTotal int64
	// Root is the folder every file read must lie in once symbolic links
	// are resolved ("": the folder built). kustomize's own restriction
	// keeps a file inside its kustomization's folder but lets a base be
	// any folder above (resources: [../../../elsewhere]).
	Root string
}

// ErrRemote says a kustomize tree refers to content that is not on the
// local disk: a remote file (http, https) or a remote base (a git URL).
var ErrRemote = errors.New("refers to remote content; plan --against reads local files only (run kustomize build yourself and give plan --against the directory of its output)")

// BuildLocalDir is BuildDir for a tree perimeter did not write and must not
// trust (plan --against on a pull request's tree): every file kustomize
// reads is bounded by lim, nothing is written, and remote files and bases
// are refused before any connection is made or git is run: kustomize
// fetches remote files with a client on http.DefaultTransport and clones
// remote bases with the git program it finds on PATH, so for the build the
// transport refuses every request and PATH names no folder (git is not
// found, so no clone folder is made and git never runs). GIT_ALLOW_PROTOCOL
// allowing no protocol stays as a second wall.
func BuildLocalDir(dir string, lim Limits) ([]*unstructured.Unstructured, error) {
	root := lim.Root
	if root == "" {
		root = dir
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	if realRoot, err = filepath.Abs(realRoot); err != nil {
		return nil, err
	}
	fs := &boundedFS{FileSystem: filesys.MakeFsOnDisk(), lim: lim, root: realRoot, left: lim.MaxTotal}
	var res []*unstructured.Unstructured
	fetched, err := offline(func() error {
		built, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
		if err != nil {
			return err
		}
		res, err = objects(built)
		return err
	})
	switch {
	case err == nil:
		return res, nil
	case fs.limitErr != nil:
		// kustomize flattens the errors of its reads into text: report the
		// limit that was hit as itself, so the caller can say how to raise it.
		return nil, fmt.Errorf("kustomize build %s: %w", dir, fs.limitErr)
	case len(fetched) > 0:
		return nil, fmt.Errorf("kustomize tree %s %w; it names %s", dir, ErrRemote, strings.Join(fetched, ", "))
	case isGitHidden(err):
		return nil, fmt.Errorf("kustomize tree %s %w; it names a remote base, which kustomize would clone with git, and perimeter runs no program while it builds a tree:\n  %v", dir, ErrRemote, err)
	case isGitRefusal(err):
		return nil, fmt.Errorf("kustomize tree %s %w:\n  %v", dir, ErrRemote, err)
	}
	return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
}

// isGitRefusal recognises git's answer to a protocol GIT_ALLOW_PROTOCOL
// does not allow ("transport 'https' not allowed").
func isGitRefusal(err error) bool {
	s := err.Error()
	return strings.Contains(s, "transport '") && strings.Contains(s, "not allowed")
}

// isGitHidden recognises kustomize's answer when it looks for git to clone
// a remote base and PATH, as offline sets it, has none.
func isGitHidden(err error) bool {
	return strings.Contains(err.Error(), "no 'git' program on path")
}

// noPath is PATH while a tree is built: a folder that does not exist, so
// no program is found by name.
const noPath = "/nonexistent/perimeter-runs-no-program-while-building-a-kustomize-tree"

// offlineMu serialises builds that swap the process's default transport
// and git environment.
var offlineMu sync.Mutex

// offline runs f with http.DefaultTransport refusing every request, no
// program found on PATH and git refusing every protocol, restores all three
// after, and returns the URLs refused (kustomize flattens the transport's
// errors into its own text). Nothing else in perimeter uses
// http.DefaultTransport or runs a program while a tree is built: plan
// --against talks to no cluster.
func offline(f func() error) ([]string, error) {
	offlineMu.Lock()
	defer offlineMu.Unlock()
	refuse := &refuseTransport{}
	saved := http.DefaultTransport
	http.DefaultTransport = refuse
	defer func() { http.DefaultTransport = saved }()
	restore, err := setenv(map[string]string{
		"PATH": noPath,
		// git allows only the protocols listed; no protocol has this name.
		"GIT_ALLOW_PROTOCOL": "perimeter-refuses-remote-bases",
	})
	defer restore()
	if err != nil {
		return nil, err
	}
	err = f()
	return refuse.urls(), err
}

// setenv sets the variables and returns what puts back their earlier
// values (or their absence).
func setenv(vars map[string]string) (restore func(), err error) {
	var undo []func()
	restore = func() {
		for _, u := range undo {
			u()
		}
	}
	for name, value := range vars {
		old, had := os.LookupEnv(name)
		undo = append(undo, func() {
			if had {
				os.Setenv(name, old)
			} else {
				os.Unsetenv(name)
			}
		})
		if err := os.Setenv(name, value); err != nil {
			return restore, err
		}
	}
	return restore, nil
}

// refuseTransport answers every request with an error, sends nothing, and
// keeps the URLs asked for.
type refuseTransport struct {
	mu      sync.Mutex
	refused []string
}

func (t *refuseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	u := r.URL.Redacted()
	t.mu.Lock()
	t.refused = append(t.refused, u)
	t.mu.Unlock()
	return nil, fmt.Errorf("perimeter refused to fetch %s", u)
}

// urls are the URLs refused, sorted, each once.
func (t *refuseTransport) urls() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Compact(slices.Sorted(slices.Values(t.refused)))
}

// boundedFS is the disk as a kustomize build may see it: reads bounded by
// lim, writes refused (a build reads; only a remote clone's clean-up
// removes, and remote clones are refused).
type boundedFS struct {
	filesys.FileSystem
	lim  Limits
	root string // Limits.Root, absolute, links resolved

	mu       sync.Mutex
	left     int64
	limitErr error // the first read refused by a limit
}

// ReadFile reads path within the limits; every file kustomize loads
// (kustomizations, resources, patches, generator inputs) comes through it.
func (b *boundedFS) ReadFile(path string) ([]byte, error) {
	if err := b.inside(path); err != nil {
		return nil, b.refused(err)
	}
	data, err := readlimit.ReadFile(path, b.lim.MaxFileSize)
	var tooLarge *readlimit.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, b.refused(err)
	}
	if err != nil || b.lim.MaxTotal <= 0 {
		return data, err
	}
	b.mu.Lock()
	b.left -= int64(len(data))
	left := b.left
	b.mu.Unlock()
	if left < 0 {
		return nil, b.refused(fmt.Errorf("reading %s: the tree's files add up to more than %s, the limit for one build", path, readlimit.Bytes(b.lim.MaxTotal)))
	}
	return data, nil
}

// inside refuses a file that, links resolved, lies outside the root (a
// missing file is left to the read to report).
func (b *boundedFS) inside(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil
	}
	if real, err = filepath.Abs(real); err != nil {
		return err
	}
	if rel, err := filepath.Rel(b.root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%s is outside %s (it is %s): plan --against reads only the files under the folder it is given", path, b.root, real)
	}
	return nil
}

// refused records the first read a limit refused and returns err.
func (b *boundedFS) refused(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limitErr == nil {
		b.limitErr = err
	}
	return err
}

// Open is refused: kustomize reads files with ReadFile; a reader from Open
// would escape the bound.
func (b *boundedFS) Open(path string) (filesys.File, error) {
	return nil, fmt.Errorf("open %s: not allowed while building a tree perimeter reads", path)
}

func (b *boundedFS) refuseWrite(path string) error {
	return fmt.Errorf("write %s: a tree perimeter reads is not written", path)
}

// Create is refused: see boundedFS.
func (b *boundedFS) Create(path string) (filesys.File, error) { return nil, b.refuseWrite(path) }

// Mkdir is refused: see boundedFS.
func (b *boundedFS) Mkdir(path string) error { return b.refuseWrite(path) }

// MkdirAll is refused: see boundedFS.
func (b *boundedFS) MkdirAll(path string) error { return b.refuseWrite(path) }

// RemoveAll is refused: see boundedFS. (kustomize removes only the clone
// folders of remote bases, and with git hidden it makes none.)
func (b *boundedFS) RemoveAll(path string) error { return b.refuseWrite(path) }

// WriteFile is refused: see boundedFS.
func (b *boundedFS) WriteFile(path string, _ []byte) error { return b.refuseWrite(path) }
