package importer

import (
	"maps"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/manifest"
)

// TestParseController: --ingress-controller names a namespace and labels an
// API server would accept, or the import refuses to start.
func TestParseController(t *testing.T) {
	good := map[string]map[string]string{
		"edge/app=nginx": {"app": "nginx"},
		"ingress-nginx/app.kubernetes.io/name=x, a=b": {"app.kubernetes.io/name": "x", "a": "b"},
	}
	for in, want := range good {
		c, err := parseController(in)
		if err != nil || !maps.Equal(c.labels, want) {
			t.Errorf("%q: got %v, %v; want %v", in, c.labels, err, want)
		}
	}
	for _, in := range []string{"app=nginx", "Edge/app=nginx", "edge/", "edge/app", "edge/app=", "edge/a b=c", "edge/app=x y"} {
		if _, err := parseController(in); err == nil || !strings.Contains(err.Error(), "--ingress-controller") {
			t.Errorf("%q: accepted (%v)", in, err)
		}
	}
}

// TestControllerFrom: the admitted labels are the workload's selector (its
// pods all carry them, upgrades do not change them), or the standard
// labels when the selector has expressions; a workload that is not the
// controller is not taken for it.
func TestControllerFrom(t *testing.T) {
	objs, err := manifest.Decode([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: c, namespace: ingress-nginx}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: ingress-nginx}
    matchExpressions: [{key: app.kubernetes.io/component, operator: In, values: [controller]}]
  template:
    metadata:
      labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/component: controller, helm.sh/chart: x-1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, app.kubernetes.io/name: ingress-nginx}}
    spec:
      containers: [{name: web, image: example.com/ingress-nginx/web:1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		byName[u.GetName()] = u
	}
	c, ok := controllerFrom(byName["c"])
	if !IsIngressNginxController(byName["c"]) || !ok || !maps.Equal(c.labels, standardControllerLabels) || c.ns != "ingress-nginx" {
		t.Errorf("controller with selector expressions: %+v, %v", c, ok)
	}
	if IsIngressNginxController(byName["web"]) {
		t.Error("an application Deployment with one of the labels was taken for the controller")
	}
}
