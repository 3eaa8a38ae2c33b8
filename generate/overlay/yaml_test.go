package overlay

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goyaml "go.yaml.in/yaml/v2"

	"github.com/perimeter-dev/perimeter/bench/overlay/benchintent"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

// trickyStrings are values whose YAML go-yaml quotes, folds or writes in
// a block, or nearly does: they look like numbers, booleans, nulls,
// timestamps or sexagesimal numbers, start or hold indicators, carry
// leading or trailing spaces, line breaks, control characters, non-ASCII
// or invalid UTF-8, or are long enough to be folded.
var trickyStrings = []string{
	"", " ", "a", "y", "Y", "yes", "Yes", "YES", "n", "No", "NO", "true", "True", "TRUE", "false", "FALSE",
	"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "nULL", "yess", "o", "t", "f",
	"0", "80", "-1", "+1", "007", "0x1F", "0o17", "0b101", "-0b1", "1_000", "1e3", "1.5", ".5", "1.", "-.inf", ".inf", ".nan", ".NaN", "+.Inf",
	"9223372036854775808", "18446744073709551616", "2026-11-30", "2026-11-30T12:00:00Z", "10:30", "1:20:30.5", "-10:30",
	"10.0.0.0/8", "203.0.113.0/24", "::1", "fe80::/10", "443/tcp", "8080", "1.2.3",
	"-", "--", "---", "---x", "...", "..x", "- a", "-a", "? a", "?a", ": a", ":a", "a:", "a: b", "a:b", "a :b", "http://x.example/p?q=1#f",
	"#x", "a #b", "a#b", ",x", "x,y", "[x]", "x[0]", "{x}", "x}", "&x", "x&y", "*x", "!x", "!!str", "|x", ">x", "'q'", "x'y", "\"dq\"", "x\"y",
	"%x", "@x", "`x", "<<", "<", "<x", "=", "$x", "(x)", "^x", ";x", "\\x", "/users", "_x", "x_y",
	`namespace "ns0"`, `allow "s0 out"`, "main.hcl:31", "app.kubernetes.io/managed-by",
	"tab\there", "\tlead", "a\x00b", "a\x7fb", "a\x1bb", "cr\rhere", "line\nline", "line\n", "\nlead", "two\n\nbreaks", "sp \nbreak", "x\u0085y", "x\u2028y", "x\u00a0y",
	"trail ", " lead", "a  b", "a   ", "ünï", "日本語", "é: x", "\ufeffbom", "\xff", "a\xc3", "x\U0001F600y",
	strings.Repeat("word ", 20), strings.Repeat("w", 200), strings.Repeat("a b", 30), strings.Repeat("x", 70) + " y", strings.Repeat("é ", 50),
	strings.Repeat("x", 50) + " y", strings.Repeat("x", 53) + " y", strings.Repeat("x", 54) + " y", strings.Repeat("x", 55) + " y", strings.Repeat("x", 56) + " y",
	strings.Repeat("x", 57) + " y", strings.Repeat("x", 58) + " y", strings.Repeat("x", 59) + " y", strings.Repeat("x", 60) + " y", strings.Repeat("x", 61) + " y",
	strings.Repeat("x", 62) + " y", strings.Repeat("x", 75) + " y", strings.Repeat("x", 76) + " y", strings.Repeat("x", 77) + " y", strings.Repeat("x", 78) + " y", strings.Repeat("x", 79) + " y",
	strings.Repeat("x", 80) + " y", strings.Repeat("x", 81) + " y", strings.Repeat("x", 82) + " y", strings.Repeat("x", 79) + "  y", "\"" + strings.Repeat("x", 70) + " y",
	`gateway "edge", udp_route "resolver", tcp_route "resolver_tcp"`,
	strings.Repeat("k", 128), strings.Repeat("k", 129), strings.Repeat("k ", 64), strings.Repeat("\"q\" ", 25),
}

var trickyKeys = append([]string{"a1", "a10", "a01", "a9", "a001", "a0", "A", "b", "B", "1", "01", "10", "_", "é", "ä1", "x-y", "x.y", "x/y", "aa", "a", "Z9", "z09"}, trickyStrings...)

