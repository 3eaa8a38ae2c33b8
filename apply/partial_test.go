package apply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// An identity that may read the stack's kinds only in the stack's
// namespace (and its ApplySet parent) plans what an admin plans: members
// are read where the parent records them. The plan says what it could not
// read (look-alikes elsewhere are not looked for) and that the gateway
// checks were skipped, instead of failing on a cluster-wide LIST.
func TestPlanWithPartialReadRights(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	s.apply(s.plan(), s.client, apply.Options{})
	c := testcluster.Get(t)
	user := "reader-" + s.name
	cfg := c.RestrictedConfig(t, user, []rbacv1.PolicyRule{
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{"gateway.networking.k8s.io"}, Resources: []string{"httproutes"}, Verbs: []string{"get", "list"}},
	}, s.ns)
	grant(t, c, user, "default", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}})
	reader, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitAllowed(t, reader, apply.Access{Verb: "list", GVK: ownership.ParentGVK, Namespace: "default"})
	l := ownership.MemberLabels(s.name, "default")
	l[ownership.LabelApplySetPartOf] = "applyset-forged-v1"
	s.create(netpolGVR, s.ns, map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "wrong-applyset", "namespace": s.ns, "labels": toAny(l)}, "spec": map[string]any{"podSelector": map[string]any{}}})

	s.write("")
	want := s.plan()
	// the state namespace may hold members too: without rights there, the
	// plan is refused with what to grant, rather than forgetting some
	_, err = plan.Make(context.Background(), reader, s.request(false))
	if err == nil || !strings.Contains(err.Error(), "may not list HTTPRoute in all namespaces, nor in namespace default, where the stack may have members") ||
		!strings.Contains(err.Error(), "grant it list on HTTPRoute in each of them") {
		t.Fatalf("plan without rights in the state namespace: %v", err)
	}
	grant(t, c, user, "default", rbacv1.PolicyRule{APIGroups: []string{"networking.k8s.io", "gateway.networking.k8s.io"}, Resources: []string{"networkpolicies", "httproutes"}, Verbs: []string{"list"}})
	waitAllowed(t, reader, apply.Access{Verb: "list", GVK: schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}, Namespace: "default"},
		apply.Access{Verb: "list", GVK: schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}, Namespace: "default"})
	got, err := plan.Make(context.Background(), reader, s.request(false))
	if err != nil {
		t.Fatalf("plan with rights in %s only: %v", s.ns, err)
	}
	if fmt.Sprint(actions(got)) != fmt.Sprint(actions(want)) || !want.HasChanges() {
		t.Errorf("plan with partial rights %v, admin plan %v", actions(got), actions(want))
	}
	var text strings.Builder
	for _, w := range got.Warnings {
		fmt.Fprintf(&text, "%s: %s [%s]\n", w.Summary, w.Detail, w.Object)
	}
	for _, part := range []string{
		"Planned with partial read rights: this identity may not list BackendTLSPolicy in all namespaces,",
		"list HTTPRoute in all namespaces, list ListenerSet in all namespaces, list Namespaces, list NetworkPolicy in all namespaces,",
		"where its ApplySet records members and the intent writes (default, " + s.ns + ")",
		"look-alikes (objects carrying the stack's labels) elsewhere could not be looked for",
		"Gateway checks skipped: this identity may not read what they need",
		"NetworkPolicy " + s.ns + "/wrong-applyset]",
	} {
		if !strings.Contains(text.String(), part) {
			t.Errorf("warnings lack %q:\n%s", part, text.String())
		}
	}
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}
