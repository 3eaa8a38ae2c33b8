package hclspec

// The fast path of checkShape. Lexing a file with HCL's scanner keeps every
// token (about 100 bytes each, a few hundred megabytes for a 1.7 MB intent),
// and the parser lexes the file again. shallow reads the bytes once instead,
// recognising the tokens that matter for nesting exactly as HCL's scanner
// does (hclsyntax/scan_tokens.rl) for the common subset of HCL: blocks,
// attributes, identifiers, numbers, operators, line comments and quoted
// strings with interpolations. It counts levels and chains as checkShape
// does. On anything outside that subset (a heredoc, a block comment, a
// template directive, a '$' or '%' in a string, a character HCL's scanner
// reports as invalid, a bracket that does not match) or on nesting deeper
// than half the limit it gives up, and checkShape lexes the file as
// before: files that could be refused always take the exact path, and the
// refusals and their diagnostics are unchanged.

// shallowLimit is the deepest nesting shallow accepts: half MaxNesting, a
// margin far above real intents (9 levels) and far below the limit.
const shallowLimit = MaxNesting / 2

// Kinds of the levels shallow tracks.
const (
	fileLevel byte = iota
	braceLevel
	brackLevel
	parenLevel
	quoteLevel
	interpLevel
)

// fastLevel is one open level of shallow's scan, as level is of checkShape's.
type fastLevel struct {
	kind    byte
	chain   int
	operand bool
}

// fastScan is the state of one shallow scan.
type fastScan struct {
	src      []byte
	i        int
	stack    []fastLevel
	depth    int
	maxDepth int
}

// shallow reports whether src certainly passes checkShape: it nests at
// most shallowLimit levels and its strings cost the parser nothing to join
// (no two literal pieces in a row). False means "not known": checkShape
// then lexes the file.
func shallow(src []byte) bool {
	ok, _ := shallowDepth(src)
	return ok
}

// shallowDepth is shallow's scan; it also returns the deepest nesting
// seen, which is checkShape's when the scan succeeds.
func shallowDepth(src []byte) (bool, int) {
	s := &fastScan{src: src, stack: make([]fastLevel, 1, 16)}
	for s.i < len(s.src) {
		var ok bool
		if s.top().kind == quoteLevel {
			ok = s.stringStep()
		} else {
			ok = s.step()
		}
		if !ok || s.maxDepth > shallowLimit {
			return false, s.maxDepth
		}
	}
	return len(s.stack) == 1, s.maxDepth
}

func (s *fastScan) top() *fastLevel { return &s.stack[len(s.stack)-1] }

// peek is the byte k past the current one, or 0 past the end.
func (s *fastScan) peek(k int) byte {
	if s.i+k < len(s.src) {
		return s.src[s.i+k]
	}
	return 0
}

// open pushes a level; an opening bracket or parenthesis after an operand
// is an index or a call, one more link of the chain.
func (s *fastScan) open(kind byte) {
	top := s.top()
	if top.operand && (kind == brackLevel || kind == parenLevel) && top.kind != quoteLevel {
		top.chain++
		s.depth++
	}
	s.stack = append(s.stack, fastLevel{kind: kind})
	s.grow(1)
}

// close pops the top level if it is of kind; false if it is not (a
// mismatched closer, which shallow leaves to the scanner).
func (s *fastScan) close(kind byte) bool {
	top := s.top()
	if len(s.stack) == 1 || top.kind != kind {
		return false
	}
	s.depth -= 1 + top.chain
	s.stack = s.stack[:len(s.stack)-1]
	s.top().operand = true
	return true
}

// grow adds n to the depth.
func (s *fastScan) grow(n int) {
	s.depth += n
	s.maxDepth = max(s.maxDepth, s.depth)
}

// token ends a token that is no bracket: link adds to the chain, operand
// says whether it ends an operand.
func (s *fastScan) token(n int, link, operand bool) bool {
	s.i += n
	top := s.top()
	if link {
		top.chain++
		s.grow(1)
	}
	top.operand = operand
	return true
}

// newline ends an item where newlines end items (the file, a block body,
// an object) after an operand.
func (s *fastScan) newline(n int) bool {
	s.i += n
	top := s.top()
	if (top.kind == fileLevel || top.kind == braceLevel) && top.operand {
		s.depth -= top.chain
		top.chain = 0
	}
	top.operand = false
	return true
}

