package hclspec

import (
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// AutoVarFileSuffix marks the variable files perimeter loads by itself from
// the intent directory, in name order, as Terraform loads *.auto.tfvars.
const AutoVarFileSuffix = ".auto.pvars"

// VarFiles are variable-value files (`name = value` attributes, like
// Terraform's .tfvars), parsed once and applied in order: a later file
// overrides an earlier one.
type VarFiles struct {
	files []varFile
}

type varFile struct {
	path  string
	attrs hcl.Attributes
}

// AutoVarFiles lists dir's *.auto.pvars files, sorted by name.
func AutoVarFiles(dir string) []string {
	paths, _ := filepath.Glob(filepath.Join(dir, "*"+AutoVarFileSuffix))
	sort.Strings(paths)
	return paths
}

// ReadVarFiles reads and parses the files. Each may hold only attributes
// whose values are literals (no references, no functions): a values file
// is data, not code.
func ReadVarFiles(paths []string) (*VarFiles, hcl.Diagnostics) { return ReadVarFilesMax(paths, 0) }

// ReadVarFilesMax is ReadVarFiles with the bounds of intent files: each at
// most maxFileSize bytes (<= 0: DefaultMaxFileSize) and accepted by
// CheckSource before it is parsed.
func ReadVarFilesMax(paths []string, maxFileSize int64) (*VarFiles, hcl.Diagnostics) {
	out := &VarFiles{}
	var diags hcl.Diagnostics
	for _, p := range paths {
		src, bad := ReadFile(p, p, maxFileSize)
		if bad != nil && bad.Summary == "Cannot read intent file" {
			bad = &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variable file", Detail: bad.Detail + "."}
		}
		if bad == nil {
			bad = CheckSource(p, src)
		}
		if bad != nil {
			diags = append(diags, bad)
			continue
		}
		f, d := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		chargeFile(f)
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		out.files = append(out.files, varFile{path: p, attrs: attrs})
	}
	return out, diags
}

// values evaluates the files against the declared variables: each value
// converted to its variable's type; a name no variable block declares is
// an error at its attribute.
func (vf *VarFiles) values(vars map[string]*variable, ctx *hcl.EvalContext) (map[string]cty.Value, hcl.Diagnostics) {
	out := map[string]cty.Value{}
	if vf == nil {
		return out, nil
	}
	var diags hcl.Diagnostics
	for _, f := range vf.files {
		for _, name := range sortedKeys(f.attrs) {
			a := f.attrs[name]
			decl, ok := vars[name]
			if !ok {
				diags = append(diags, errorAt(a.NameRange, "Undeclared variable",
					"%s sets %q, but no variable block declares it.%s", f.path, name, didYouMean(name, sortedKeys(vars))))
				continue
			}
			v, d := a.Expr.Value(ctx)
			if overBudget(d) {
				diags = append(diags, d...) // said as such by Decode
				continue
			}
			if d.HasErrors() {
				diags = append(diags, errorAt(a.Expr.Range(), "Invalid variable value",
					"The value of %q in %s must be a literal (no references or functions): %s", name, f.path, d.Error()))
				continue
			}
			c, err := convert.Convert(v, decl.typ)
			if err != nil {
				diags = append(diags, errorAt(a.Expr.Range(), "Invalid value for variable",
					"%s sets %q, a %s: %s.", f.path, name, decl.typ.FriendlyName(), err))
				continue
			}
			out[name] = c
		}
	}
	return out, diags
}
