package hclspec

import (
	"bytes"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Passthrough is an object kept verbatim: a NetworkPolicy that the intent
// language cannot express exactly (typically one written by hand before the
// stack existed, brought in by `perimeter import`). The generate package
// parses and validates YAML; hclspec only carries the text.
type Passthrough struct {
	Label string
	YAML  string
	Origin
	YAMLRange hcl.Range // where the yaml attribute is, for diagnostics
	// YAMLLines, when yaml is a heredoc without interpolations, is where
	// each line of YAML is in the HCL (YAMLLines[0]: YAML line 1), so that
	// a diagnostic can point at the line of the field it is about.
	YAMLLines []hcl.Range
}

var passthroughSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "yaml", Required: true},
}}

// decodePassthroughs reads the policy blocks: `policy "NAME" { yaml = ... }`.
func (d *decoder) decodePassthroughs(in *Intent) {
	for _, b := range d.blocks["policy"] {
		if !d.unique(b) {
			continue
		}
		r := open(b.Body, passthroughSchema, d.ctx, b.DefRange)
		p := &Passthrough{Label: b.Labels[0], Origin: origin(b)}
		p.YAML = r.requiredStr("yaml")
		p.YAMLRange = r.attrRange("yaml")
		if a, ok := r.attrs["yaml"]; ok {
			p.YAMLLines = d.heredocLines(a.Expr, p.YAML)
		}
		d.diags = append(d.diags, r.diags...)
		in.Passthrough = append(in.Passthrough, p)
	}
}

// heredocLines returns the range of each line of a heredoc's value in the
// HCL source: line k of the value is line k of the heredoc's body (a
// heredoc's escapes never add or remove lines), shown from its first
// non-blank character to its end. It returns nil for any other expression,
// or a heredoc with interpolations, whose value lines do not map to lines.
func (d *decoder) heredocLines(expr hcl.Expression, value string) []hcl.Range {
	t, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || d.files == nil {
		return nil
	}
	for _, part := range t.Parts {
		if _, ok := part.(*hclsyntax.LiteralValueExpr); !ok {
			return nil
		}
	}
	rng := t.SrcRange
	f := d.files[rng.Filename]
	if f == nil || rng.Start.Byte+2 > len(f.Bytes) || !bytes.HasPrefix(f.Bytes[rng.Start.Byte:], []byte("<<")) {
		return nil
	}
	src := f.Bytes
	// the body starts on the line after <<EOT
	i := bytes.IndexByte(src[rng.Start.Byte:], '\n')
	if i < 0 {
		return nil
	}
	start, line := rng.Start.Byte+i+1, rng.Start.Line+1
	n := bytes.Count([]byte(value), []byte{'\n'})
	if !bytes.HasSuffix([]byte(value), []byte{'\n'}) {
		n++
	}
	lines := make([]hcl.Range, 0, n)
	for range n {
		if start > len(src) {
			return nil
		}
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src) - start
		}
		text := src[start : start+end]
		indent := len(text) - len(bytes.TrimLeft(text, " \t"))
		body := bytes.TrimRight(text, " \t\r")
		lines = append(lines, hcl.Range{Filename: rng.Filename,
			Start: hcl.Pos{Line: line, Column: 1 + indent, Byte: start + indent},
			End:   hcl.Pos{Line: line, Column: 1 + max(utf8.RuneCount(body), indent), Byte: start + max(len(body), indent)}})
		start, line = start+end+1, line+1
	}
	return lines
}
