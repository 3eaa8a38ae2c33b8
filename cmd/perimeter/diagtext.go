package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/mitchellh/go-wordwrap"
	"github.com/zclconf/go-cty/cty"
)

// diagWriter prints diagnostics in the layout of hcl.NewDiagnosticTextWriter
// (Terraform's), with the cost of each independent of the file's size: that
// writer rescans the whole file, grapheme by grapheme, for every diagnostic,
// so thousands of errors in a 1 MB file took minutes. diagWriter indexes
// each file's lines once, prints at most snippetLines lines of at most
// lineBytes bytes around each subject, and shows control characters and
// invalid UTF-8 (binary input) as U+FFFD instead of sending them to the
// terminal.
type diagWriter struct {
	w     io.Writer
	files map[string]*hcl.File
	width uint
	color bool
	lines map[string][]int // file name -> byte offset of each line's start
}

const (
	snippetLines = 10
	lineBytes    = 200
)

func newDiagWriter(w io.Writer, files map[string]*hcl.File, width uint, color bool) *diagWriter {
	return &diagWriter{w: w, files: files, width: width, color: color, lines: map[string][]int{}}
}

func (dw *diagWriter) write(d *hcl.Diagnostic) {
	colorCode, highlight, reset := "", "", ""
	if dw.color {
		colorCode, highlight, reset = "\x1b[33m", "\x1b[1;4m", "\x1b[0m"
		if d.Severity == hcl.DiagError {
			colorCode = "\x1b[31m"
		}
	}
	severity := "Warning"
	if d.Severity == hcl.DiagError {
		severity = "Error"
	}
	fmt.Fprintf(dw.w, "%s%s%s: %s\n\n", colorCode, severity, reset, clean(d.Summary))
	if d.Subject != nil {
		dw.snippet(d, highlight, reset)
		dw.values(d)
	}
	if d.Detail != "" {
		detail := clean(d.Detail)
		if dw.width > 0 {
			detail = wordwrap.WrapString(detail, dw.width)
		}
		fmt.Fprintf(dw.w, "%s\n\n", detail)
	}
}

// snippet prints "on FILE line N, in CONTEXT:" and the subject's lines.
func (dw *diagWriter) snippet(d *hcl.Diagnostic, highlight, reset string) {
	subject := *d.Subject
	file := dw.files[subject.Filename]
	if file == nil || file.Bytes == nil {
		fmt.Fprintf(dw.w, "  on %s line %d:\n  (source code not available)\n\n", subject.Filename, subject.Start.Line)
		return
	}
	src := file.Bytes
	context := ""
	if nav, ok := file.Nav.(interface{ ContextString(int) string }); ok && subject.Start.Byte >= 0 && subject.Start.Byte <= len(src) {
		if c := nav.ContextString(subject.Start.Byte); c != "" {
			context = ", in " + clean(c)
		}
	}
	fmt.Fprintf(dw.w, "  on %s line %d%s:\n", subject.Filename, subject.Start.Line, context)

	clamp := func(b int) int { return min(max(b, 0), len(src)) }
	hlStart, hlEnd := clamp(subject.Start.Byte), clamp(subject.End.Byte)
	if hlEnd <= hlStart {
		hlEnd = hlStart + 1 // an empty range is shown as one character
	}
	snipStart, snipEnd := hlStart, hlEnd
	if c := d.Context; c != nil {
		snipStart, snipEnd = min(snipStart, clamp(c.Start.Byte)), max(snipEnd, clamp(c.End.Byte))
	}
	lines := dw.lineIndex(subject.Filename, src)
	first, last := lineOf(lines, snipStart), lineOf(lines, max(snipEnd-1, snipStart))
	if last-first >= snippetLines && d.Context != nil {
		// a context spanning a whole block: show the subject only
		first, last = lineOf(lines, hlStart), lineOf(lines, max(hlEnd-1, hlStart))
	}
	shown := min(last, first+snippetLines-1)
	for i := first; i <= shown; i++ {
		start, end := lines[i], len(src)
		if i+1 < len(lines) {
			end = lines[i+1]
		}
		end = trimNewline(src, start, end)
		// a long line (minified, binary): show lineBytes bytes around the
		// subject's start
		from, to := start, end
		if end-start > lineBytes {
			from = max(start, min(hlStart, end)-lineBytes/4)
			for from > start && !utf8.RuneStart(src[from]) {
				from--
			}
			to = min(end, from+lineBytes)
			for to < end && !utf8.RuneStart(src[to]) {
				to--
			}
		}
		var b strings.Builder
		if from > start {
			b.WriteString("…")
		}
		hs, he := min(max(hlStart, from), to), min(max(hlEnd, from), to)
		b.WriteString(clean(string(src[from:hs])))
		if he > hs {
			b.WriteString(highlight + clean(string(src[hs:he])) + reset)
		}
		b.WriteString(clean(string(src[he:to])))
		if to < end {
			b.WriteString("…")
		}
		fmt.Fprintf(dw.w, "%4d: %s\n", i+1, b.String())
	}
	if shown < last {
		fmt.Fprintf(dw.w, "      (%d more lines)\n", last-shown)
	}
	fmt.Fprintln(dw.w)
}

