package manifest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Marshal skips sigs.k8s.io/yaml's JSON round trip; these are the values
// where that could show: strings YAML would read as something else, numbers,
// empty and null values, nesting, and keys that sort "naturally".
var trickyStrings = []string{"", "true", "no", "yes", "null", "~", "80", "0x1F", "1e3", "-", "a: b", "#x", " lead",
	"trail ", "multi\nline", "tab\there", "quote\"s", "'single'", "ünï", "s9", "s10", "*", "&a", "!tag", "[x]", "{y}", "%", "@", "`"}

func randomValue(r *rand.Rand, depth int) any {
	switch n := r.IntN(10); {
	case n == 0 && depth < 4:
		m := map[string]any{}
		for i := r.IntN(4); i > 0; i-- {
			m[trickyStrings[r.IntN(len(trickyStrings))]] = randomValue(r, depth+1)
		}
		return m
	case n == 1 && depth < 4:
		l := []any{}
		for i := r.IntN(4); i > 0; i-- {
			l = append(l, randomValue(r, depth+1))
		}
		return l
	case n == 2:
		return r.Int64N(1<<40) - 1<<39
	case n == 3:
		return []float64{0.5, 1, -2.25, 1e21, 3.0e-7}[r.IntN(5)]
	case n == 4:
		return r.IntN(2) == 0
	case n == 5:
		return nil
	default:
		return trickyStrings[r.IntN(len(trickyStrings))]
	}
}

func TestMarshalMatchesSigsYAML(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "X"}}
		for j := r.IntN(6); j >= 0; j-- {
			obj.Object[fmt.Sprintf("k%d", j)] = randomValue(r, 0)
		}
		got, err := Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		want, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: Marshal differs from sigs.k8s.io/yaml\n--- got\n%s--- want\n%s", i, got, want)
		}
	}
}
