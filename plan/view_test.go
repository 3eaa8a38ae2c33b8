package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/ownership"
)

// viewCases are objects normalize treats in every way it can: status,
// server-owned metadata, the digest and source annotations (alone and
// with others), labels, a metadata that is not a map.
func viewCases() map[string]map[string]any {
	return map[string]map[string]any{
		"plain": obj(map[string]any{"rules": []any{map[string]any{"path": "/a", "port": int64(80)}}}),
		"server fields": {"apiVersion": "v1", "kind": "X", "status": map[string]any{"ok": true},
			"metadata": map[string]any{"name": "a", "uid": "u", "resourceVersion": "7", "managedFields": []any{map[string]any{"manager": "m"}},
				"labels": map[string]any{"app": "a"}, "annotations": map[string]any{hashAnnotation: "h", ownership.AnnotationSource: "a.hcl:3", "keep": "k"}},
			"spec": map[string]any{"x": []any{int64(1), "two", nil, map[string]any{"y": 1.5}}}},
		"only volatile annotations": {"apiVersion": "v1", "kind": "X",
			"metadata": map[string]any{"name": "a", "annotations": map[string]any{hashAnnotation: "h"}, "labels": map[string]any{}}},
		"metadata not a map": {"apiVersion": "v1", "kind": "X", "metadata": []any{"odd"}},
	}
}

// TestNormalizedViewIsNormalize: the view is the same tree as the copy,
// hashes the same, and leaves the object untouched.
func TestNormalizedViewIsNormalize(t *testing.T) {
	for name, o := range viewCases() {
		t.Run(name, func(t *testing.T) {
			before, _ := json.Marshal(o)
			view, copied := normalizedView(o), normalize(o)
			if !reflect.DeepEqual(view, copied) {
				t.Fatalf("view %v\ncopy %v", view, copied)
			}
			if hashOf(view) != hashOf(copied) {
				t.Fatal("hashes differ")
			}
			if after, _ := json.Marshal(o); string(after) != string(before) {
				t.Fatalf("the object changed: %s -> %s", before, after)
			}
		})
	}
}

// TestPlannedFieldsDoNotShareTheObjects: the differences planObject finds
// on views are copies, so changing the live or desired object after
// planning (dropManagedFields does, to live metadata) changes no plan.
func TestPlannedFieldsDoNotShareTheObjects(t *testing.T) {
	for _, whole := range []bool{false, true} {
		live := &unstructured.Unstructured{Object: obj(map[string]any{"rules": []any{map[string]any{"to": map[string]any{"port": int64(80)}}}})}
		desired := &unstructured.Unstructured{Object: obj(map[string]any{"rules": []any{map[string]any{"to": map[string]any{"port": int64(443)}}}, "more": map[string]any{"a": "b"}})}
		c, pr := planObject(t.Context(), nil, whole, stamp(desired), live)
		if pr != nil {
			t.Fatal(pr.Detail)
		}
		want, _ := json.Marshal(c.Fields)
		if len(c.Fields) == 0 {
			t.Fatal("no difference found")
		}
		live.Object["spec"].(map[string]any)["rules"].([]any)[0].(map[string]any)["to"].(map[string]any)["port"] = int64(1)
		desired.Object["spec"].(map[string]any)["more"].(map[string]any)["a"] = "changed"
		if got, _ := json.Marshal(c.Fields); string(got) != string(want) {
			t.Fatalf("whole=%v: the plan's fields changed with the objects: %s -> %s", whole, want, got)
		}
	}
}

// TestHashOfIsMarshalsDigest: hashOf digests exactly json.Marshal's bytes,
// as every digest in a cluster was made, for values Marshal cannot encode
// too (nil bytes).
func TestHashOfIsMarshalsDigest(t *testing.T) {
	cases := viewCases()
	cases["html and unicode"] = obj(map[string]any{"a": "<b>&\u2028é", "n": 1e21, "f": 0.5})
	cases["not encodable"] = map[string]any{"bad": func() {}}
	for name, o := range cases {
		b, _ := json.Marshal(o)
		sum := sha256.Sum256(b)
		if got, want := hashOf(o), hex.EncodeToString(sum[:16]); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

// TestStamp: the object sent keeps every annotation but the source line,
// carries the digest of what it sends, shares its spec with the desired
// object and leaves that object as it was.
func TestStamp(t *testing.T) {
	for name, o := range map[string]map[string]any{
		"source and others": obj(map[string]any{"a": "b"}),
		"no annotations":    {"apiVersion": "v1", "kind": "X", "metadata": map[string]any{"name": "a"}, "spec": map[string]any{"a": "b"}},
		"no metadata":       {"apiVersion": "v1", "kind": "X", "spec": map[string]any{"a": "b"}},
	} {
		if md, ok := o["metadata"].(map[string]any); ok && name == "source and others" {
			md["annotations"] = map[string]any{ownership.AnnotationSource: "a.hcl:3", "keep": "k"}
		}
		desired := &unstructured.Unstructured{Object: o}
		before := desired.DeepCopy()
		out := stamp(desired)
		if !reflect.DeepEqual(desired, before) {
			t.Errorf("%s: the desired object changed: %v", name, desired.Object)
		}
		ann := out.GetAnnotations()
		if _, has := ann[ownership.AnnotationSource]; has {
			t.Errorf("%s: the source line is sent", name)
		}
		if name == "source and others" && ann["keep"] != "k" {
			t.Errorf("%s: annotations %v", name, ann)
		}
		unhashed := out.DeepCopy()
		unstructured.RemoveNestedField(unhashed.Object, "metadata", "annotations", hashAnnotation)
		if ann[hashAnnotation] == "" || ann[hashAnnotation] != hashOf(normalize(unhashed.Object)) {
			t.Errorf("%s: digest %q is not the object's", name, ann[hashAnnotation])
		}
		if reflect.ValueOf(out.Object["spec"]).UnsafePointer() != reflect.ValueOf(o["spec"]).UnsafePointer() {
			t.Errorf("%s: the spec was copied", name)
		}
	}
}
