// Package lint finds boundary mistakes that are legal but almost certainly
// unintended: egress left open in a managed namespace, egress denied without
// DNS, ports that match no pod port, policies that select nothing, rules
// made redundant by broader ones, routes whose backends the gateway's data
// plane cannot reach, and ipBlock ingress rules behind load balancers that
// rewrite source IPs.
//
// It works on the intent and the objects it compiles to (Intent), and on
// live or imported objects (Live). Findings name the HCL block behind an
// object when the object carries the perimeter.dev/source annotation or
// comes from an intent block.
package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// Finding is one lint result. It is always a warning; --strict makes the
// commands treat it as an error.
type Finding struct {
	Summary string
	Detail  string
	Object  string     // "Kind namespace/name", "" for an intent block
	Block   string     // the intent block, e.g. `namespace "shop"`, when known
	Source  string     // file:line of the HCL block, "" when unknown
	Range   *hcl.Range // the HCL block, when known
}

// sortFindings orders findings by source, object and summary, and drops
// exact duplicates, for deterministic output.
func sortFindings(fs []Finding) []Finding {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Source != b.Source {
			return sourceLess(a.Source, b.Source)
		}
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		if a.Summary != b.Summary {
			return a.Summary < b.Summary
		}
		return a.Detail < b.Detail
	})
	out := fs[:0]
	for i, f := range fs {
		if i > 0 && f.Summary == fs[i-1].Summary && f.Detail == fs[i-1].Detail && f.Object == fs[i-1].Object && f.Source == fs[i-1].Source {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Diagnostics converts findings to HCL warnings.
func Diagnostics(fs []Finding) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, f := range fs {
		detail := f.Detail
		if f.Object != "" {
			detail = f.Object + ": " + detail
		}
		out = append(out, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: f.Summary, Detail: detail, Subject: f.Range})
	}
	return out
}

// Warnings converts findings to plan warnings.
func Warnings(fs []Finding) []plan.Warning {
	var out []plan.Warning
	for _, f := range fs {
		obj := f.Object
		if obj == "" {
			obj = f.Block
		}
		out = append(out, plan.Warning{Severity: plan.WarningSeverity, Summary: f.Summary, Detail: f.Detail, Object: obj,
			Source: f.Source, Block: f.Block, Range: plan.RangeOf(f.Range)})
	}
	return out
}

// Validate adds the intent's lint warnings to diags (only when diags, in
// which the caller has put generate's findings on objs, has no errors)
// and, with strict, turns every warning into an error. objs are what
// generate.Objects made of in: the caller's, so that validate generates
// once.
func Validate(in *hclspec.Intent, objs []*unstructured.Unstructured, diags hcl.Diagnostics, strict bool) hcl.Diagnostics {
	if in != nil && !diags.HasErrors() {
		diags = append(diags, Diagnostics(Intent(in, objs))...)
	}
	if strict {
		diags = Strict(diags)
	}
	return diags
}

// Strict returns diags with every warning turned into an error.
func Strict(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			c := *d
			c.Severity = hcl.DiagError
			c.Detail = strings.TrimSpace(c.Detail + " (an error with --strict)")
			d = &c
		}
		out = append(out, d)
	}
	return out
}

// objectID is "Kind namespace/name".
func objectID(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// sourceOf is the last HCL block named by an object's source annotation
// (for a policy made by a gateway and a route, the route).
func sourceOf(o *unstructured.Unstructured) string {
	s := annotation(o, ownership.AnnotationSource)
	if i := strings.LastIndex(s, ", "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// lastBlock is the last HCL block an object names (its own block: the
// gateway a route admits comes first).
func lastBlock(o *unstructured.Unstructured) string {
	b := annotation(o, ownership.AnnotationBlock)
	if i := strings.LastIndex(b, ", "); i >= 0 {
		b = b[i+2:]
	}
	return b
}

// origins maps "file:line" and block addresses (`route "api"`) to the
// range of the intent block: objects in memory carry the former, objects
// read from a cluster only the latter.
func origins(in *hclspec.Intent) map[string]hcl.Range {
	blocks := in.BlockRanges()
	out := make(map[string]hcl.Range, 2*len(blocks))
	for block, r := range blocks {
		out[block] = r
		out[generate.Source(r)] = r
	}
	return out
}

// objectFinding is a finding about an object, tied to its HCL block when
// the object names one.
func objectFinding(o *unstructured.Unstructured, ranges map[string]hcl.Range, summary, format string, args ...any) Finding {
	f := Finding{Summary: summary, Detail: fmt.Sprintf(format, args...), Object: objectID(o), Source: sourceOf(o)}
	if r, ok := ranges[f.Source]; ok {
		f.Range = &r
	} else if r, ok := ranges[lastBlock(o)]; ok {
		f.Range, f.Source = &r, generate.Source(r)
	}
	return f
}

// annotation reads an object's annotation in place: GetAnnotations copies
// the whole map, and the lints read one of every object, often more than
// once.
func annotation(o *unstructured.Unstructured, name string) string {
	s, _, _ := unstructured.NestedString(o.Object, "metadata", "annotations", name)
	return s
}
