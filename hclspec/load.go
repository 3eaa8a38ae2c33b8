package hclspec

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Sources holds the parsed HCL files of one intent directory. File names are
// relative to the directory, so diagnostics and annotations do not depend on
// where the directory sits on disk.
type Sources struct {
	files map[string]*hcl.File
	names []string // sorted
}

// Files returns the parsed files by name, for hcl.NewDiagnosticTextWriter.
func (s *Sources) Files() map[string]*hcl.File { return s.files }

// Names returns the file names in sorted order.
func (s *Sources) Names() []string { return append([]string(nil), s.names...) }

// ReadDir parses every *.hcl file in dir (not its subdirectories).
func ReadDir(dir string) (*Sources, hcl.Diagnostics) {
	if d := checkIntentDir(dir); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot list intent files", Detail: err.Error()}}
	}
	if len(paths) == 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No intent files",
			Detail:   fmt.Sprintf("The directory %s holds no *.hcl files.", dir),
		}}
	}
	files := make(map[string][]byte, len(paths))
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read intent file", Detail: err.Error()}}
		}
		files[filepath.Base(p)] = src
	}
	return Parse(files)
}

// Parse parses in-memory HCL files keyed by name, several at a time: a
// large stack spread over many files parses on every core. Diagnostics come
// in file-name order.
func Parse(files map[string][]byte) (*Sources, hcl.Diagnostics) {
	s := &Sources{files: map[string]*hcl.File{}}
	for name := range files {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	var hclNames []string
	for _, name := range s.names {
		if strings.HasSuffix(name, ".hcl") {
			hclNames = append(hclNames, name)
		}
	}
	parsed := make([]*hcl.File, len(hclNames))
	diags := make([]hcl.Diagnostics, len(hclNames))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(hclNames)) {
		wg.Go(func() {
			for i := range next {
				parsed[i], diags[i] = hclsyntax.ParseConfig(files[hclNames[i]], hclNames[i], hcl.InitialPos)
			}
		})
	}
	for i := range hclNames {
		next <- i
	}
	close(next)
	wg.Wait()
	var all hcl.Diagnostics
	for i, name := range hclNames {
		s.files[name] = parsed[i]
		all = append(all, diags[i]...)
	}
	return s, all
}

// bodies returns the parsed bodies in file-name order.
func (s *Sources) bodies() []hcl.Body {
	all := s.files
	var out []hcl.Body
	for _, name := range s.names {
		if f, ok := all[name]; ok && f != nil && f.Body != nil {
			out = append(out, f.Body)
		}
	}
	return out
}

// checkIntentDir explains a path that is not a directory of intent files:
// a missing one, or a single file (commands read every *.hcl file of a
// directory, so a stack spread over files is never half read).
func checkIntentDir(dir string) *hcl.Diagnostic {
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Intent directory not found",
			Detail: fmt.Sprintf("%s does not exist or cannot be read: %v.", dir, err)}
	case !info.IsDir():
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not a directory",
			Detail: fmt.Sprintf("%s is a file. perimeter reads every *.hcl file of a directory, so a stack spread over several files is always read whole: give the directory (%s).", dir, filepath.Dir(dir))}
	}
	return nil
}
