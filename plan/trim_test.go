package plan

import (
	"reflect"
	"testing"

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
