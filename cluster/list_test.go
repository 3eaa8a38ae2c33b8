package cluster_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/perimeter-dev/perimeter/cluster"
)

var (
	configMapGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	routeGVK     = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}
)

// ListPaged answers, page by page, exactly what the dynamic client's List
// answers: the same objects with the same fields (the kind and version
// of built-in kinds, which the server leaves out of a list's items,
// included), for a built-in kind of the core group and of another, and
// for a CRD; in a namespace and cluster-wide; with and without a
// selector. trim sees every object.
func TestListPagedIsDynamicList(t *testing.T) {
	c, client, ns := clientIn(t)
	dyn := dynamic.NewForConfigOrDie(c.Config)
	ctx := context.Background()
	mark := "list-" + ns // a label value no other test's objects carry
	for i := range 7 {
		labels := map[string]string{"mark": mark, "half": fmt.Sprint(i % 2)}
		p := policy(ns, fmt.Sprintf("p%d", i), map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}})
		cm := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"n": fmt.Sprint(i)}}}
		cm.SetGroupVersionKind(configMapGVK)
		cm.SetNamespace(ns)
		cm.SetName(fmt.Sprintf("c%d", i))
		r := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"parentRefs": []any{map[string]any{"name": "gw"}}}}}
		r.SetGroupVersionKind(routeGVK)
		r.SetNamespace(ns)
		r.SetName(fmt.Sprintf("r%d", i))
		for _, o := range []*unstructured.Unstructured{p, cm, r} {
			o.SetLabels(labels)
			if _, err := client.ServerSideApply(ctx, o, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer cluster.SetListPageSize(3)()
	resources := map[schema.GroupVersionKind]string{policyGVK: "networkpolicies", configMapGVK: "configmaps", routeGVK: "httproutes"}
	for gvk, resource := range resources {
		for _, q := range []struct{ namespace, selector string }{
			{ns, ""}, {ns, "half=1"}, {"", "mark=" + mark}, {"", "mark=" + mark + ",half=0"},
		} {
			var trimmed int
			got, err := client.ListPaged(ctx, gvk, q.namespace, q.selector, func(*unstructured.Unstructured) { trimmed++ })
			if err != nil {
				t.Fatalf("%s %+v: %v", gvk.Kind, q, err)
			}
			want, err := dyn.Resource(gvk.GroupVersion().WithResource(resource)).Namespace(q.namespace).List(ctx, metav1.ListOptions{LabelSelector: q.selector})
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Items) < 3 || len(got) != len(want.Items) || trimmed != len(got) {
				t.Fatalf("%s %+v: %d objects (%d trimmed), the dynamic client lists %d", gvk.Kind, q, len(got), trimmed, len(want.Items))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i].Object, want.Items[i].Object) {
					t.Fatalf("%s %+v: object %d is\n%v\nthe dynamic client's is\n%v", gvk.Kind, q, i, got[i].Object, want.Items[i].Object)
				}
				if got[i].GroupVersionKind() != gvk {
					t.Fatalf("%s %+v: object %d has kind %v", gvk.Kind, q, i, got[i].GroupVersionKind())
				}
			}
		}
	}
}

// ListPaged sends nothing for a namespace that is not one path segment (a
// namespace read from the cluster, as an ApplySet parent records them,
// is hostile input), and keeps the errors planning tells apart: a kind
// not served, and a LIST this identity may not send.
func TestListPagedErrors(t *testing.T) {
	c, client, ns := clientIn(t)
	ctx := context.Background()
	for _, bad := range []string{"../kube-system", "a/b", ".."} {
		if objs, err := client.ListPaged(ctx, configMapGVK, bad, "", nil); err == nil || objs != nil {
			t.Errorf("namespace %q: %d objects, %v; want a refusal", bad, len(objs), err)
		}
	}
	_, err := client.ListPaged(ctx, schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Nothing"}, ns, "", nil)
	if !meta.IsNoMatchError(err) {
		t.Errorf("a kind not served: %v; want a no-match error", err)
	}
	cfg := c.RestrictedConfig(t, "list-paged-reader", []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"list"}}}, ns)
	limited, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := limited.ListPaged(ctx, configMapGVK, ns, "", nil); err != nil {
		t.Errorf("listing what it may list: %v", err)
	}
	if _, err := limited.ListPaged(ctx, configMapGVK, "", "", nil); !apierrors.IsForbidden(err) {
		t.Errorf("listing cluster-wide what it may list in one namespace: %v; want forbidden", err)
	}
}
