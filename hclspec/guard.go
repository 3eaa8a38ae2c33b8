package hclspec

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/perimeter-dev/perimeter/internal/readlimit"
)

// Input bounds. Intent files come from pull requests, generators and
// imports; a hostile or broken one must end in a diagnostic, quickly, and
// never in a crash, an exhausted memory or a hang. The HCL parser recurses
// once per nesting level (a Go stack overflow is fatal, not recoverable),
// takes time that grows with the square of a heredoc's lines, and reports
// every bad byte of a binary file. So before a file is parsed, it is checked
// here, in time linear in its size: at most MaxFileSize bytes, UTF-8 text,
// nesting at most MaxNesting levels deep, and a bounded template cost.
// docs/safety.md has the measurements behind the numbers.
const (
	// DefaultMaxFileSize is the largest intent file read unless the caller
	// (the --max-file-size flag) allows more. The largest benchmark intent,
	// 10,000 services in one file, is 1.7 MB.
	DefaultMaxFileSize int64 = 4 << 20

	// maxTotal bounds an intent directory's files together: at most this
	// many times the limit for one file.
	maxTotal = 4

	// MaxNesting bounds how deeply a file's blocks and expressions nest.
	// Each bracket, brace, parenthesis, string, template interpolation or
	// directive opens a level, and so does each operator, attribute access
	// or index in a chain (a + b + c, !!x, a.b.c, x ? y : z ? ...), since
	// the parser or the evaluator recurses on those too.
	MaxNesting = 256

	// MaxErrors is how many errors a reader is shown before the rest are
	// summed up: after that many, more rarely help.
	MaxErrors = 50

	// maxTemplateWork bounds, per file, the parser's quadratic work on
	// templates: for each heredoc or string, the number of literal pieces
	// it joins times (16 bytes per piece + its length). 2^32 is about half
	// a second; a 4,000-line heredoc of YAML costs 2^30.
	maxTemplateWork = 1 << 32
)

// CheckSource reports why src, the content of the intent file name, is not
// parsed: it is not UTF-8 text, it nests deeper than MaxNesting, or its
// heredocs are too long to parse in reasonable time. It returns nil for a
// file the HCL parser may be given. The size bound is the reader's (see
// ReadFile).
func CheckSource(name string, src []byte) *hcl.Diagnostic {
	if d := checkEncoding(name, src); d != nil {
		return d
	}
	if shallow(src) {
		return nil // certainly within the bounds (guardfast.go)
	}
	return checkShape(name, src)
}

// ReadFile reads one intent file of at most limit bytes (<= 0: the
// default), with a diagnostic naming the file and its size when it is
// larger or cannot be read.
func ReadFile(path, name string, limit int64) ([]byte, *hcl.Diagnostic) {
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	src, err := readlimit.ReadFile(path, limit)
	if tooLarge, ok := err.(*readlimit.TooLargeError); ok {
		size := "more than " + readlimit.Bytes(limit)
		if tooLarge.Size >= 0 {
			size = fmt.Sprintf("%s (%d bytes)", readlimit.Bytes(tooLarge.Size), tooLarge.Size)
		}
		return nil, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Intent file too large",
			Detail: fmt.Sprintf("%s is %s; perimeter reads intent files of at most %s (%d bytes). "+
				"If the file is really intent, raise the limit with --max-file-size or PERIMETER_MAX_FILE_SIZE (e.g. 16MiB).",
				name, size, readlimit.Bytes(limit), limit),
		}
	}
	if err != nil {
		return nil, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read intent file", Detail: err.Error()}
	}
	return src, nil
}

// checkEncoding wants UTF-8 text: no byte order mark of UTF-16 or UTF-32,
// no NUL byte, no invalid UTF-8. (A UTF-8 byte order mark is fine: the HCL
// scanner skips it.)
func checkEncoding(name string, src []byte) *hcl.Diagnostic {
	if bytes.IndexByte(src, 0) < 0 && utf8.Valid(src) {
		return nil
	}
	for _, bom := range []struct {
		mark []byte
		enc  string
	}{
		{[]byte{0xFF, 0xFE, 0, 0}, "UTF-32"}, {[]byte{0, 0, 0xFE, 0xFF}, "UTF-32"},
		{[]byte{0xFF, 0xFE}, "UTF-16"}, {[]byte{0xFE, 0xFF}, "UTF-16"},
	} {
		if bytes.HasPrefix(src, bom.mark) {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Intent file is not UTF-8",
				Detail: fmt.Sprintf("%s starts with a %s byte order mark; perimeter reads intent files as UTF-8. "+
					"Convert it, for example with: iconv -f %s -t UTF-8", name, bom.enc, bom.enc),
				Subject: byteRange(name, src, 0, len(bom.mark)),
			}
		}
	}
	for i := 0; i < len(src); {
		if src[i] == 0 {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Intent file is not text",
				Detail: fmt.Sprintf("%s holds a NUL byte at %s: it is a binary file, or text in UTF-16 without a byte order mark. "+
					"perimeter reads intent files as UTF-8 text.", name, posText(src, i)),
				Subject: byteRange(name, src, i, i+1),
			}
		}
		if src[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Intent file is not UTF-8",
				Detail: fmt.Sprintf("%s is not valid UTF-8: the byte 0x%02X at %s does not belong to a UTF-8 character. "+
					"perimeter reads intent files as UTF-8 text; convert the file (from Latin-1, say: iconv -f ISO-8859-1 -t UTF-8).",
					name, src[i], posText(src, i)),
				Subject: byteRange(name, src, i, i+1),
			}
		}
		i += size
	}
	return nil
}

