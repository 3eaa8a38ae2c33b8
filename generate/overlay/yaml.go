package overlay

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	goyaml "go.yaml.in/yaml/v2"
)

// yamlEncoder writes an unstructured object as YAML, byte for byte as
// manifest.Marshal (go-yaml v2's Marshal) does, without go-yaml's event
// machinery: its emitter keeps every event of a document in a slice and
// analyses every scalar, which made it about a fifth of the render's CPU
// and a quarter of its garbage.
//
// It writes block mappings and sequences, integers, booleans, nulls and
// floats itself, and strings in the plain style when go-yaml would (the
// common case: names, labels, the block annotation). Any other string's
// scalar is go-yaml's own rendering of that string alone (kept, so each is
// made once per encoder), used only where it cannot depend on its place in
// the document: on one line and short enough that go-yaml would not fold
// it there. Anything else (a string with a line break, invalid UTF-8, a key
// longer than go-yaml writes as a simple key, a long quoted string with
// spaces, a type that is not JSON's) makes the whole document go-yaml's.
// One encoder is not safe for concurrent use.
type yamlEncoder struct {
	buf    []byte
	keys   []string          // a stack of sorted key lists, one per open mapping
	scalar map[string]string // go-yaml's rendering of strings not written plain
}

// bestWidth is go-yaml's line width: a plain or quoted scalar holding a
// space is folded there when the column passes it.
const bestWidth = 80

// maxSimpleKey is the longest key go-yaml writes as "key: value".
const maxSimpleKey = 128

// marshal returns the object's YAML in a new slice of exactly its length.
func (e *yamlEncoder) marshal(obj map[string]any) ([]byte, error) {
	e.buf = e.buf[:0]
	e.keys = e.keys[:0]
	if !e.document(obj) {
		return goyaml.Marshal(obj)
	}
	out := make([]byte, len(e.buf))
	copy(out, e.buf)
	return out, nil
}

func (e *yamlEncoder) document(obj map[string]any) bool {
	if len(obj) == 0 {
		e.buf = append(e.buf, "{}\n"...)
		return true
	}
	return e.mapping(obj, 0, false)
}

// mapping writes a non-empty block mapping whose keys are at column indent;
// inline: the first key goes on the current line (after "- ").
func (e *yamlEncoder) mapping(m map[string]any, indent int, inline bool) bool {
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	if !sortKeys(e.keys[start:]) {
		return false
	}
	n := len(m)
	for i := 0; i < n; i++ {
		k := e.keys[start+i] // e.keys may grow (and move) in the nested calls
		if i > 0 || !inline {
			e.indent(indent)
		}
		if len(k) > maxSimpleKey {
			return false
		}
		ks, ok := e.str(k, indent)
		if !ok {
			return false
		}
		e.buf = append(e.buf, ks...)
		e.buf = append(e.buf, ':')
		if !e.value(m[k], indent, indent+len(ks)+2, true) {
			return false
		}
	}
	e.keys = e.keys[:start]
	return true
}

// sequence writes a non-empty block sequence whose dashes are at column
// indent; inline: the first dash goes on the current line.
func (e *yamlEncoder) sequence(s []any, indent int, inline bool) bool {
	for i, v := range s {
		if i > 0 || !inline {
			e.indent(indent)
		}
		e.buf = append(e.buf, '-')
		if !e.value(v, indent, indent+2, false) {
			return false
		}
	}
	return true
}

// value writes v after a mapping's "key:" or a sequence's "-" (inMap
// tells which), ending its last line; indent is the key's or the dash's
// column, col the column a scalar starts at.
func (e *yamlEncoder) value(v any, indent, col int, inMap bool) bool {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			e.buf = append(e.buf, " {}\n"...)
			return true
		}
		if inMap {
			e.buf = append(e.buf, '\n')
			return e.mapping(v, indent+2, false)
		}
		e.buf = append(e.buf, ' ')
		return e.mapping(v, indent+2, true)
	case []any:
		if len(v) == 0 {
			e.buf = append(e.buf, " []\n"...)
			return true
		}
		if inMap { // go-yaml does not indent a sequence in a mapping
			e.buf = append(e.buf, '\n')
			return e.sequence(v, indent, false)
		}
		e.buf = append(e.buf, ' ')
		return e.sequence(v, indent+2, true)
	}
	e.buf = append(e.buf, ' ')
	switch v := v.(type) {
	case string:
		s, ok := e.str(v, col)
		if !ok {
			return false
		}
		e.buf = append(e.buf, s...)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case nil:
		e.buf = append(e.buf, "null"...)
	case float64:
		switch s := strconv.FormatFloat(v, 'g', -1, 64); s {
		case "+Inf":
			e.buf = append(e.buf, ".inf"...)
		case "-Inf":
			e.buf = append(e.buf, "-.inf"...)
		case "NaN":
			e.buf = append(e.buf, ".nan"...)
		default:
			e.buf = append(e.buf, s...)
		}
	default:
		return false
	}
	e.buf = append(e.buf, '\n')
	return true
}

