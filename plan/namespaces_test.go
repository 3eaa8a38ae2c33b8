package plan

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/ownership"
)

func TestNotOwnedDetail(t *testing.T) {
	ns := func(labels map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetLabels(labels)
		return u
	}
	desired := ns(map[string]string{"team": "payments", "tier": "web", ownership.LabelStack: "shop", ownership.LabelManagedBy: "perimeter"})
	base := "used as it is: never labelled, taken over or deleted (adopt = true makes it a member)"
	for _, tc := range []struct {
		name string
		live map[string]string
		want string
	}{
		{"has them", map[string]string{"team": "payments", "tier": "web", "owner": "platform"}, base},
		{"lacks one", map[string]string{"team": "payments"}, base + "; it lacks the declared labels tier=web"},
		{"other values", map[string]string{"team": "x"}, base + "; it lacks the declared labels team=payments, tier=web"},
	} {
		if got := notOwnedDetail(desired, ns(tc.live)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
