package apply_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
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
	s, req, plain := driftedStack(t)
	ctx := context.Background()
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

// driftedStack applies usersEgress, lets another manager add a rule to
// default-deny (drift, which needs its managedFields) and returns the
// stack, its plan request and the plan made straight from the cluster.
func driftedStack(t *testing.T) (*stack, plan.Request, *plan.Plan) {
	s := newStack(t)
	s.write(usersEgress)
	if r := s.apply(s.plan(), s.client, apply.Options{}); r.Failed != 0 {
		t.Fatalf("apply: %+v", r)
	}
	s.applyAs("someone", "default-deny", `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
		"metadata":{"name":"default-deny"},"spec":{"podSelector":{},"ingress":[{}]}}`)
	req := s.request(false)
	plain, err := plan.Make(context.Background(), s.client, req)
	if err != nil {
		t.Fatal(err)
	}
	return s, req, plain
}

func planJSON(t *testing.T, p *plan.Plan) string {
	var b strings.Builder
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// clusterListLog counts the cluster-wide NetworkPolicy LISTs by label
// selector.
type clusterListLog struct {
	mu   sync.Mutex
	sels map[string]int
	next http.RoundTripper
}

func (l *clusterListLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Path == "/apis/networking.k8s.io/v1/networkpolicies" {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		l.mu.Lock()
		l.sels[q.Get("labelSelector")]++
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

// A plan whose members' LISTs were prefetched (the CLI starts them while
// it compiles) is the plan made without, with drift on one policy, and
// planning waits for the prefetched LISTs instead of sending them again.
func TestPrefetchedPlanIsThePlan(t *testing.T) {
	_, req, plain := driftedStack(t)
	ctx := context.Background()
	log := &clusterListLog{sels: map[string]int{}}
	cfg := rest.CopyConfig(testcluster.Get(t).Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { log.next = rt; return log })
	client, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	memo := plan.NewListMemo(req.Stack)
	memo.Prefetch(ctx, client, req.Kinds)
	prefetched, err := plan.Make(ctx, trimmingReader{memoReader{client, memo}}, req)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := planJSON(t, plain), planJSON(t, prefetched); a != b {
		t.Fatalf("the prefetched plan differs:\n%s\nplain:\n%s", b, a)
	}
	if n := log.sels["perimeter.dev/stack="+req.Stack]; n != 1 {
		t.Errorf("the stack's NetworkPolicies were listed %d times; want once (%v)", n, log.sels)
	}
}

// failingReader fails every LIST of one kind, and counts them.
type failingReader struct {
	plan.Reader
	kind  string
	mu    sync.Mutex
	calls int
}

func (r *failingReader) List(ctx context.Context, gvk schema.GroupVersionKind, ns, sel string) ([]*unstructured.Unstructured, error) {
	if gvk.Kind == r.kind {
		r.mu.Lock()
		r.calls++
		r.mu.Unlock()
		return nil, errors.New("refused")
	}
	return r.Reader.List(ctx, gvk, ns, sel)
}

// A prefetched LIST that failed is not kept: the plan's own read sends
// it again and meets the error itself.
func TestFailedPrefetchIsReadAgain(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	ctx := context.Background()
	req := s.request(false)
	r := &failingReader{Reader: s.client, kind: "NetworkPolicy"}
	memo := plan.NewListMemo(req.Stack)
	memo.Prefetch(ctx, r, req.Kinds)
	gvk := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	if _, err := memo.List(ctx, r, gvk, "", "perimeter.dev/stack="+req.Stack); err == nil || err.Error() != "refused" {
		t.Fatalf("err = %v; want the reader's", err)
	}
	if r.calls != 2 {
		t.Errorf("%d LISTs; want the prefetch's and the read's", r.calls)
	}
}
