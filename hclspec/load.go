package hclspec

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Sources holds the parsed HCL files of one intent directory. File names are
// relative to the directory, so diagnostics and annotations do not depend on
// where the directory sits on disk.
type Sources struct {
	parser *hclparse.Parser
	names  []string // sorted
}

// Files returns the parsed files by name, for hcl.NewDiagnosticTextWriter.
func (s *Sources) Files() map[string]*hcl.File { return s.parser.Files() }

// Names returns the file names in sorted order.
func (s *Sources) Names() []string { return append([]string(nil), s.names...) }

// ReadDir parses every *.hcl file in dir (not its subdirectories).
func ReadDir(dir string) (*Sources, hcl.Diagnostics) {
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

// Parse parses in-memory HCL files keyed by name.
func Parse(files map[string][]byte) (*Sources, hcl.Diagnostics) {
	s := &Sources{parser: hclparse.NewParser()}
	for name := range files {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	var diags hcl.Diagnostics
	for _, name := range s.names {
		if !strings.HasSuffix(name, ".hcl") {
			continue
		}
		_, d := s.parser.ParseHCL(files[name], name)
		diags = append(diags, d...)
	}
	return s, diags
}

// bodies returns the parsed bodies in file-name order.
func (s *Sources) bodies() []hcl.Body {
	all := s.parser.Files()
	var out []hcl.Body
	for _, name := range s.names {
		if f, ok := all[name]; ok && f != nil && f.Body != nil {
			out = append(out, f.Body)
		}
	}
	return out
}
