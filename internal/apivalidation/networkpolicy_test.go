package apivalidation

import (
	"os"
	"slices"
	"strings"
	"testing"

	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perimeter-dev/perimeter/manifest"
)

// RefusedAnnotation lists, in testdata/policies.yaml, the field paths an
// API server refuses in the policy.
const refusedAnnotation = "perimeter.dev/test-refused"

// Every policy of the catalogue gets errors at exactly the fields its
// annotation lists.
func TestNetworkPolicyCatalogue(t *testing.T) {
	for _, p := range catalogue(t) {
		t.Run(p.Name, func(t *testing.T) {
			want := strings.Fields(p.Annotations[refusedAnnotation])
			got := Fields(NetworkPolicy(p))
			if !slices.Equal(got, want) {
				t.Errorf("errors at %q, want %q:\n%v", got, want, NetworkPolicy(p))
			}
		})
	}
}

// The metadata is checked as the server checks it on create.
func TestNetworkPolicyMetadata(t *testing.T) {
	for _, c := range []struct {
		name, namespace string
		want            []string
	}{
		{"ok", "shop", nil},
		{"", "shop", []string{"metadata.name"}},
		{"Not_A_Name", "shop", []string{"metadata.name"}},
		{strings.Repeat("a", 254), "shop", []string{"metadata.name"}},
		{"ok", "", []string{"metadata.namespace"}},
		{"ok", "a.b", []string{"metadata.namespace"}},
	} {
		p := &netv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: c.name, Namespace: c.namespace}}
		if got := Fields(NetworkPolicy(p)); !slices.Equal(got, c.want) {
			t.Errorf("%q/%q: errors at %q, want %q", c.namespace, c.name, got, c.want)
		}
	}
}

// catalogue reads testdata/policies.yaml, each policy in namespace "test".
func catalogue(t *testing.T) []*netv1.NetworkPolicy {
	t.Helper()
	b, err := os.ReadFile("testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []*netv1.NetworkPolicy
	for _, u := range objs {
		p := &netv1.NetworkPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
			t.Fatalf("%s: %v", u.GetName(), err)
		}
		p.Namespace = "test"
		out = append(out, p)
	}
	if len(out) < 20 {
		t.Fatalf("the catalogue holds %d policies", len(out))
	}
	return out
}