func randomValue(r *rand.Rand, depth int) any {
	switch n := r.Intn(12); {
	case n < 4:
		return trickyStrings[r.Intn(len(trickyStrings))]
	case n == 4:
		return []int64{0, 1, -1, 53, 443, 65535, math.MaxInt64, math.MinInt64, 1 << 53}[r.Intn(9)]
	case n == 5:
		return []float64{0, 1.5, -2.25, 1e21, 1e-7, 3, math.Inf(1), math.Inf(-1), math.NaN()}[r.Intn(9)]
	case n == 6:
		return r.Intn(2) == 0
	case n == 7:
		return nil
	case n < 10 && depth < 5:
		m := map[string]any{}
		for range r.Intn(6) {
			m[trickyKeys[r.Intn(len(trickyKeys))]] = randomValue(r, depth+1)
		}
		if len(m) == 0 && r.Intn(3) == 0 {
			return map[string]any(nil)
		}
		return m
	case depth < 5:
		s := []any{}
		for range r.Intn(5) {
			s = append(s, randomValue(r, depth+1))
		}
		return s
	}
	return "leaf"
}

// The encoder's bytes are go-yaml's (manifest.Marshal) for random objects
// built of JSON types, keys and values from trickyStrings, nested up to
// five levels; most documents take the encoder's own path.
func TestYAMLEncoderMatchesGoYAMLOnRandomObjects(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	var e yamlEncoder
	own := 0
	const n = 20000
	for i := range n {
		obj := map[string]any{}
		for range r.Intn(8) {
			obj[trickyKeys[r.Intn(len(trickyKeys))]] = randomValue(r, 0)
		}
		want, err := goyaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		e.buf = e.buf[:0]
		e.keys = e.keys[:0]
		ok := e.document(obj)
		if !ordered(obj) {
			// go-yaml's own order of these keys depends on the map's
			// iteration order: two of its runs may differ.
			if ok {
				t.Fatalf("object %d: keys go-yaml orders by chance, encoder wrote\n%s", i, e.buf)
			}
			continue
		}
		if ok {
			own++
			if !bytes.Equal(e.buf, want) {
				t.Fatalf("object %d: encoder wrote\n%s\ngo-yaml\n%s\nfor %#v", i, e.buf, want, obj)
			}
		}
		got, err := e.marshal(obj)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("object %d: marshal gave %q, %v; want %q", i, got, err, want)
		}
	}
	t.Logf("%d of %d documents took the encoder's own path", own, n)
	if own < n/4 {
		t.Errorf("only %d of %d documents took the encoder's own path", own, n)
	}
}

// Every tricky string, as a value in a mapping and in a sequence at
// several depths and as a key, gives go-yaml's bytes; the ones go-yaml
// writes plain take the plain path.
func TestYAMLEncoderStrings(t *testing.T) {
	var e yamlEncoder
	for _, s := range trickyStrings {
		for _, obj := range []map[string]any{
			{"k": s},
			{"metadata": map[string]any{"annotations": map[string]any{"perimeter.dev/block": s}}},
			{"spec": []any{s, []any{s}, map[string]any{"a": []any{map[string]any{"b": s}}}}},
			{s: s},
			{s: map[string]any{s: []any{s}}},
		} {
			want, err := goyaml.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.marshal(obj)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%q: encoder wrote %q, %v; go-yaml %q", s, got, err, want)
			}
		}
		top, err := goyaml.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if plainASCII(s) && len(s) <= bestWidth && string(top) != s+"\n" {
			t.Errorf("%q: plainASCII says plain, go-yaml writes %q", s, top)
		}
	}
}

// Keys are sorted as go-yaml sorts them: letters first, runs of digits by
// value, then by length.
func TestYAMLEncoderKeyOrder(t *testing.T) {
	var e yamlEncoder
	r := rand.New(rand.NewSource(1))
	for range 2000 {
		obj := map[string]any{}
		for range 1 + r.Intn(12) {
			obj[trickyKeys[r.Intn(len(trickyKeys))]] = 1
		}
		if !ordered(obj) {
			continue
		}
		want, _ := goyaml.Marshal(obj)
		got, err := e.marshal(obj)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("encoder wrote\n%s\ngo-yaml\n%s", got, want)
		}
	}
}

