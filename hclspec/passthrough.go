package hclspec

import "github.com/hashicorp/hcl/v2"

// Passthrough is an object kept verbatim: a NetworkPolicy that the intent
// language cannot express exactly (typically one written by hand before the
// stack existed, brought in by `perimeter import`). The generate package
// parses and validates YAML; hclspec only carries the text.
type Passthrough struct {
	Label string
	YAML  string
	Origin
	YAMLRange hcl.Range // where the yaml attribute is, for diagnostics
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
		d.diags = append(d.diags, r.diags...)
		in.Passthrough = append(in.Passthrough, p)
	}
}
