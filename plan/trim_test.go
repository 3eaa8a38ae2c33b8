package plan

import (
	"reflect"
	"testing"
	"unsafe"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestTrimManagedFields: managedFields go at LIST time only when the
// drift walk would find nothing in them, and the drift walk of the
// trimmed object finds what it found in the whole one.
func TestTrimManagedFields(t *testing.T) {
	spec := map[string]any{"podSelector": map[string]any{}, "labels": map[string]any{"app": "users", "x": "1"}}
	desired := &unstructured.Unstructured{Object: obj(map[string]any{"podSelector": map[string]any{}, "labels": map[string]any{"app": "users"}})}
	for _, tc := range []struct {
		name    string
		fields  map[string]string
		trimmed bool
	}{
		{"perimeter only", map[string]string{"perimeter": `{"f:spec":{"f:labels":{"f:app":{}}}}`}, true},
		{"another manager's metadata", map[string]string{"perimeter": `{"f:spec":{}}`, "kubectl-label": `{"f:metadata":{"f:labels":{"f:team":{}}}}`}, true},
		{"another manager's spec", map[string]string{"perimeter": `{"f:spec":{}}`, "someone": `{"f:spec":{"f:labels":{"f:x":{}}}}`}, false},
		{"perimeter's entry does not decode", map[string]string{"perimeter": `{"f:spec":{"k:notjson":{}}}`}, false},
		{"no entries", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := withManagers(spec, tc.fields)
			trimmed := whole.DeepCopy()
			trimManagedFields(trimmed)
			_, kept := trimmed.Object["metadata"].(map[string]any)["managedFields"]
			if tc.trimmed == kept && tc.fields != nil {
				t.Fatalf("managedFields kept = %v, want %v", kept, !tc.trimmed)
			}
			f1, err1 := foreignFields(whole, desired)
			f2, err2 := foreignFields(trimmed, desired)
			if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(f1, f2) {
				t.Errorf("drift differs after trimming: %+v, %v against %+v, %v", f1, err1, f2, err2)
			}
		})
	}
}

// newMemberTrim trims as trimManagedFields does and rebuilds the object
// on shared keys and short strings: the same tree, with one copy of each
// key and short value across the objects of a LIST.
func TestMemberTrimShares(t *testing.T) {
	spec := map[string]any{"podSelector": map[string]any{}, "ports": []any{map[string]any{"protocol": "TCP", "port": int64(80)}},
		"long": "a value longer than internMax, kept as it is", "n": nil, "ok": true}
	cases := map[string]string{
		"perimeter only":  `{"f:spec":{"f:labels":{"f:app":{}}}}`,
		"another manager": `{"f:spec":{"f:ports":{}}}`,
	}
	trim := newMemberTrim()
	var objs []*unstructured.Unstructured
	for name, fields := range cases {
		// decoded, as a LIST's objects are: no string shared
		b, err := withManagers(spec, map[string]string{"perimeter": `{"f:spec":{}}`, name: fields}).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		whole := &unstructured.Unstructured{}
		if err := whole.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		want := whole.DeepCopy()
		trimManagedFields(want)
		got := whole.DeepCopy()
		trim(got)
		if !reflect.DeepEqual(got.Object, want.Object) {
			t.Fatalf("%s: trimmed and shared %v\nwant %v", name, got.Object, want.Object)
		}
		objs = append(objs, got)
	}
	key := func(o *unstructured.Unstructured, k string) *byte {
		for s := range o.Object["spec"].(map[string]any) {
			if s == k {
				return unsafe.StringData(s)
			}
		}
		return nil
	}
	protocol := func(o *unstructured.Unstructured) *byte {
		p := o.Object["spec"].(map[string]any)["ports"].([]any)[0].(map[string]any)["protocol"].(string)
		return unsafe.StringData(p)
	}
	if key(objs[0], "podSelector") != key(objs[1], "podSelector") || protocol(objs[0]) != protocol(objs[1]) {
		t.Error("the two objects do not share their keys and short values")
	}
	if newMemberTrim() == nil {
		t.Fatal("no trim")
	}
}
