package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// fixedMapper maps the one kind of these tests, without discovery.
type fixedMapper struct{ meta.RESTMapper }

func (fixedMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	return &meta.RESTMapping{Resource: schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}}, nil
}

// A server's answers are input like any other: ListPaged stops, with an
// error, where a server that hands back the continue token it was sent
// would have it list forever, and where an answer is not a list.
func TestListPagedHostileServer(t *testing.T) {
	for name, answer := range map[string]func(cont string) string{
		"the same token again": func(cont string) string {
			return `{"kind":"NetworkPolicyList","apiVersion":"networking.k8s.io/v1","metadata":{"continue":"again"},"items":[{"metadata":{"name":"a"}}]}`
		},
		"not JSON":         func(string) string { return `{"items": [` },
		"not an item":      func(string) string { return `{"kind":"NetworkPolicyList","items":[42]}` },
		"items not a list": func(string) string { return `{"kind":"NetworkPolicyList","items":{"a":1}}` },
	} {
		t.Run(name, func(t *testing.T) {
			requests := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests++
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, answer(r.URL.Query().Get("continue")))
			}))
			defer srv.Close()
			lists, err := listClient(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			c := &Client{lists: lists, mapper: fixedMapper{}, Host: srv.URL}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			objs, err := c.ListPaged(ctx, schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}, "shop", "", nil)
			if err == nil || objs != nil || ctx.Err() != nil || !strings.Contains(err.Error(), "listing NetworkPolicy") {
				t.Fatalf("%d objects, %v (after %d requests); want an error naming the LIST", len(objs), err, requests)
			}
			if requests > 2 {
				t.Errorf("%d requests; want the LIST stopped at the bad answer", requests)
			}
		})
	}
}
