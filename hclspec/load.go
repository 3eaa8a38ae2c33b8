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

	"github.com/perimeter-dev/perimeter/internal/readlimit"
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

// Texts returns the bytes of every file Files returns, by name: Parse of
// them gives the same files again, for a caller that keeps the bytes and
// lets the syntax trees go (they are several times the bytes' size).
func (s *Sources) Texts() map[string][]byte {
	out := make(map[string][]byte, len(s.files))
	for name, f := range s.files {
		if f != nil {
			out[name] = f.Bytes
		}
	}
	return out
}

// Names returns the file names in sorted order.
func (s *Sources) Names() []string { return append([]string(nil), s.names...) }

// ReadDir parses every *.hcl file in dir (not its subdirectories), each of
// at most DefaultMaxFileSize bytes.
func ReadDir(dir string) (*Sources, hcl.Diagnostics) { return ReadDirMax(dir, 0) }

// ReadDirMax is ReadDir with a per-file size limit in bytes (<= 0: the
// default). A larger file is not read: it gets a diagnostic naming it, its
// size and how to raise the limit.
func ReadDirMax(dir string, maxFileSize int64) (*Sources, hcl.Diagnostics) {
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
	if maxFileSize <= 0 {
		maxFileSize = DefaultMaxFileSize
	}
	files := make(map[string][]byte, len(paths))
	var diags hcl.Diagnostics
	var total int64
	for _, p := range paths {
		src, d := ReadFile(p, filepath.Base(p), maxFileSize)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		files[filepath.Base(p)] = src
		// Every file's syntax tree is kept, so the whole is bounded too.
		if total += int64(len(src)); total > maxTotal*maxFileSize {
			return &Sources{files: map[string]*hcl.File{}}, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Intent too large",
				Detail: fmt.Sprintf("The *.hcl files of %s add up to more than %s, %d times the limit for one file; "+
					"raise it with --max-file-size or PERIMETER_MAX_FILE_SIZE if the files are really intent.",
					dir, readlimit.Bytes(maxTotal*maxFileSize), maxTotal),
			}}
		}
	}
	if diags.HasErrors() {
		return &Sources{files: map[string]*hcl.File{}}, diags
	}
	return Parse(files)
}

// Parse parses in-memory HCL files keyed by name, several at a time: a
// large stack spread over many files parses on every core. Diagnostics come
// in file-name order. A file that CheckSource refuses (not UTF-8 text,
// nested too deep, heredocs too long) is not parsed: it gets that one
// diagnostic, and Files holds its bytes without a body.
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
				name, src := hclNames[i], files[hclNames[i]]
				if d := CheckSource(name, src); d != nil {
					parsed[i], diags[i] = &hcl.File{Bytes: src}, hcl.Diagnostics{d}
					continue
				}
				parsed[i], diags[i] = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
				chargeFile(parsed[i])
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

// size is the number of bytes of the files.
func (s *Sources) size() int64 {
	var n int64
	for _, f := range s.files {
		if f != nil {
			n += int64(len(f.Bytes))
		}
	}
	return n
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
