package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// An identity with rights in the stack's namespace only (policies, but
// not routes, and nothing in the state namespace) is refused before any
// write, with every missing permission listed; so is a delete it may not
// make. Nothing is written either time.
func TestApplyRefusedWithoutPermission(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	c := testcluster.Get(t)
	user := "one-namespace-" + s.name
	cfg := c.RestrictedConfig(t, user, []rbacv1.PolicyRule{
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"get", "list", "create", "patch"}},
		{APIGroups: []string{"gateway.networking.k8s.io"}, Resources: []string{"httproutes"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "create", "patch"}},
	}, s.ns)
	restricted, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := func(p *plan.Plan, opts apply.Options) *apply.DeniedError {
		t.Helper()
		opts.KindOrder = generate.Kinds
		r, err := apply.Run(context.Background(), restricted, p, opts)
		var denied *apply.DeniedError
		if !errors.As(err, &denied) {
			t.Fatalf("apply by %s: report %+v, error %v; want refused", user, r, err)
		}
		if !strings.Contains(err.Error(), `identity "`+user+`"`) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("the refusal names neither the identity nor the outcome:\n%v", err)
		}
		return denied
	}
	d := run(s.plan(), apply.Options{})
	want := []string{"create configmaps in namespace default", "create httproutes in namespace " + s.ns,
		"get configmaps in namespace default", "patch configmaps in namespace default", "patch httproutes in namespace " + s.ns}
	if strings.Join(d.Denied, "|") != strings.Join(want, "|") {
		t.Errorf("denied:\n  %s\nwant:\n  %s", strings.Join(d.Denied, "\n  "), strings.Join(want, "\n  "))
	}
	if pols, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).List(context.Background(), metav1.ListOptions{}); err != nil || len(pols.Items) != 0 {
		t.Fatalf("policies written by a refused apply: %v %v", pols, err)
	}
	if _, err := s.dyn.Resource(cmGVR).Namespace("default").Get(context.Background(), ownership.ParentName(s.name), metav1.GetOptions{}); err == nil {
		t.Fatal("a refused apply wrote the ApplySet parent")
	}

	// with the parent and the routes allowed, a plan that creates one
	// policy and deletes another, which the identity may not delete: the
	// create is not made either
	grant(t, c, user, "default", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "create", "patch"}})
	grant(t, c, user, s.ns, rbacv1.PolicyRule{APIGroups: []string{"gateway.networking.k8s.io"}, Resources: []string{"httproutes"}, Verbs: []string{"create", "patch"}})
	waitAllowed(t, restricted, apply.Access{Verb: "patch", GVK: ownership.ParentGVK, Namespace: "default"},
		apply.Access{Verb: "create", GVK: schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}, Namespace: s.ns})
	s.apply(s.plan(), s.client, apply.Options{})
	s.write(`
allow "users calls" {
  from  = service.users
  to    = cidr("192.0.2.0/24")
  ports = ["443/tcp"]
}
`)
	p := s.plan()
	if a := actions(p); a["NetworkPolicy "+s.ns+"/users-calls-egress"] != plan.Create || a["NetworkPolicy "+s.ns+"/users-pays-egress"] != plan.Delete {
		t.Fatalf("plan: %v", a)
	}
	d = run(p, apply.Options{})
	if strings.Join(d.Denied, "|") != "delete networkpolicies in namespace "+s.ns {
		t.Errorf("denied %v, want only the policy delete", d.Denied)
	}
	if s.netpol("users-pays-egress") == nil || s.netpol("users-calls-egress") != nil {
		t.Fatal("a refused apply changed policies")
	}
}

// grant gives user rule in namespace, with a Role and a RoleBinding.
func grant(t *testing.T, c *testcluster.Cluster, user, namespace string, rule rbacv1.PolicyRule) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := context.Background()
	name := "grant-" + user + "-" + rule.Resources[0]
	if _, err := cs.RbacV1().Roles(namespace).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{rule}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(namespace).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitAllowed waits until the API server enforces a grant (RBAC learns of
// bindings through a watch).
func waitAllowed(t *testing.T, c *cluster.Client, accesses ...apply.Access) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		denied, err := c.Denied(ctx, accesses)
		return len(denied) == 0, err
	})
	if err != nil {
		t.Fatalf("waiting for %v: %v", accesses, err)
	}
}
