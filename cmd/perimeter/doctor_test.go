package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

var gatewayClassGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gatewayclasses"}

// TestDoctorGatewayClasses writes GatewayClass status through the status
// subresource, as a controller would, and reads doctor's verdict on each.
func TestDoctorGatewayClasses(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	classes := dyn.Resource(gatewayClassGVR)
	accepted := createClass(t, classes, ns+"-accepted", "example.com/accepting")
	setAccepted(t, classes, accepted, "True", "Accepted", "Ready to program gateways")
	refused := createClass(t, classes, ns+"-refused", "example.com/refusing")
	setAccepted(t, classes, refused, "False", "InvalidParameters", "parametersRef not found")
	createClass(t, classes, ns+"-pending", "example.com/absent")

	var out, errb bytes.Buffer
	// The exit status depends on other findings (CNI DaemonSets of other
	// tests); only the GatewayClass lines are this test's.
	if code := run([]string{"doctor", "--kubeconfig", c.Kubeconfig}, &out, &errb); code > 1 || errb.Len() > 0 {
		t.Fatalf("doctor exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{
		`(?m)^ok +gatewayclass +` + ns + `-accepted \(controller example.com/accepting\) is accepted$`,
		`(?m)^warning +gatewayclass +` + ns + `-refused \(controller example.com/refusing\) is not accepted \(Accepted=False, InvalidParameters: parametersRef not found\)$`,
		`(?m)^warning +gatewayclass +` + ns + `-pending \(controller example.com/absent\) is not accepted yet \(Waiting for controller\): is its controller running\?$`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("no line matching %s in:\n%s", want, out.String())
		}
	}
}

func createClass(t *testing.T, classes dynamic.NamespaceableResourceInterface, name, controller string) *unstructured.Unstructured {
	t.Helper()
	gc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"controllerName": controller},
	}}
	created, err := classes.Create(context.Background(), gc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = classes.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return created
}

// setAccepted writes the Accepted condition through the status subresource.
func setAccepted(t *testing.T, classes dynamic.NamespaceableResourceInterface, gc *unstructured.Unstructured, status, reason, message string) {
	t.Helper()
	cond := map[string]any{"type": "Accepted", "status": status, "reason": reason, "message": message,
		"observedGeneration": gc.GetGeneration(), "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}
	if err := unstructured.SetNestedSlice(gc.Object, []any{cond}, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	if _, err := classes.UpdateStatus(context.Background(), gc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
