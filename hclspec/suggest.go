package hclspec

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// suggestReferences adds "Did you mean service.storefront?" to each
// "Unsupported attribute" error about a reference (service.storefrnt,
// var.domian, namespace.X, gateway.X, local.X), as Terraform does: the
// names a root can hold are the attributes of its value in the context.
func suggestReferences(diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Severity != hcl.DiagError || d.Summary != "Unsupported attribute" || d.Expression == nil || d.EvalContext == nil {
			continue
		}
		if strings.Contains(d.Detail, "Did you mean") {
			continue
		}
		for _, t := range d.Expression.Variables() {
			if s := suggestionFor(t, d.EvalContext); s != "" {
				d.Detail = strings.TrimSuffix(d.Detail, ".") + ". Did you mean " + s + "?"
				break
			}
		}
	}
}

// suggestionFor is the closest known name for the first attribute step of
// a traversal whose name is not known, as root.name; "" when none is close.
func suggestionFor(t hcl.Traversal, ctx *hcl.EvalContext) string {
	if len(t) < 2 {
		return ""
	}
	attr, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return ""
	}
	root := t.RootName()
	val, ok := ctx.Variables[root]
	if !ok || val.IsNull() || !val.Type().IsObjectType() {
		return ""
	}
	names := make([]string, 0, len(val.Type().AttributeTypes()))
	for name := range val.Type().AttributeTypes() {
		if name == attr.Name {
			return "" // known: the error is about a later step
		}
		names = append(names, name)
	}
	sort.Strings(names)
	best := closest(attr.Name, names)
	if best == "" {
		return ""
	}
	return root + "." + best
}
