// Package views renders plans for people and machines: human text in
// Terraform's idiom, JSON, Markdown for pull requests, and unified YAML
// diffs. Views only format; they decide nothing.
package views

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// Style says whether to colour output.
type Style struct{ Color bool }

const (
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	reset  = "\x1b[0m"
)

func (s Style) paint(color, text string) string {
	if !s.Color {
		return text
	}
	return color + text + reset
}

// Text writes the plan as a person reads it: the boundary summary, then one
// section per changed object, then the totals.
func Text(w io.Writer, p *plan.Plan, s Style) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Stack %q%s, planned against %s.\n\n", p.Stack, envSuffix(p.Environment), p.Target)
	writeBoundary(&b, p, s)
	writeNamespaces(&b, p, s)
	for _, c := range p.Changes {
		writeChange(&b, c, s)
	}
	writeWarnings(&b, p, s)
	b.WriteString(Totals(p) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func envSuffix(env string) string {
	if env == "" {
		return ""
	}
	return fmt.Sprintf(", environment %q", env)
}

// Totals is the closing line.
func Totals(p *plan.Plan) string {
	if !p.HasChanges() && p.Offline {
		return "No changes. The rendered manifests match the intent."
	}
	if !p.HasChanges() {
		return "No changes. The cluster matches the intent."
	}
	a, c, d := p.Counts()
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", a, c, d)
}

// BoundaryOrigin says where a boundary entry comes from: the HCL that adds
// it; for a withdrawn one the block it was removed from (its line when the
// block is still in the intent), or "live only" when nothing names one.
func BoundaryOrigin(bc plan.BoundaryChange) string {
	switch {
	case bc.Added:
		return bc.Source
	case bc.Source != "":
		return "removed from " + bc.Source
	case bc.Block != "":
		return "was " + bc.Block
	}
	return "live only"
}

func writeBoundary(b *strings.Builder, p *plan.Plan, s Style) {
	if len(p.Boundary) == 0 {
		return
	}
	b.WriteString("Boundary changes:\n")
	width := 0
	for _, bc := range p.Boundary {
		width = max(width, len(bc.Text))
	}
	for _, bc := range p.Boundary {
		sign, color := "+", green
		if !bc.Added {
			sign, color = "-", red
		}
		line := fmt.Sprintf("  %s %-7s %-*s  (%s)", sign, bc.Kind, width, bc.Text, BoundaryOrigin(bc))
		b.WriteString(s.paint(color, line) + "\n")
	}
	b.WriteString("\n")
}

var verbs = map[plan.Action]string{
	plan.Create: "will be created",
	plan.Update: "will be updated in-place",
	plan.Delete: "will be destroyed",
}

func writeChange(b *strings.Builder, c plan.Change, s Style) {
	verb, ok := verbs[c.Action]
	if !ok {
		return
	}
	if c.Adopt {
		verb = "will be adopted (updated in-place; it becomes a member of the stack)"
	}
	src := c.Source
	switch {
	case c.Action == plan.Delete && c.Block != "":
		src = "no longer in the intent; was " + c.Block
	case c.Action == plan.Delete && src != "":
		src = "no longer in the intent; was " + src
	case src == "":
		src = "live only"
	}
	b.WriteString(s.paint(bold, fmt.Sprintf("  # %s %s (%s)", c.ID(), verb, src)) + "\n")
	if c.Conflict != "" {
		what := "apply needs --force-conflicts:"
		if c.RepairsDrift() {
			what = "apply takes them back, only if the object is unchanged since this plan:"
		}
		b.WriteString(s.paint(yellow, "    # another field manager owns fields perimeter sets; "+what) + "\n")
		b.WriteString(s.paint(yellow, "    # "+c.Conflict) + "\n")
	}
	switch c.Action {
	case plan.Create:
		writeObjectLines(b, "+", green, withoutMetadata(c.After), s)
	case plan.Delete:
		writeObjectLines(b, "-", red, withoutMetadata(c.Before), s)
	case plan.Update:
		for _, f := range c.Fields {
			writeField(b, f, s)
		}
	}
	b.WriteString("\n")
}

// writeObjectLines prints an object as YAML lines prefixed by sign, leaving
// out what every object carries (ownership labels are in the summary).
func writeObjectLines(b *strings.Builder, sign, color string, obj map[string]any, s Style) {
	if obj == nil {
		return
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		b.WriteString(s.paint(color, "    "+sign+" "+line) + "\n")
	}
}

func writeField(b *strings.Builder, f plan.FieldChange, s Style) {
	note := ""
	switch {
	case f.Manager != "":
		note = s.paint(dim, "   # changed outside perimeter (by "+f.Manager+")")
	case f.Drift:
		note = s.paint(dim, "   # changed outside perimeter")
	}
	switch {
	case f.Before == nil:
		b.WriteString(s.paint(green, fmt.Sprintf("    + %s: %s", f.Path, value(f.After))) + note + "\n")
	case f.After == nil:
		b.WriteString(s.paint(red, fmt.Sprintf("    - %s: %s", f.Path, value(f.Before))) + note + "\n")
	default:
		b.WriteString(s.paint(yellow, fmt.Sprintf("    ~ %s: %s -> %s", f.Path, value(f.Before), value(f.After))) + note + "\n")
	}
}

// value renders a field value compactly as JSON.
func value(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// warningPlace names where a warning points: the object, else the HCL
// block, and the file:line.
func warningPlace(w plan.Warning) string {
	where := w.Object
	if where == "" {
		where = w.Block
	}
	if w.Source != "" {
		where = strings.TrimSpace(where + " (" + w.Source + ")")
	}
	return where
}

func writeWarnings(b *strings.Builder, p *plan.Plan, s Style) {
	ws := append([]plan.Warning(nil), p.Warnings...)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Source < ws[j].Source })
	for _, w := range ws {
		b.WriteString(s.paint(yellow, "Warning: "+w.Summary) + "\n")
		where := warningPlace(w)
		if where != "" {
			b.WriteString("  " + where + "\n")
		}
		if w.Detail != "" {
			b.WriteString("  " + w.Detail + "\n")
		}
		b.WriteString("\n")
	}
}

// JSON writes the machine-readable plan (the saved-plan format).
func JSON(w io.Writer, p *plan.Plan) error { return p.Write(w) }

// withoutMetadata drops what the section header already says (kind, name)
// and what every object of the stack carries (ownership labels, origins).
// A Namespace keeps its declared labels: they are all it has to show.
func withoutMetadata(obj map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	out := map[string]any{}
	if obj["kind"] == "Namespace" {
		if labels := declaredLabels(obj); len(labels) > 0 {
			out["metadata"] = map[string]any{"labels": labels}
		}
	}
	for k, v := range obj {
		if k != "metadata" && k != "apiVersion" && k != "kind" {
			out[k] = v
		}
	}
	return out
}

// declaredLabels are an object's labels without the stack's ownership
// labels and the one the API server sets on namespaces.
func declaredLabels(obj map[string]any) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	out := map[string]any{}
	for k, v := range labels {
		switch k {
		case ownership.LabelManagedBy, ownership.LabelStack, ownership.LabelApplySetPartOf, "kubernetes.io/metadata.name":
			continue
		}
		out[k] = v
	}
	return out
}
