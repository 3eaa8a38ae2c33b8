package plan

import (
	"reflect"
	"testing"
)

func obj(spec map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "X", "metadata": map[string]any{"name": "a"}, "spec": spec}
}

func TestDiffProjectedIgnoresServerDefaults(t *testing.T) {
	desired := obj(map[string]any{"rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "users", "port": int64(80)}}}}})
	live := obj(map[string]any{"rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "users", "port": float64(80), "weight": int64(1), "group": "", "kind": "Service"}}}}})
	live["metadata"].(map[string]any)["resourceVersion"] = "42"
	live["status"] = map[string]any{"parents": []any{}}
	if got := diffProjected(normalize(live), normalize(desired)); len(got) != 0 {
		t.Fatalf("defaults showed as changes: %+v", got)
	}
}

func TestDiffPaths(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after map[string]any
		want          []FieldChange
	}{
		{"changed list element",
			obj(map[string]any{"rules": []any{map[string]any{"path": "/a"}, map[string]any{"path": "/order"}}}),
			obj(map[string]any{"rules": []any{map[string]any{"path": "/a"}, map[string]any{"path": "/orders"}}}),
			[]FieldChange{{Path: "spec.rules[1].path", Before: "/order", After: "/orders"}}},
		{"added element",
			obj(map[string]any{"ports": []any{int64(80)}}),
			obj(map[string]any{"ports": []any{int64(80), int64(443)}}),
			[]FieldChange{{Path: "spec.ports[1]", After: int64(443)}}},
		{"removed field",
			obj(map[string]any{"timeout": "10s", "x": true}),
			obj(map[string]any{"x": true}),
			[]FieldChange{{Path: "spec.timeout", Before: "10s"}}},
		{"label keys are quoted",
			map[string]any{"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "a"}}},
			map[string]any{"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "b"}}},
			[]FieldChange{{Path: `metadata.labels["app.kubernetes.io/name"]`, Before: "a", After: "b"}}},
		{"numbers compare by value", obj(map[string]any{"port": int64(53)}), obj(map[string]any{"port": float64(53)}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := diffAll(normalize(tc.before), normalize(tc.after))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestHashAnnotationIsNotAChange(t *testing.T) {
	a := map[string]any{"metadata": map[string]any{"annotations": map[string]any{hashAnnotation: "x", "keep": "1"}}}
	b := map[string]any{"metadata": map[string]any{"annotations": map[string]any{hashAnnotation: "y", "keep": "1"}}}
	if got := diffAll(normalize(a), normalize(b)); len(got) != 0 {
		t.Fatalf("hash annotation showed as a change: %+v", got)
	}
}
