package views

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/perimeter-dev/perimeter/reach"
)

// MatrixText writes a reachability matrix as a grid: one row per source,
// one numbered column per destination (listed below the grid with the
// port it is probed on); Y is allowed, . denied, ? unknown, - not
// evaluated. Unknown cells are listed below with the facts that would
// settle them.
func MatrixText(w io.Writer, m reach.Matrix) {
	width := 0
	for _, r := range m.Rows {
		width = max(width, len(r.Label))
	}
	legend := "Y allowed, . denied"
	if hasUnknown(m) {
		legend += ", ? unknown"
	}
	if hasMixed(m) {
		legend += ", ~ allowed for some pods only"
	}
	if hasTierCells(m) {
		legend += "; A+/A- accepted/denied by an admin guardrail, B+/B- by a baseline"
	}
	fmt.Fprintf(w, "Reachability (rows: from; columns: to, on the port listed below; %s)\n\n", legend)
	fmt.Fprintf(w, "%-*s", width+2, "")
	for j := range m.Cols {
		fmt.Fprintf(w, "%5s", fmt.Sprintf("[%d]", j+1))
	}
	fmt.Fprintln(w)
	for i, r := range m.Rows {
		fmt.Fprintf(w, "%-*s", width+2, r.Label)
		for j := range m.Cols {
			fmt.Fprintf(w, "%5s", cellMark(m.Cells[i][j]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for j, c := range m.Cols {
		fmt.Fprintf(w, "%5s %s on %s\n", fmt.Sprintf("[%d]", j+1), c.Label, c.Ports)
	}
	writeUnknownCells(w, m)
}

func hasMixed(m reach.Matrix) bool {
	for _, line := range m.Cells {
		for _, v := range line {
			if v != nil && v.Pairs.Mixed() {
				return true
			}
		}
	}
	return false
}

func hasUnknown(m reach.Matrix) bool {
	for _, line := range m.Cells {
		for _, v := range line {
			if v != nil && v.Unknown {
				return true
			}
		}
	}
	return false
}

// writeUnknownCells lists each unknown cell with what is not known and how
// to settle it.
func writeUnknownCells(w io.Writer, m reach.Matrix) {
	if !hasUnknown(m) {
		return
	}
	fmt.Fprintln(w, "\n? unknown: the verdict depends on facts the intent does not hold")
	for i, r := range m.Rows {
		for j := range m.Cols {
			v := m.Cells[i][j]
			if v == nil || !v.Unknown {
				continue
			}
			fmt.Fprintf(w, "  %s -> [%d]: %s\n", r.Label, j+1, FactList(v.Facts))
			for _, s := range Settle(*v) {
				fmt.Fprintf(w, "      to settle it: %s\n", s)
			}
		}
	}
}

func cellMark(v *reach.Verdict) string {
	switch {
	case v == nil:
		return "-"
	case v.Pairs.Mixed():
		return "~"
	case v.Unknown:
		return "?"
	case tierMark(v) != "":
		return tierMark(v)
	case v.Allowed:
		return "Y"
	}
	return "."
}

// MatrixDOT writes a reachability matrix as a Graphviz digraph: one node
// per workload, grouped by namespace, and one edge per allowed connection,
// labelled with its port (dashed, "unknown", where the verdict is; dotted,
// "some pods", where only some pod pairs are allowed).
func MatrixDOT(w io.Writer, m reach.Matrix) {
	nodes := matrixNodes(m)
	fmt.Fprintln(w, "digraph reachability {")
	fmt.Fprintln(w, "  rankdir=LR;")
	fmt.Fprintln(w, `  node [shape=box, style=rounded, fontname="Helvetica"];`)
	fmt.Fprintln(w, `  edge [fontname="Helvetica", fontsize=10];`)
	byNS := map[string][]string{}
	for label, ns := range nodes {
		byNS[ns] = append(byNS[ns], label)
	}
	for i, ns := range slices.Sorted(maps.Keys(byNS)) {
		labels := byNS[ns]
		sort.Strings(labels)
		indent := "  "
		if ns != "" {
			fmt.Fprintf(w, "  subgraph cluster_%d {\n    label=%s;\n", i, dotQuote("namespace "+ns))
			indent = "    "
		}
		for _, l := range labels {
			fmt.Fprintf(w, "%s%s;\n", indent, dotQuote(l))
		}
		if ns != "" {
			fmt.Fprintln(w, "  }")
		}
	}
	for i, r := range m.Rows {
		for j, c := range m.Cols {
			v := m.Cells[i][j]
			switch {
			case v != nil && v.Allowed:
				fmt.Fprintf(w, "  %s -> %s [label=%s];\n", dotQuote(r.Label), dotQuote(c.Label), dotQuote(c.Ports.String()))
			case v != nil && v.Unknown:
				fmt.Fprintf(w, "  %s -> %s [label=%s, style=dashed];\n", dotQuote(r.Label), dotQuote(c.Label), dotQuote(c.Ports.String()+" unknown"))
			case v != nil && v.Pairs.Mixed():
				fmt.Fprintf(w, "  %s -> %s [label=%s, style=dotted];\n", dotQuote(r.Label), dotQuote(c.Label), dotQuote(c.Ports.String()+" some pods"))
			}
		}
	}
	fmt.Fprintln(w, "}")
}

// matrixNodes maps every row and column label to its namespace.
func matrixNodes(m reach.Matrix) map[string]string {
	out := map[string]string{}
	for _, e := range append(append([]reach.MatrixEnd(nil), m.Rows...), m.Cols...) {
		out[e.Label] = e.Namespace
	}
	return out
}

func dotQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}
