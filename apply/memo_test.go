package apply_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/plan"
)

// memoReader is the CLI's reader of one plan: LISTs through a ListMemo.
type memoReader struct {
	*cluster.Client
	memo *plan.ListMemo
}

func (r memoReader) List(ctx context.Context, gvk schema.GroupVersionKind, ns, sel string) ([]*unstructured.Unstructured, error) {
	return r.memo.List(ctx, r.Client, gvk, ns, sel)
}

// listLog records the label selector of every NetworkPolicy LIST in ns.
type listLog struct {
	mu   sync.Mutex
	ns   string
	sels []string
	next http.RoundTripper
}

func (l *listLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/namespaces/"+l.ns+"/networkpolicies") {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		l.mu.Lock()
		l.sels = append(l.sels, q.Get("labelSelector"))
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

// Reads after planning reuse its LISTs: a whole namespace's policies are
// the stack's (already read) plus a LIST of the others only, and the
// answer is the same as a plain LIST's.
func TestListMemoReusesPlanning(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	if r := s.apply(s.plan(), s.client, apply.Options{}); r.Failed != 0 {
		t.Fatalf("apply: %+v", r)
	}
	ctx := context.Background()
	foreign := s.netpol("users-pays-egress").DeepCopy()
	foreign.SetName("someone-elses")
	foreign.SetLabels(map[string]string{"team": "other"})
	foreign.SetResourceVersion("")
	foreign.SetUID("")
	foreign.SetManagedFields(nil)
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	log := &listLog{ns: s.ns}
	cfg := rest.CopyConfig(testcluster.Get(t).Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { log.next = rt; return log })
	client, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := s.request(false)
	r := memoReader{client, plan.NewListMemo(req.Stack)}
	if _, err := plan.Make(ctx, r, req); err != nil {
		t.Fatal(err)
	}
	gvk := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	got, err := r.List(ctx, gvk, s.ns, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.client.List(ctx, gvk, s.ns, "")
	if err != nil {
		t.Fatal(err)
	}
	names := func(objs []*unstructured.Unstructured) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.GetName())
		}
		return out
	}
	if !slices.Equal(names(got), names(want)) || len(want) < 3 {
		t.Fatalf("memo answered %v, the cluster %v", names(got), names(want))
	}
	if again, _ := r.List(ctx, gvk, s.ns, ""); !slices.Equal(names(again), names(want)) {
		t.Fatalf("a repeated LIST answered %v", names(again))
	}
	if !slices.Equal(log.sels, []string{"perimeter.dev/stack!=" + req.Stack}) {
		t.Errorf("the namespace's policies were listed with selectors %q; want only the ones not the stack's", log.sels)
	}
}
