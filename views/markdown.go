package views

import (
	"fmt"
	"strings"

	"github.com/perimeter-dev/perimeter/plan"
)

// MaxCommentSize is GitHub's limit on one comment body.
const MaxCommentSize = 65536

// Markdown renders the plan for a pull-request comment: the totals, the
// boundary summary, a table of changes and a collapsible diff per object.
// Output longer than MaxCommentSize is split into numbered parts, never
// inside an object's section.
func Markdown(p *plan.Plan) []string {
	head := markdownHead(p)
	var sections []string
	for _, c := range p.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		sections = append(sections, markdownSection(c))
	}
	return splitParts(head, sections)
}

func markdownHead(p *plan.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### perimeter plan: stack `%s`%s\n\n**%s**\n\n", p.Stack, envSuffix(p.Environment), Totals(p))
	if len(p.Boundary) > 0 {
		b.WriteString("#### Boundary changes\n\n| | what | | source |\n|---|---|---|---|\n")
		for _, bc := range p.Boundary {
			sign, src := "➕", BoundaryOrigin(bc)
			if !bc.Added {
				sign = "➖"
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", sign, bc.Kind, escapeCell(bc.Text), src)
		}
		b.WriteString("\n")
	}
	markdownNamespaces(&b, p)
	markdownWarnings(&b, p)
	if p.HasChanges() {
		b.WriteString("#### Objects\n\n| action | object | source |\n|---|---|---|\n")
		for _, c := range p.Changes {
			if c.Action != plan.NoOp {
				fmt.Fprintf(&b, "| %s | `%s` | %s |\n", actionLabel(c), c.ID(), orLive(c.Source))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// markdownWarnings lists every warning and lint finding before the
// objects, where a reviewer reads first.
func markdownWarnings(b *strings.Builder, p *plan.Plan) {
	if len(p.Warnings) == 0 {
		return
	}
	fmt.Fprintf(b, "#### Warnings (%d)\n\n", len(p.Warnings))
	for _, w := range p.Warnings {
		where := warningPlace(w)
		if where != "" {
			where = " — " + where
		}
		fmt.Fprintf(b, "> **Warning: %s**%s\\\n> %s\n\n", w.Summary, where, w.Detail)
	}
}

func markdownSection(c plan.Change) string {
	return fmt.Sprintf("<details><summary>%s <code>%s</code> (%s)</summary>\n\n```diff\n%s```\n\n</details>\n\n",
		actionLabel(c), c.ID(), orLive(c.Source), UnifiedDiff(c, Style{}))
}

// actionLabel is the action, or "adopt" for an update that makes an
// existing object a member.
func actionLabel(c plan.Change) string {
	if c.Adopt {
		return "adopt"
	}
	return string(c.Action)
}

func orLive(s string) string {
	if s == "" {
		return "live only"
	}
	return s
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func splitParts(head string, sections []string) []string {
	var parts []string
	cur := ""
	for _, s := range append(headChunks(head), sections...) {
		if len(cur)+len(s) > MaxCommentSize-200 && cur != "" {
			parts = append(parts, cur)
			cur = ""
		}
		if len(s) > MaxCommentSize-200 {
			s = s[:MaxCommentSize-400] + "\n```\n\n(diff truncated)\n\n</details>\n\n"
		}
		cur += s
	}
	parts = append(parts, cur)
	if len(parts) > 1 {
		for i := range parts {
			parts[i] = fmt.Sprintf("_Part %d of %d_\n\n", i+1, len(parts)) + parts[i]
		}
	}
	return parts
}

// headChunks cuts a head too long for one part (hundreds of boundary
// entries and objects) into pieces at line ends, so that no part exceeds
// MaxCommentSize. A piece that starts inside a table repeats the table's
// header row, so that it still renders as a table.
func headChunks(head string) []string {
	const limit = MaxCommentSize - 400
	if len(head) <= limit {
		return []string{head}
	}
	var chunks []string
	var cur strings.Builder
	var header, sep string
	lines := strings.SplitAfter(head, "\n")
	for i, l := range lines {
		row := strings.HasPrefix(l, "|")
		if !row {
			header, sep = "", ""
		} else if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|---") {
			header, sep = l, lines[i+1]
		}
		if cur.Len()+len(l) > limit && cur.Len() > 0 {
			chunks = append(chunks, cur.String()+"\n")
			cur.Reset()
			if row && header != "" && l != header {
				cur.WriteString(header)
				if l != sep {
					cur.WriteString(sep)
				}
			}
		}
		cur.WriteString(l)
	}
	return append(chunks, cur.String())
}
