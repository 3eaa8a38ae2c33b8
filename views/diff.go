package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/plan"
)

// Diff writes a unified YAML diff per changed object, like kubectl diff.
func Diff(w io.Writer, p *plan.Plan, s Style) error {
	var b strings.Builder
	for _, c := range p.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		b.WriteString(UnifiedDiff(c, s))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// UnifiedDiff renders one change as a unified diff of its YAML.
func UnifiedDiff(c plan.Change, s Style) string {
	label := strings.ReplaceAll(c.ID(), " ", "/")
	return UnifiedText("live/"+label, "planned/"+label, yamlText(c.Before), yamlText(c.After), s)
}

// UnifiedText renders two texts as a unified diff, line by line, under the
// --- and +++ labels given.
func UnifiedText(fromLabel, toLabel, before, after string, s Style) string {
	dmp := diffmatchpatch.New()
	a, bb, lines := dmp.DiffLinesToChars(before, after)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, bb, false), lines)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", fromLabel, toLabel)
	for _, d := range diffs {
		sign, color := " ", ""
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			sign, color = "+", green
		case diffmatchpatch.DiffDelete:
			sign, color = "-", red
		}
		for _, line := range strings.SplitAfter(d.Text, "\n") {
			if line == "" {
				continue
			}
			text := sign + strings.TrimSuffix(line, "\n")
			if color != "" {
				text = s.paint(color, text)
			}
			out.WriteString(text + "\n")
		}
	}
	return out.String()
}

func yamlText(obj map[string]any) string {
	if obj == nil {
		return ""
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return string(b)
}