func (e *yamlEncoder) indent(n int) {
	for range n {
		e.buf = append(e.buf, ' ')
	}
}

// str is the scalar go-yaml writes for s starting at column col, and
// false when that may depend on more than s (see yamlEncoder).
func (e *yamlEncoder) str(s string, col int) (string, bool) {
	if plainASCII(s) {
		// go-yaml folds a plain scalar at a space past the line width
		// (yaml_emitter_write_plain_scalar); col+i is the space's column.
		if i := strings.LastIndexByte(s, ' '); i >= 0 && col+i > bestWidth {
			return "", false
		}
		return s, true
	}
	if strings.ContainsAny(s, "\n\r\u0085\u2028\u2029") || !utf8.ValidString(s) {
		return "", false // line breaks and !!binary depend on their place
	}
	r, ok := e.scalar[s]
	if !ok {
		b, err := goyaml.Marshal(s)
		if err != nil {
			return "", false
		}
		r = strings.TrimSuffix(string(b), "\n")
		if strings.IndexByte(r, '\n') >= 0 {
			r = "\n" // folded or more than a scalar: never used (below)
		}
		if e.scalar == nil {
			e.scalar = map[string]string{}
		}
		e.scalar[s] = r
	}
	if strings.IndexByte(r, '\n') >= 0 {
		return "", false
	}
	// Bytes count at least the characters go-yaml counts as columns.
	if col+len(r) > bestWidth && strings.IndexByte(s, ' ') >= 0 {
		return "", false
	}
	return r, true
}

// plainASCII reports whether go-yaml v2 writes s as a plain scalar in
// block context, for s of printable ASCII only (false otherwise): s does
// not resolve to another type than a string when read back (resolve and
// isBase60Float in go-yaml's encode.go: the first character decides which
// checks apply) and the emitter's analysis allows the plain style
// (yaml_emitter_analyze_scalar: no indicator where it counts, no leading
// or trailing space).
func plainASCII(s string) bool {
	if s == "" {
		return false
	}
	switch c := s[0]; {
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		switch c {
		case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O':
			if resolvesToOther(s) {
				return false
			}
		}
	case c == '/' || c == '_' || c == '$' || c == '(' || c == ')' || c == '=' || c == '^' || c == ';' || c == '\\' || c == '<' && s != "<<":
		// no resolution hint, not an indicator
	default:
		return false // numbers, signs, dots, '~', indicators, spaces, control characters
	}
	last := len(s) - 1
	if s[last] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		switch c {
		case ':':
			if i == last || s[i+1] == ' ' {
				return false
			}
		case '#':
			if s[i-1] == ' ' { // i > 0: the first character is not '#'
				return false
			}
		}
	}
	return true
}

// resolvesToOther lists the words go-yaml v2 reads as booleans or null
// among those starting with a letter (its resolveMap).
func resolvesToOther(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
		"null", "Null", "NULL":
		return true
	}
	return false
}

// sortKeys sorts a mapping's keys as go-yaml v2 does (keyList.Less in its
// sorter.go: letters after other characters, runs of digits by value). That
// comparison is not transitive for some keys with digits ("0b1" < "1." <
// "007" < "0b1"), and then go-yaml's order depends on the map's iteration
// order: sortKeys reports false for such a set of keys.
func sortKeys(keys []string) bool {
	// Insertion sort: mappings are small, and it allocates nothing.
	digits := false
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keyLess(keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	for _, k := range keys {
		if strings.ContainsAny(k, "0123456789") || !isASCII(k) {
			digits = true
			break
		}
	}
	if !digits || len(keys) < 3 {
		// Without digits (and non-ASCII digits or letters) the comparison
		// is an order of characters, letters last: a total order. Two keys
		// are always ordered one way.
		return true
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if !keyLess(keys[i], keys[j]) {
				return false
			}
		}
	}
	return true
}

func keyLess(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		// Read-only views of the strings' bytes: no copy per comparison.
		return keyLessSeq(unsafe.Slice(unsafe.StringData(a), len(a)), unsafe.Slice(unsafe.StringData(b), len(b)))
	}
	return keyLessSeq([]rune(a), []rune(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// keyLessSeq is go-yaml v2's keyList.Less for two strings, over their
// bytes (all ASCII) or their runes.
func keyLessSeq[E byte | rune](ar, br []E) bool {
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al := unicode.IsLetter(rune(ar[i]))
		bl := unicode.IsLetter(rune(br[i]))
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(rune(ar[j])); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(rune(ar[ai])); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(rune(br[bi])); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}
