package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ingressNginxClass is the IngressClass controller value of ingress-nginx.
const ingressNginxClass = "k8s.io/ingress-nginx"

// standardControllerLabels are the pod labels the ingress-nginx Helm chart
// and static manifests give the controller (without
// app.kubernetes.io/instance, which is the Helm release's name and so not
// standard), in namespace ingress-nginx.
var standardControllerLabels = map[string]string{
	"app.kubernetes.io/name":      "ingress-nginx",
	"app.kubernetes.io/component": "controller",
}

const standardControllerNamespace = "ingress-nginx"

// controller is the running ingress-nginx controller: the pods the
// migration allows admit to the imported backends.
type controller struct {
	ns     string
	labels map[string]string
	source string // where it was found, for the report
}

func (c controller) String() string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(c.labels)) {
		kv = append(kv, k+"="+c.labels[k])
	}
	return fmt.Sprintf("pods %s in namespace %s", strings.Join(kv, ","), c.ns)
}

// parseController reads Options.IngressController,
// "namespace/key=value,key=value": the namespace and pod labels of the
// running ingress-nginx controller.
func parseController(s string) (controller, error) {
	c := controller{labels: map[string]string{}, source: "--ingress-controller " + s}
	ns, sel, ok := strings.Cut(s, "/")
	if !ok || len(validation.IsDNS1123Label(ns)) > 0 {
		return c, fmt.Errorf("--ingress-controller %q: want namespace/key=value[,key=value...]", s)
	}
	c.ns = ns
	for _, kv := range strings.Split(sel, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 || v == "" {
			return c, fmt.Errorf("--ingress-controller %q: %q is not a label key=value", s, kv)
		}
		c.labels[k] = v
	}
	return c, nil
}

// IsIngressNginxController reports whether u is a Deployment or DaemonSet
// running the ingress-nginx controller: its pod template carries the
// standard labels (app.kubernetes.io/name=ingress-nginx,
// app.kubernetes.io/component=controller), or a container runs the
// ingress-nginx controller image. The import reads such objects from a
// cluster, wherever they live, to admit the controller to the backends
// while it still serves the Ingresses.
func IsIngressNginxController(u *unstructured.Unstructured) bool {
	if k := u.GetKind(); k != "Deployment" && k != "DaemonSet" {
		return false
	}
	labels, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
	if hasLabels(labels, standardControllerLabels) {
		return true
	}
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		if image, _ := c.(map[string]any)["image"].(string); strings.Contains(image, "ingress-nginx/controller") {
			return true
		}
	}
	return false
}

func hasLabels(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// controllerFrom reads the pods of a controller workload: its selector's
// labels, which the API server keeps immutable and which match every pod
// it runs (the template's labels may carry the chart version, which
// changes on upgrade); the standard labels when the selector has
// expressions. ok is false when no usable labels remain.
func controllerFrom(u *unstructured.Unstructured) (controller, bool) {
	c := controller{ns: u.GetNamespace(), source: u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()}
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	exprs, _, _ := unstructured.NestedSlice(u.Object, "spec", "selector", "matchExpressions")
	template, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
	switch {
	case len(sel) > 0 && len(exprs) == 0:
		c.labels = sel
	case hasLabels(template, standardControllerLabels):
		c.labels = maps.Clone(standardControllerLabels)
	default:
		return c, false
	}
	for k, v := range c.labels {
		if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
			return c, false
		}
	}
	return c, len(validation.IsDNS1123Label(c.ns)) == 0
}
