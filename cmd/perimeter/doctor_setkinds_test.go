package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

var listenerSetGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "listenersets"}

// TestDoctorListenerSetKinds creates the ListenerSet an intent declares,
// writes its status.listeners through the status subresource as the
// Gateway's controller would (listener "pg" supports TCPRoute, "dns" only
// TCPRoute too), and reads doctor's verdict: the UDPRoute attached to
// "dns" will not be served, an error; the TCPRoute on "pg" is fine.
func TestDoctorListenerSetKinds(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	sets := dyn.Resource(listenerSetGVR).Namespace(ns)
	ls := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "ListenerSet",
		"metadata": map[string]any{"name": "team", "namespace": ns},
		"spec": map[string]any{
			"parentRef": map[string]any{"name": "shared", "namespace": ns},
			"listeners": []any{
				map[string]any{"name": "pg", "port": int64(5432), "protocol": "TCP"},
				map[string]any{"name": "dns", "port": int64(53), "protocol": "UDP"},
			},
		},
	}}
	created, err := sets.Create(context.Background(), ls, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := []any{listenerStatus(created, "pg", "TCPRoute"), listenerStatus(created, "dns", "TCPRoute")}
	if err := unstructured.SetNestedSlice(created.Object, status, "status", "listeners"); err != nil {
		t.Fatal(err)
	}
	if _, err := sets.UpdateStatus(context.Background(), created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := strings.ReplaceAll(doctorSetIntent, "NS", ns)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"doctor", "--kubeconfig", c.Kubeconfig, dir}, &out, &errb)
	if code != 1 || strings.Contains(errb.String(), "Error") {
		t.Fatalf("doctor exited %d, want 1 (an error finding)\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	want := `(?m)^error +listenerset +listener_set "team": listener "dns" of ListenerSet ` + ns + `/team does not support UDPRoute \(status.listeners supportedKinds: TCPRoute\); its routes there will not be served$`
	if !regexp.MustCompile(want).MatchString(out.String()) {
		t.Errorf("no line matching %s in:\n%s", want, out.String())
	}
	if strings.Contains(out.String(), `listener "pg" of ListenerSet`) {
		t.Errorf("listener pg supports its TCPRoute, yet doctor reports it:\n%s", out.String())
	}
}

// listenerStatus is one status.listeners entry, as a controller writes it.
func listenerStatus(obj *unstructured.Unstructured, name, kind string) map[string]any {
	return map[string]any{
		"name": name, "attachedRoutes": int64(0),
		"supportedKinds": []any{map[string]any{"group": "gateway.networking.k8s.io", "kind": kind}},
		"conditions": []any{map[string]any{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
			"observedGeneration": obj.GetGeneration(), "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}},
	}
}

var doctorSetIntent = `
perimeter {
  stack = "doctorset"
}
namespace "app" {
  name = "NS"
}
gateway "shared" {
  namespace      = "NS"
  implementation = "istio"
}
listener_set "team" {
  namespace = "NS"
  gateway   = gateway.shared
  listener "pg" {
    protocol = "TCP"
    port     = 5432
  }
  listener "dns" {
    protocol = "UDP"
    port     = 53
  }
}
` + l4Backends("listener_set.team")
