package ownership

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestApplySetIDFollowsKEP3659(t *testing.T) {
	// base64url(sha256("<name>.<namespace>.<kind>.<group>")), as kubectl computes it
	sum := sha256.Sum256([]byte("perimeter-shop.default.ConfigMap."))
	want := "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
	if got := ApplySetID("shop", "default"); got != want {
		t.Fatalf("ApplySetID = %s, want %s", got, want)
	}
	if ApplySetID("shop", "default") == ApplySetID("shop", "other") {
		t.Error("the state namespace is not part of the id")
	}
}

func obj(kind, ns string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("networking.k8s.io/v1")
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName("x")
	u.SetLabels(labels)
	return u
}

func TestIsMemberNeedsEveryMark(t *testing.T) {
	full := MemberLabels("shop", "default")
	if !IsMember(obj("NetworkPolicy", "a", full), "shop", "default") {
		t.Fatal("a member is not recognised")
	}
	for _, drop := range []string{LabelApplySetPartOf, LabelStack, LabelManagedBy} {
		l := MemberLabels("shop", "default")
		delete(l, drop)
		if IsMember(obj("NetworkPolicy", "a", l), "shop", "default") {
			t.Errorf("an object without %s counts as a member", drop)
		}
	}
	if IsMember(obj("NetworkPolicy", "a", MemberLabels("shop", "other")), "shop", "default") {
		t.Error("another ApplySet's member counts as ours")
	}
}

// TestParentCountsClusterScopedMembers: a Namespace member is listed as
// kubectl lists a core-group kind ("Namespace", GroupKind.String) and adds
// no namespace.
func TestParentCountsClusterScopedMembers(t *testing.T) {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName("shop")
	p := Parent("shop", "default", []*unstructured.Unstructured{ns, obj("NetworkPolicy", "shop", nil)})
	if got := p.GetAnnotations()[AnnotationApplySetGroupKinds]; got != "Namespace,NetworkPolicy.networking.k8s.io" {
		t.Errorf("group kinds %q", got)
	}
	if got := p.GetAnnotations()[AnnotationApplySetNamespaces]; got != "shop" {
		t.Errorf("additional namespaces %q", got)
	}
}

func TestParentListsKindsAndNamespaces(t *testing.T) {
	members := []*unstructured.Unstructured{obj("NetworkPolicy", "b", nil), obj("NetworkPolicy", "a", nil), obj("NetworkPolicy", "default", nil)}
	p := Parent("shop", "default", members)
	if got := p.GetAnnotations()[AnnotationApplySetGroupKinds]; got != "NetworkPolicy.networking.k8s.io" {
		t.Errorf("group kinds %q", got)
	}
	if got := p.GetAnnotations()[AnnotationApplySetNamespaces]; got != "a,b" {
		t.Errorf("additional namespaces %q (sorted, without the parent's own)", got)
	}
	if p.GetLabels()[LabelApplySetID] != ApplySetID("shop", "default") || p.GetName() != "perimeter-shop" {
		t.Errorf("parent %v", p.Object)
	}
}