// level is one open bracket, brace, parenthesis, string or template in
// checkShape's scan.
type level struct {
	kind hclsyntax.TokenType // the opening token; 0 for the file itself
	open hcl.Range
	// chain counts the operators, accesses and template directives nested
	// in this level since the last separator.
	chain int
	// operand is true when the last token ended an operand, so that an
	// opening bracket or parenthesis is an index or a call: one more link.
	operand bool
	// started is true once a token was seen inside the level.
	started bool
	// For strings and heredocs: the literal pieces the parser joins.
	lastLit       bool
	melds, pieces int
}

func (l *level) template() bool {
	return l.kind == hclsyntax.TokenOQuote || l.kind == hclsyntax.TokenOHeredoc
}

// lineSeparated are the levels whose items end at a newline: the file, a
// block body, an object.
func (l *level) lineSeparated() bool { return l.kind == 0 || l.kind == hclsyntax.TokenOBrace }

var closers = map[hclsyntax.TokenType]hclsyntax.TokenType{
	hclsyntax.TokenOBrace:          hclsyntax.TokenCBrace,
	hclsyntax.TokenOBrack:          hclsyntax.TokenCBrack,
	hclsyntax.TokenOParen:          hclsyntax.TokenCParen,
	hclsyntax.TokenTemplateInterp:  hclsyntax.TokenTemplateSeqEnd,
	hclsyntax.TokenTemplateControl: hclsyntax.TokenTemplateSeqEnd,
	hclsyntax.TokenOQuote:          hclsyntax.TokenCQuote,
	hclsyntax.TokenOHeredoc:        hclsyntax.TokenCHeredoc,
}

// links are the tokens that chain an operand to the next: every operator,
// and attribute access.
var links = map[hclsyntax.TokenType]bool{
	hclsyntax.TokenStar: true, hclsyntax.TokenSlash: true, hclsyntax.TokenPlus: true, hclsyntax.TokenMinus: true,
	hclsyntax.TokenPercent: true, hclsyntax.TokenEqualOp: true, hclsyntax.TokenNotEqual: true,
	hclsyntax.TokenLessThan: true, hclsyntax.TokenLessThanEq: true, hclsyntax.TokenGreaterThan: true,
	hclsyntax.TokenGreaterThanEq: true, hclsyntax.TokenAnd: true, hclsyntax.TokenOr: true, hclsyntax.TokenBang: true,
	hclsyntax.TokenQuestion: true, hclsyntax.TokenDot: true,
}

// operandEnds are the tokens after which a bracket or parenthesis indexes
// or calls what precedes it.
var operandEnds = map[hclsyntax.TokenType]bool{
	hclsyntax.TokenIdent: true, hclsyntax.TokenNumberLit: true, hclsyntax.TokenCBrack: true,
	hclsyntax.TokenCParen: true, hclsyntax.TokenCBrace: true, hclsyntax.TokenCQuote: true,
	hclsyntax.TokenCHeredoc: true, hclsyntax.TokenStar: true,
}

// checkShape scans the tokens of src (HCL's own scanner, so strings,
// comments and heredocs are seen exactly as the parser sees them) for
// nesting deeper than MaxNesting and for templates too costly to parse.
func checkShape(name string, src []byte) *hcl.Diagnostic {
	d, _ := shapeScan(name, src)
	return d
}

