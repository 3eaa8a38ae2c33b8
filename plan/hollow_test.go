package plan

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestHollow(t *testing.T) {
	spec := map[string]any{"podSelector": map[string]any{}}
	labels := map[string]any{"a": "b"}
	namespaced := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "n", "namespace": "ns", "uid": "u", "resourceVersion": "3", "labels": labels,
			"annotations": map[string]any{"x": "y"}, "generation": int64(2)},
		"spec": spec, "status": map[string]any{}}}
	old := namespaced.Object
	hollow(namespaced)
	want := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "n", "namespace": "ns", "uid": "u", "resourceVersion": "3", "labels": labels}}
	if !reflect.DeepEqual(namespaced.Object, want) {
		t.Errorf("hollowed to %v, want %v", namespaced.Object, want)
	}
	// the maps are replaced, not emptied: what a change kept still holds
	if old["spec"] == nil || len(old["metadata"].(map[string]any)) != 7 {
		t.Errorf("the object's old maps were changed: %v", old)
	}
	cluster := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "shop", "labels": labels}, "spec": map[string]any{"finalizers": []any{"kubernetes"}}}}
	before := cluster.DeepCopy()
	hollow(cluster)
	if !reflect.DeepEqual(cluster, before) {
		t.Errorf("a cluster-scoped object was hollowed: %v", cluster.Object)
	}
}
