package reach

import (
	"reflect"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Typed converts each object once, as the converter does, and keeps a
// failed conversion's error; a nil Typed converts every time.
func TestTypedConvertsOnce(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "a", "namespace": "n"},
		"spec":     map[string]any{"podSelector": map[string]any{}, "ingress": []any{map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}}}}}
	bad := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "b"}, "spec": map[string]any{"podSelector": "not a selector"}}}
	var want networkingv1.NetworkPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &want); err != nil {
		t.Fatal(err)
	}
	for _, typed := range []*Typed{nil, NewTyped()} {
		a, err := typed.NetworkPolicy(u)
		if err != nil || !reflect.DeepEqual(*a, want) {
			t.Fatalf("converted %+v, %v; want %+v", a, err, want)
		}
		b, _ := typed.NetworkPolicy(u)
		if shared := a == b; shared != (typed != nil) {
			t.Errorf("typed=%v: the second conversion shared the first: %v", typed != nil, shared)
		}
		_, err1 := typed.NetworkPolicy(bad)
		_, err2 := typed.NetworkPolicy(bad)
		if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
			t.Errorf("bad object: %v, then %v", err1, err2)
		}
	}
}
