package cluster_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

var policyGVK = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}

var policyGVR = policyGVK.GroupVersion().WithResource("networkpolicies")

// clientIn is a client of the test control plane, and a namespace of
// the test's own.
func clientIn(t *testing.T) (*testcluster.Cluster, *cluster.Client, string) {
	t.Helper()
	c := testcluster.Get(t)
	client, err := cluster.New(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c, client, c.Namespace(t)
}

func policy(ns, name string, spec map[string]any) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetGroupVersionKind(policyGVK)
	obj.SetNamespace(ns)
	obj.SetName(name)
	return obj
}

// A server-side apply of a kind kube-apiserver serves itself is sent with
// fieldValidation=Ignore (see fieldValidation): a field the schema does
// not know is still refused, and nothing is written. A valid object is
// written and answered with its metadata only.
func TestApplyRefusesUnknownFields(t *testing.T) {
	c, client, ns := clientIn(t)
	ctx := context.Background()
	bad := policy(ns, "bad", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}, "noSuchField": true})
	_, err := client.ServerSideApply(ctx, bad, false)
	// the same refusal as a plain server-side apply with the server's
	// default fieldValidation: the field manager's schema finds the
	// field, before and whatever the strict decoding
	body, merr := bad.MarshalJSON()
	if merr != nil {
		t.Fatal(merr)
	}
	force := false
	_, byDefault := dynamic.NewForConfigOrDie(c.Config).Resource(policyGVR).Namespace(ns).Patch(ctx, "bad",
		types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: cluster.FieldManager, Force: &force})
	if err == nil || byDefault == nil || err.Error() != byDefault.Error() || !strings.Contains(err.Error(), "noSuchField") {
		t.Fatalf("apply with an unknown field: %v; with the default fieldValidation: %v; want the same refusal naming the field", err, byDefault)
	}
	if got, err := client.Get(ctx, policyGVK, ns, "bad"); err != nil || got != nil {
		t.Fatalf("after the refusal: %v, %v; want no object", got, err)
	}
	good := policy(ns, "good", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}})
	meta, err := client.ServerSideApply(ctx, good, false)
	if err != nil {
		t.Fatal(err)
	}
	live, err := client.Get(ctx, policyGVK, ns, "good")
	if err != nil || live == nil {
		t.Fatalf("reading the written policy: %v, %v", live, err)
	}
	if meta.UID == "" || meta.UID != live.GetUID() || meta.ResourceVersion != live.GetResourceVersion() {
		t.Fatalf("apply answered UID %q resourceVersion %q; the object has %q, %q", meta.UID, meta.ResourceVersion, live.GetUID(), live.GetResourceVersion())
	}
	// the field manager's record is as for any server-side apply
	mf := live.GetManagedFields()
	if len(mf) != 1 || mf[0].Manager != cluster.FieldManager || mf[0].Operation != "Apply" {
		t.Fatalf("managedFields %+v, want one Apply entry by %s", mf, cluster.FieldManager)
	}
}
