package hclspec

import (
	"fmt"
	"maps"
	"math/big"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// body reads the attributes of one block, evaluating them in ctx and
// collecting diagnostics so decoding code can read like a field list.
type body struct {
	ctx    *hcl.EvalContext
	attrs  hcl.Attributes
	blocks hcl.Blocks
	rng    hcl.Range // where to point when a required attribute is missing
	diags  hcl.Diagnostics
}

// open decodes b against schema and returns a reader for its content.
func open(b hcl.Body, schema *hcl.BodySchema, ctx *hcl.EvalContext, rng hcl.Range) *body {
	content, diags := b.Content(schema)
	return &body{ctx: ctx, attrs: content.Attributes, blocks: content.Blocks, rng: rng, diags: diags}
}

// has reports whether the attribute is set.
func (r *body) has(name string) bool { _, ok := r.attrs[name]; return ok }

// attrRange is the range of an attribute's expression, or the block's range.
func (r *body) attrRange(name string) hcl.Range {
	if a, ok := r.attrs[name]; ok {
		return a.Expr.Range()
	}
	return r.rng
}

// value evaluates an attribute; ok is false when it is absent, null, or broken.
func (r *body) value(name string) (cty.Value, bool) {
	a, ok := r.attrs[name]
	if !ok {
		return cty.NilVal, false
	}
	v, d := a.Expr.Value(r.ctx)
	r.diags = append(r.diags, d...)
	if d.HasErrors() || v.IsNull() {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		r.errorf(a.Expr.Range(), "Unknown value", "The value of %q cannot be known when the intent is compiled.", name)
		return cty.NilVal, false
	}
	return v, true
}

// typed evaluates an attribute and converts it to want.
func (r *body) typed(name string, want cty.Type) (cty.Value, bool) {
	v, ok := r.value(name)
	if !ok {
		return v, false
	}
	c, err := convert.Convert(v, want)
	if err != nil {
		r.errorf(r.attrRange(name), "Incorrect attribute value type",
			"Inappropriate value for attribute %q: %s.", name, convertMessage(err, want))
		return cty.NilVal, false
	}
	return c, true
}

func convertMessage(err error, want cty.Type) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return pe.Error()
	}
	return fmt.Sprintf("%s required", want.FriendlyName())
}

// require reports a missing attribute.
func (r *body) require(name string) bool {
	if r.has(name) {
		return true
	}
	r.errorf(r.rng, "Missing required argument", "The argument %q is required, but no definition was found.", name)
	return false
}

// str reads an optional string attribute.
func (r *body) str(name, def string) string {
	v, ok := r.typed(name, cty.String)
	if !ok {
		return def
	}
	return v.AsString()
}

// requiredStr reads a string attribute that must be present.
func (r *body) requiredStr(name string) string {
	if !r.require(name) {
		return ""
	}
	return r.str(name, "")
}

// boolean reads an optional bool attribute.
func (r *body) boolean(name string, def bool) bool {
	v, ok := r.typed(name, cty.Bool)
	if !ok {
		return def
	}
	return v.True()
}

// integer reads an optional whole-number attribute within [min, max].
func (r *body) integer(name string, def, min, max int64) int64 {
	v, ok := r.typed(name, cty.Number)
	if !ok {
		return def
	}
	n, ok := wholeNumber(v.AsBigFloat(), min, max)
	if !ok {
		r.errorf(r.attrRange(name), "Invalid number", "%q must be a whole number from %d to %d.", name, min, max)
		return def
	}
	return n
}

func wholeNumber(f *big.Float, min, max int64) (int64, bool) {
	if !f.IsInt() {
		return 0, false
	}
	n, acc := f.Int64()
	if acc != big.Exact || n < min || n > max {
		return 0, false
	}
	return n, true
}

// strList reads an optional list of strings.
func (r *body) strList(name string) []string {
	v, ok := r.typed(name, cty.List(cty.String))
	if !ok {
		return nil
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		if e.IsNull() {
			r.errorf(r.attrRange(name), "Invalid list element", "%q must not contain null.", name)
			continue
		}
		out = append(out, e.AsString())
	}
	return out
}

// strMap reads an optional map of strings.
func (r *body) strMap(name string) map[string]string {
	v, ok := r.typed(name, cty.Map(cty.String))
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		if e.IsNull() {
			r.errorf(r.attrRange(name), "Invalid map element", "%q must not contain null (key %q).", name, k)
			continue
		}
		out[k] = e.AsString()
	}
	return out
}

// oneOf checks that an attribute's string value is one of allowed.
func (r *body) oneOf(name, value string, allowed ...string) bool {
	for _, a := range allowed {
		if value == a {
			return true
		}
	}
	r.errorf(r.attrRange(name), "Invalid value", "%q must be one of %s; got %q.", name, quoteList(allowed), value)
	return false
}

func (r *body) errorf(rng hcl.Range, summary, format string, args ...any) {
	r.diags = append(r.diags, errorAt(rng, summary, format, args...))
}

func (r *body) warnf(rng hcl.Range, summary, format string, args ...any) {
	r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

// errorAt builds an error diagnostic pointing at rng.
func errorAt(rng hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()}
}

func quoteList(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", s)
	}
	return out
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func itoa(n int) string { return fmt.Sprintf("%d", n) }
