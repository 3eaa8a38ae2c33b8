package views

import (
	"fmt"
	"strings"

	"github.com/perimeter-dev/perimeter/plan"
)

// nsVerbs say what the plan does with a namespace it does not change.
var nsVerbs = map[plan.NamespaceState]string{
	plan.NotOwned: "exists, not owned",
	plan.Left:     "will be left in place",
}

// writeNamespaces prints the namespaces the plan uses or leaves as they
// are, in the style of a change section, with why.
func writeNamespaces(b *strings.Builder, p *plan.Plan, s Style) {
	for _, n := range p.Namespaces {
		color := dim
		if n.State == plan.Left {
			color = yellow
		}
		b.WriteString(s.paint(bold, fmt.Sprintf("  # Namespace %s %s (%s)", n.Name, nsVerb(n.State), orLive(n.Source))) + "\n")
		if n.Detail != "" {
			b.WriteString(s.paint(color, "    "+n.Detail) + "\n")
		}
		b.WriteString("\n")
	}
}

func nsVerb(st plan.NamespaceState) string {
	if v, ok := nsVerbs[st]; ok {
		return v
	}
	return string(st)
}

// markdownNamespaces is the Markdown table of the same.
func markdownNamespaces(b *strings.Builder, p *plan.Plan) {
	if len(p.Namespaces) == 0 {
		return
	}
	b.WriteString("#### Namespaces left as they are\n\n| namespace | | why | source |\n|---|---|---|---|\n")
	for _, n := range p.Namespaces {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", n.Name, nsVerb(n.State), escapeCell(n.Detail), orLive(n.Source))
	}
	b.WriteString("\n")
}