// Types other than JSON's make the document go-yaml's, with its bytes.
func TestYAMLEncoderOtherTypes(t *testing.T) {
	var e yamlEncoder
	for _, v := range []any{uint64(7), float32(1.5), map[string]string{"a": "b"}, []string{"x"}, []map[string]any{{"a": 1}}, int8(3), int(4), int32(5), struct{ A int }{1}} {
		obj := map[string]any{"v": v}
		want, err := goyaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.marshal(obj)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%T: encoder wrote %q, %v; go-yaml %q", v, got, err, want)
		}
	}
}

// Every object of every example and of the benchmark's intent is written
// as manifest.Marshal writes it, and by the encoder's own path (the render
// relies on it being fast for the objects perimeter generates).
func TestYAMLEncoderGeneratedObjects(t *testing.T) {
	intents := map[string]map[string][]byte{"bench": benchintent.Intent(300, 4)}
	examples, _ := filepath.Glob("../../examples/*/main.hcl")
	for _, f := range examples {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		intents[f] = map[string][]byte{"main.hcl": b}
	}
	var e yamlEncoder
	checked := 0
	for name, files := range intents {
		src, diags := hclspec.Parse(files)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		envs := hclspec.EnvironmentNames(src)
		if len(envs) == 0 {
			envs = []string{""}
		}
		for _, env := range envs {
			in, diags := hclspec.Decode(src, hclspec.Options{Env: env})
			if diags.HasErrors() {
				t.Fatalf("%s %s: %s", name, env, diags.Error())
			}
			objs, diags := generate.Objects(in)
			if diags.HasErrors() {
				t.Fatalf("%s %s: %s", name, env, diags.Error())
			}
			for _, o := range generate.ForOutput(objs) {
				want, err := manifest.Marshal(o)
				if err != nil {
					t.Fatal(err)
				}
				e.buf, e.keys = e.buf[:0], e.keys[:0]
				if !e.document(o.Object) {
					t.Errorf("%s %s: %s took go-yaml's path", name, env, fmt.Sprint(o.GetKind(), "/", o.GetName()))
				}
				got, err := e.marshal(o.Object)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s %s: %s/%s: encoder wrote\n%s\nmanifest.Marshal\n%s", name, env, o.GetKind(), o.GetName(), got, want)
				}
				checked++
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d objects checked", checked)
	}
}

// ordered reports whether go-yaml's key comparison is a strict total
// order on the keys of every mapping in v (checked on every triple), so
// that go-yaml's output does not depend on the maps' iteration order.
func ordered(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		var keys []string
		for k, x := range v {
			if !ordered(x) {
				return false
			}
			keys = append(keys, k)
		}
		for _, a := range keys {
			for _, b := range keys {
				if a != b && keyLess(a, b) == keyLess(b, a) {
					return false
				}
				for _, c := range keys {
					if keyLess(a, b) && keyLess(b, c) && !keyLess(a, c) {
						return false
					}
				}
			}
		}
	case []any:
		for _, x := range v {
			if !ordered(x) {
				return false
			}
		}
	}
	return true
}

// Key sets go-yaml cannot order the same way twice are left to go-yaml;
// those it can are sorted as it sorts them.
func TestSortKeysIntransitive(t *testing.T) {
	for _, keys := range [][]string{{"0b101", "1.", "007"}, {"1", "01", "10", "1e3"}} {
		if sortKeys(append([]string(nil), keys...)) {
			t.Errorf("%q: sortKeys reports an order", keys)
		}
	}
	keys := []string{"a10", "a9", "b", "A", "_", "a01", "x-y", "k8s-app"}
	if !sortKeys(keys) || strings.Join(keys, " ") != "_ A a01 a9 a10 b k8s-app x-y" {
		t.Errorf("sorted %q", keys)
	}
}
