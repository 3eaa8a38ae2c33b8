package apply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

var grantGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "referencegrants"}

// forged is a look-alike made by someone else, and the reason the plan
// must give for not deleting it.
type forged struct {
	gvr      schema.GroupVersionResource
	ns, name string
	why      string
}

// Pruning and destroy trust the ApplySet parent, not labels: look-alikes
// carrying the stack's labels in a namespace the parent does not record,
// with another ApplySet's id, or of a kind the parent does not record are
// never deleted and are named in the plan; genuine members in a namespace
// the intent no longer declares but the parent records are pruned.
func TestPruneTrustsTheApplySet(t *testing.T) {
	s := newStack(t)
	c := testcluster.Get(t)
	dropped, elsewhere := c.Namespace(t), c.Namespace(t)
	s.write(fmt.Sprintf("namespace \"dropped\" {\n  name = %q\n  default_deny = [\"egress\"]\n}\n", dropped))
	if r := s.apply(s.plan(), s.client, apply.Options{}); r.Failed != 0 {
		t.Fatalf("apply: %+v", r)
	}
	member := ownership.MemberLabels(s.name, "default")
	labels := func(partOf string) map[string]any {
		l := map[string]any{}
		for k, v := range member {
			l[k] = v
		}
		if partOf == "" {
			delete(l, ownership.LabelApplySetPartOf)
		} else {
			l[ownership.LabelApplySetPartOf] = partOf
		}
		return l
	}
	policy := func(ns, name string, l map[string]any) map[string]any {
		return map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": l}, "spec": map[string]any{"podSelector": map[string]any{}}}
	}
	id := ownership.ApplySetID(s.name, "default")
	fakes := []forged{
		{netpolGVR, elsewhere, "forged", "namespace " + elsewhere + " is neither recorded"},
		{netpolGVR, s.ns, "wrong-applyset", `applyset.kubernetes.io/part-of is "applyset-forged-v1", not "` + id + `"`},
		{netpolGVR, dropped, "no-applyset", "applyset.kubernetes.io/part-of is missing"},
		{grantGVR, s.ns, "forged-grant", "its kind ReferenceGrant.gateway.networking.k8s.io is neither recorded"},
	}
	s.create(netpolGVR, elsewhere, policy(elsewhere, "forged", labels(id)))
	s.create(netpolGVR, s.ns, policy(s.ns, "wrong-applyset", labels("applyset-forged-v1")))
	s.create(netpolGVR, dropped, policy(dropped, "no-applyset", labels("")))
	s.create(grantGVR, s.ns, map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "ReferenceGrant",
		"metadata": map[string]any{"name": "forged-grant", "namespace": s.ns, "labels": labels(id)},
		"spec": map[string]any{"from": []any{map[string]any{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": elsewhere}},
			"to": []any{map[string]any{"group": "", "kind": "Service"}}}})

	s.write("") // the namespace block is gone: its members are pruned
	p := s.plan()
	a := actions(p)
	for _, name := range []string{"default-deny", "allow-dns"} {
		if a["NetworkPolicy "+dropped+"/"+name] != plan.Delete {
			t.Errorf("genuine member %s/%s in a namespace the parent records: %q, want delete (plan %v)", dropped, name, a["NetworkPolicy "+dropped+"/"+name], a)
		}
	}
	s.checkFakes(p, fakes)
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Destroyed != 2 {
		t.Fatalf("apply: %+v", r)
	}
	d, err := plan.Make(context.Background(), s.client, s.request(true))
	if err != nil {
		t.Fatal(err)
	}
	s.checkFakes(d, fakes)
	if r := s.apply(d, s.client, apply.Options{DeleteParent: true}); r.Failed != 0 || r.Destroyed == 0 {
		t.Fatalf("destroy: %+v", r)
	}
	for _, f := range fakes {
		if _, err := s.dyn.Resource(f.gvr).Namespace(f.ns).Get(context.Background(), f.name, metav1.GetOptions{}); err != nil {
			t.Errorf("look-alike %s/%s: %v", f.ns, f.name, err)
		}
	}
}

// checkFakes asserts that p touches no look-alike and warns about each.
func (s *stack) checkFakes(p *plan.Plan, fakes []forged) {
	s.t.Helper()
	for _, c := range p.Changes {
		for _, f := range fakes {
			if c.Namespace == f.ns && c.Name == f.name {
				s.t.Errorf("the plan would %s look-alike %s", c.Action, c.ID())
			}
		}
	}
	for _, f := range fakes {
		found := false
		for _, w := range p.Warnings {
			if strings.HasSuffix(w.Object, " "+f.ns+"/"+f.name) && strings.Contains(w.Detail, f.why) &&
				w.Summary == `Looks like a member of stack "`+s.name+`" but is not recorded in its ApplySet; not deleted` {
				found = true
			}
		}
		if !found {
			s.t.Errorf("no warning naming look-alike %s/%s (%s); warnings: %+v", f.ns, f.name, f.why, p.Warnings)
		}
	}
}