// values prints the variables an expression referred to ("with var.x as
// "a""), as the HCL writer does, for errors raised while evaluating.
func (dw *diagWriter) values(d *hcl.Diagnostic) {
	if d.Expression == nil || d.EvalContext == nil {
		return
	}
	var stmts []string
	seen := map[string]bool{}
	for _, traversal := range d.Expression.Variables() {
		val, diags := traversal.TraverseAbs(d.EvalContext)
		name := traversalString(traversal)
		if diags.HasErrors() || seen[name] || !val.IsKnown() || val.IsMarked() {
			continue
		}
		seen[name] = true
		if val.IsNull() {
			stmts = append(stmts, name+" set to null")
		} else {
			stmts = append(stmts, name+" as "+valueString(val))
		}
	}
	sort.Strings(stmts)
	for i, s := range stmts {
		lead, end := "     ", ",\n"
		if i == 0 {
			lead = "with "
		}
		if i == len(stmts)-1 {
			end = ".\n\n"
		}
		fmt.Fprint(dw.w, lead+clean(s)+end)
	}
}

func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type().IsPrimitiveType() {
				b.WriteString("[" + valueString(s.Key) + "]")
			} else {
				b.WriteString("[...]")
			}
		}
	}
	return b.String()
}

// valueString describes a value briefly: scalars as they are (long
// strings cut), collections by their size.
func valueString(v cty.Value) string {
	ty := v.Type()
	switch {
	case v.IsNull():
		return "null"
	case !v.IsKnown():
		return "(not yet known)"
	case ty == cty.Bool:
		return fmt.Sprint(v.True())
	case ty == cty.Number:
		return v.AsBigFloat().Text('g', 10)
	case ty == cty.String:
		s := v.AsString()
		if len(s) > lineBytes {
			return fmt.Sprintf("%q (%d bytes)", s[:lineBytes]+"…", len(s))
		}
		return fmt.Sprintf("%q", s)
	case ty.IsCollectionType() || ty.IsTupleType():
		switch n := v.LengthInt(); n {
		case 0:
			return "empty " + ty.FriendlyName()
		case 1:
			return ty.FriendlyName() + " with 1 element"
		default:
			return fmt.Sprintf("%s with %d elements", ty.FriendlyName(), n)
		}
	case ty.IsObjectType():
		attrs := ty.AttributeTypes()
		switch len(attrs) {
		case 0:
			return "object with no attributes"
		case 1:
			for k := range attrs {
				return fmt.Sprintf("object with 1 attribute %q", k)
			}
		}
		return fmt.Sprintf("object with %d attributes", len(attrs))
	}
	return ty.FriendlyName()
}

// lineIndex returns the byte offset of each line's start in src, computed
// once per file.
func (dw *diagWriter) lineIndex(name string, src []byte) []int {
	if l, ok := dw.lines[name]; ok {
		return l
	}
	l := []int{0}
	for i, c := range src {
		if c == '\n' {
			l = append(l, i+1)
		}
	}
	dw.lines[name] = l
	return l
}

// lineOf is the index of the line holding byte offset b.
func lineOf(lines []int, b int) int {
	return max(sort.Search(len(lines), func(i int) bool { return lines[i] > b })-1, 0)
}

func trimNewline(src []byte, start, end int) int {
	if end > start && src[end-1] == '\n' {
		end--
	}
	if end > start && src[end-1] == '\r' {
		end--
	}
	return end
}

// clean replaces what a terminal should not be sent: control characters
// (except tab and newline), invalid UTF-8 and the bidirectional overrides
// that make text read differently than it is.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if unsafeRune(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r == utf8.RuneError, unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
