package generate

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/ownership"
)

// Namespace is the Namespace object of a namespace block: its declared
// labels, the stack's ownership labels and the block's origin. Objects does
// not emit it: whether the stack creates, adopts or only uses a namespace
// depends on the live cluster, so the plan decides (see plan.Namespace), and
// rendered manifests leave namespaces to whoever deploys them.
func Namespace(in *hclspec.Intent, ns *hclspec.Namespace) (*unstructured.Unstructured, error) {
	typed := &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns.Name},
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: raw}
	unstructured.RemoveNestedField(u.Object, "spec")
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	labels := maps.Clone(ns.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	// The API server sets this one; declaring it is allowed (validated to be
	// the name) but applying it would only make perimeter a co-owner.
	delete(labels, namespaceNameLabel)
	maps.Copy(labels, ownership.MemberLabels(in.Stack, in.StateNamespace))
	u.SetLabels(labels)
	u.SetAnnotations(map[string]string{
		ownership.AnnotationSource: Source(ns.Range),
		ownership.AnnotationBlock:  ns.Block,
	})
	return u, nil
}
