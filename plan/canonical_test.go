package plan

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// appendJSON must encode exactly as json.Marshal: the digests of objects
// already in clusters were made with it.
func TestAppendJSONIsMarshal(t *testing.T) {
	cases := []any{
		nil, true, false, "", "plain", `quote " back \ slash`, "<a href='x'>&amp;</a>", "\b\f\n\r\t\x00\x01\x1f\x7f",
		"\u2028 and \u2029", "bad \xff utf-8 \xc3", "héllo wörld 日本 🎉", "\xed\xa0\x80 surrogate",
		int64(0), int64(-42), int64(math.MaxInt64), int64(math.MinInt64), int32(7), 9,
		0.0, math.Copysign(0, -1), 1.5, -2.25, 1e20, 1e21, 1e-6, 1e-7, 123456789.123, 5e-324, math.MaxFloat64, 1e-9, 1.0000001e-10,
		[]any(nil), []any{}, map[string]any(nil), map[string]any{},
		map[string]any{"b": int64(1), "a": []any{"x", nil, map[string]any{"<k>": 2.5, "k\u2028": false}}, "": "empty key", "B": "upper", "\xff": "bad key"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		cases = append(cases, finite(randomTree(r, 4)))
	}
	for i, v := range cases {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendJSON(nil, v)
		if !ok || string(got) != string(want) {
			t.Fatalf("case %d (%#v): appendJSON %q, %v; json.Marshal %q", i, v, got, ok, want)
		}
	}
}

// Values appendJSON does not know are left to json.Marshal, as are the
// ones it refuses.
func TestAppendJSONDefers(t *testing.T) {
	for _, v := range []any{
		math.NaN(), math.Inf(1), []string{"a"}, map[string]string{"a": "b"}, float32(1.5), uint64(3),
		map[string]any{"x": []any{math.Inf(-1)}},
	} {
		if _, ok := appendJSON(nil, v); ok {
			t.Errorf("%#v: encoded; want it left to encoding/json", v)
		}
	}
	bad := map[string]any{"x": math.NaN()}
	b, _ := json.Marshal(bad)
	if hashOf(bad) != hashOfBytes(b) {
		t.Error("hashOf of an object json.Marshal refuses changed")
	}
}

func randomTree(r *rand.Rand, depth int) any {
	k := r.IntN(9)
	if depth == 0 {
		k = r.IntN(6)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.Int64() - r.Int64()
	case 3:
		return math.Float64frombits(r.Uint64()) // NaN and Inf are retried by the caller
	case 4, 5:
		return randomString(r)
	case 6:
		s := make([]any, r.IntN(4))
		for i := range s {
			s[i] = finite(randomTree(r, depth-1))
		}
		return s
	default:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomString(r)] = finite(randomTree(r, depth-1))
		}
		return m
	}
}

func finite(v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return 0.5
	}
	return v
}

func randomString(r *rand.Rand) string {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "<", ">", "&", "\n", "\x00", "\x1f", "\x7f", "é", "\u2028", "\u2029", "🎉", "\xff", "\xc3", "\xed\xa0\x80"}
	var s string
	for range r.IntN(8) {
		s += alphabet[r.IntN(len(alphabet))]
	}
	return s
}
