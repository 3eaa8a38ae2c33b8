package apply_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/plan"
)

// (Here rather than in plan: the real control plane's stack helpers
// live in this package's tests, as for TestListMemoReusesPlanning.)
// trimmingReader is the CLI's reader of one plan exactly: it also opts
// in to trimming the members' LISTs (plan.Trimmer).
type trimmingReader struct{ memoReader }

func (r trimmingReader) ListTrimmed(ctx context.Context, gvk schema.GroupVersionKind, ns, sel string, trim func(*unstructured.Unstructured)) ([]*unstructured.Unstructured, error) {
	return r.memo.ListTrimmed(ctx, r.Client, gvk, ns, sel, trim)
}

// Trimming the members' managedFields page by page as they are listed
// changes nothing in the plan: with another manager's rule on one policy
// (drift, which needs its managedFields) and perimeter's alone on the
// others, the plan made through the trimming reader is the plain one.
func TestTrimmedPlanIsThePlan(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	if r := s.apply(s.plan(), s.client, apply.Options{}); r.Failed != 0 {
		t.Fatalf("apply: %+v", r)
	}
	s.applyAs("someone", "default-deny", `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
		"metadata":{"name":"default-deny"},"spec":{"podSelector":{},"ingress":[{}]}}`)
	ctx := context.Background()
	req := s.request(false)
	plain, err := plan.Make(ctx, s.client, req)
	if err != nil {
		t.Fatal(err)
	}
	trimmed, err := plan.Make(ctx, trimmingReader{memoReader{s.client, plan.NewListMemo(req.Stack)}}, req)
	if err != nil {
		t.Fatal(err)
	}
	a, b := planJSON(t, plain), planJSON(t, trimmed)
	if a != b {
		t.Fatalf("the trimmed plan differs:\n%s\nplain:\n%s", b, a)
	}
	if c := change(t, trimmed, "default-deny"); c.Action != plan.Update || len(c.Fields) == 0 || c.Fields[0].Manager != "someone" {
		t.Errorf("default-deny: %+v; want drift by someone", c)
	}
}

func planJSON(t *testing.T, p *plan.Plan) string {
	var b strings.Builder
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
