package plan

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perimeter-dev/perimeter/ownership"
)

// convertedPolicy is a NetworkPolicy made the way generate makes objects:
// through the converter, whose maps have room for every field.
func convertedPolicy(b *testing.B) *unstructured.Unstructured {
	np := &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "s0-out", Namespace: "bench",
			Labels:      ownership.MemberLabels("bench", "bench"),
			Annotations: map[string]string{ownership.AnnotationSource: "part-00.hcl:14", "perimeter.dev/block": `allow "s0 out"`}},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "s0"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(np)
	if err != nil {
		b.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// BenchmarkStamp measures the copy of each desired object the plan keeps
// (go test -bench Stamp -benchmem ./plan; figures in docs/benchmarks.md).
func BenchmarkStamp(b *testing.B) {
	obj := convertedPolicy(b)
	b.ReportAllocs()
	for b.Loop() {
		stamp(obj)
	}
}