// shapeScan is checkShape's scan; it also returns the deepest nesting seen
// (what shallow is tested against).
func shapeScan(name string, src []byte) (*hcl.Diagnostic, int) {
	toks, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	deepest := 0
	stack := []*level{{}}
	depth := 0 // len(stack)-1 + the sum of the chains
	var work float64
	tooDeep := func(rng hcl.Range) *hcl.Diagnostic {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Nesting too deep",
			Detail: fmt.Sprintf("%s nests more than %d levels deep here (every bracket, brace, parenthesis, string and template "+
				"opens a level, and so does every operator, attribute access or index chained in one expression). "+
				"perimeter stops before parsing it: the HCL parser would need stack space for every level.", name, MaxNesting),
			Subject: rng.Ptr(),
		}
	}
	closeTemplate := func(l *level, end int) *hcl.Diagnostic {
		work += float64(l.melds) * float64(16*l.pieces+end-l.open.Start.Byte)
		if work <= maxTemplateWork {
			return nil
		}
		what := "string"
		if l.kind == hclsyntax.TokenOHeredoc {
			what = "heredoc"
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Heredoc too long",
			Detail: fmt.Sprintf("The heredocs and strings of %s are too long to parse in reasonable time: the HCL parser takes "+
				"time that grows with the square of the number of lines (or escape sequences) of each one, and this %s, "+
				"%d pieces long, takes the file past the bound. Split it, or keep long text in several blocks.",
				name, what, l.pieces),
			Subject: l.open.Ptr(),
		}
	}
	for _, t := range toks {
		deepest = max(deepest, depth)
		top := stack[len(stack)-1]
		if t.Type == hclsyntax.TokenComment {
			// Transparent, but a line comment ends its line.
			if !bytes.HasSuffix(t.Bytes, []byte{'\n'}) {
				continue
			}
			t.Type = hclsyntax.TokenNewline
		}
		started := top.started
		top.started = true
		if _, ok := closers[t.Type]; ok {
			if top.template() {
				top.pieces++
				top.lastLit = false
			} else if top.operand && (t.Type == hclsyntax.TokenOBrack || t.Type == hclsyntax.TokenOParen) {
				top.chain++
				depth++
			}
			stack = append(stack, &level{kind: t.Type, open: t.Range})
			depth++
			if depth > MaxNesting {
				return tooDeep(t.Range), deepest
			}
			continue
		}
		switch {
		case len(stack) > 1 && t.Type == closers[top.kind]:
			if top.template() {
				if d := closeTemplate(top, t.Range.End.Byte); d != nil {
					return d, deepest
				}
			}
			depth -= 1 + top.chain
			stack = stack[:len(stack)-1]
			parent := stack[len(stack)-1]
			parent.operand = true
			if parent.template() {
				parent.lastLit = false
			}
			continue
		case top.template():
			switch t.Type {
			case hclsyntax.TokenQuotedLit, hclsyntax.TokenStringLit, hclsyntax.TokenQuotedNewline:
				top.pieces++
				if top.lastLit {
					top.melds++
				}
				top.lastLit = true
			}
			continue
		case t.Type == hclsyntax.TokenIdent && top.kind == hclsyntax.TokenTemplateControl && !started:
			// %{ if } and %{ for } nest what follows in their template,
			// up to %{ endif } and %{ endfor }.
			parent := stack[len(stack)-2]
			switch string(t.Bytes) {
			case "if", "for":
				parent.chain++
				depth++
				if depth > MaxNesting {
					return tooDeep(t.Range), deepest
				}
			case "endif", "endfor":
				if parent.chain > 0 {
					parent.chain--
					depth--
				}
			}
		case links[t.Type]:
			top.chain++
			depth++
			if depth > MaxNesting {
				return tooDeep(t.Range), deepest
			}
		case t.Type == hclsyntax.TokenComma || t.Type == hclsyntax.TokenNewline && top.lineSeparated() && top.operand:
			depth -= top.chain
			top.chain = 0
		}
		top.operand = operandEnds[t.Type]
	}
	for _, l := range stack[1:] {
		if l.template() {
			if d := closeTemplate(l, len(src)); d != nil {
				return d, deepest
			}
		}
	}
	return nil, max(deepest, depth)
}

// byteRange is the range of src[start:end] in file name.
func byteRange(name string, src []byte, start, end int) *hcl.Range {
	return &hcl.Range{Filename: name, Start: posAt(src, start), End: posAt(src, end)}
}

// posAt is the position of byte offset i of src; columns count runes.
func posAt(src []byte, i int) hcl.Pos {
	i = min(max(i, 0), len(src))
	line := 1 + bytes.Count(src[:i], []byte{'\n'})
	lineStart := bytes.LastIndexByte(src[:i], '\n') + 1
	col := 1
	for j := lineStart; j < i; {
		_, size := utf8.DecodeRune(src[j:i])
		j += size
		col++
	}
	return hcl.Pos{Line: line, Column: col, Byte: i}
}

func posText(src []byte, i int) string {
	p := posAt(src, i)
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}