// step reads one token outside strings.
func (s *fastScan) step() bool {
	c, next := s.src[s.i], s.peek(1)
	switch {
	case c == ' ' || c == '\t':
		s.i++
		return true
	case c == '\n':
		return s.newline(1)
	case c == '\r':
		return next == '\n' && s.newline(2)
	case c == '#' || c == '/' && next == '/':
		return s.lineComment()
	case c == '_' || asciiLetter(c):
		return s.ident()
	case c >= '0' && c <= '9':
		return s.number()
	}
	return s.symbol(c, next)
}

// symbol reads an operator, bracket or quote.
func (s *fastScan) symbol(c, next byte) bool {
	switch c {
	case '{':
		s.i++
		s.open(braceLevel)
		return true
	case '[':
		s.i++
		s.open(brackLevel)
		return true
	case '(':
		s.i++
		s.open(parenLevel)
		return true
	case ']':
		s.i++
		return s.close(brackLevel)
	case ')':
		s.i++
		return s.close(parenLevel)
	case '}':
		s.i++
		if s.top().kind == interpLevel {
			return s.close(interpLevel)
		}
		return s.close(braceLevel)
	case '"':
		s.i++
		s.open(quoteLevel)
		return true
	case '=':
		if next == '=' {
			return s.token(2, true, false)
		}
		return s.token(1+b2i(next == '>'), false, false) // = or =>
	case '!', '<', '>':
		if c == '<' && next == '<' {
			return false // a heredoc, or two operators
		}
		return s.token(1+b2i(next == '='), true, false)
	case '&', '|':
		return next == c && s.token(2, true, false)
	case '.':
		if next == '.' && s.peek(2) == '.' {
			return s.token(3, false, false)
		}
		return s.token(1, true, false)
	case '*':
		return s.token(1, true, true)
	case '/':
		return next != '*' && s.token(1, true, false) // not a block comment
	case '+', '-', '?':
		return s.token(1, true, false)
	case '%':
		return next != '{' && s.token(1, true, false)
	case '$':
		return false
	case ',':
		s.i++
		top := s.top()
		s.depth -= top.chain
		top.chain, top.operand = 0, false
		return true
	case ':':
		return s.token(1, false, false)
	}
	return false // block comments, '~', non-ASCII, what HCL calls invalid
}

// lineComment reads a # or // comment up to and with its newline, which
// then ends the line; a comment at the end of the file is transparent.
func (s *fastScan) lineComment() bool {
	for j := s.i; j < len(s.src); j++ {
		if s.src[j] == '\n' {
			return s.newline(j + 1 - s.i)
		}
	}
	s.i = len(s.src)
	return true
}

// ident reads an identifier: a letter or _, then letters, digits, _ and -.
func (s *fastScan) ident() bool {
	j := s.i + 1
	for j < len(s.src) && (asciiLetter(s.src[j]) || s.src[j] >= '0' && s.src[j] <= '9' || s.src[j] == '_' || s.src[j] == '-') {
		j++
	}
	if j < len(s.src) && s.src[j] >= 0x80 {
		return false // an identifier may go on in letters of other scripts
	}
	return s.token(j-s.i, false, true)
}

// number reads a number as HCL's scanner does: a digit, then digits, dots
// and exponents (e, E, an optional sign, a digit), not ending in a dot.
func (s *fastScan) number() bool {
	j := s.i + 1
	for j < len(s.src) {
		c := s.src[j]
		switch {
		case c >= '0' && c <= '9' || c == '.':
			j++
			continue
		case c == 'e' || c == 'E':
			k := j + 1
			if k < len(s.src) && (s.src[k] == '+' || s.src[k] == '-') {
				k++
			}
			if k < len(s.src) && s.src[k] >= '0' && s.src[k] <= '9' {
				j = k + 1
				continue
			}
		}
		break
	}
	for s.src[j-1] == '.' {
		j--
	}
	return s.token(j-s.i, false, true)
}

// stringStep reads inside a quoted string: literal text, an escape, an
// interpolation or the closing quote. A '$' or '%' that starts no
// interpolation, a directive or a newline make pieces shallow does not
// count.
func (s *fastScan) stringStep() bool {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; c {
		case '"':
			s.i++
			return s.close(quoteLevel)
		case '\\':
			if n := s.peek(1); n == 0 || n == '\n' || n == '\r' {
				return false
			}
			s.i += 2
		case '$':
			if s.peek(1) != '{' || s.peek(2) == '~' {
				return false
			}
			s.i += 2
			s.stack = append(s.stack, fastLevel{kind: interpLevel})
			s.grow(1)
			return true
		case '%', '\n', '\r':
			return false
		default:
			s.i++
		}
	}
	return true
}

func asciiLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
