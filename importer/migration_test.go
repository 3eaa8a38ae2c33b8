package importer

import (
	"cmp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perimeter-dev/perimeter/reach"
)

// checkMigration is the promise, checked by meaning: under the
// policies rendered from the imported intent and its migration file, a pod
// of the running ingress-nginx controller reaches a pod of every Ingress
// backend on the backend's target port. The controller pod carries every
// label its workload gives it (the standard Helm labels, release name
// included, when the input has no workload), so the check does not depend
// on which subset the import selects.
func checkMigration(t *testing.T, in, out []*unstructured.Unstructured) {
	t.Helper()
	ctrl := controllerPod(t, in)
	rendered, err := reach.FromObjects(out)
	must(t, err)
	pods := []*reach.Pod{ctrl}
	type target struct {
		pod  *reach.Pod
		port reach.Port
	}
	var targets []target
	for _, b := range ingressBackends(t, in) {
		pod := &reach.Pod{Namespace: b.Namespace, Name: "backend-" + b.Name, Labels: b.Spec.Selector}
		port := reach.Port{Number: b.Spec.Ports[0].TargetPort.IntVal, Protocol: corev1.ProtocolTCP}
		if port.Number == 0 {
			port.Number = b.Spec.Ports[0].Port
		}
		pods = append(pods, pod)
		targets = append(targets, target{pod, port})
	}
	e, err := reach.New(rendered.Policies, namespacesOf(pods), pods)
	must(t, err)
	for _, tg := range targets {
		if v := e.Evaluate(reach.PodPeer(ctrl), reach.PodPeer(tg.pod), tg.port); !v.Allowed {
			t.Errorf("the ingress-nginx controller %s/%v cannot reach backend %s/%v on %s once the intent is applied: %+v", ctrl.Namespace, ctrl.Labels, tg.pod.Namespace, tg.pod.Labels, tg.port, v)
		}
	}
}

// controllerPod is a pod of the controller workload in the input, or of a
// standard ingress-nginx installation.
func controllerPod(t *testing.T, in []*unstructured.Unstructured) *reach.Pod {
	for _, u := range in {
		if u.GetKind() == "Deployment" || u.GetKind() == "DaemonSet" {
			labels, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
			if labels["app.kubernetes.io/name"] == "ingress-nginx" || strings.Contains(u.GetName(), "ingress-nginx") {
				return &reach.Pod{Namespace: cmp.Or(u.GetNamespace(), "default"), Name: "controller", Labels: labels}
			}
		}
	}
	return &reach.Pod{Namespace: "ingress-nginx", Name: "controller", Labels: map[string]string{
		"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "ingress-nginx", "app.kubernetes.io/component": "controller"}}
}

// ingressBackends are the input Services with a selector and one port that
// an Ingress path (not a redirect) routes to.
func ingressBackends(t *testing.T, in []*unstructured.Unstructured) []*corev1.Service {
	services := map[string]*corev1.Service{}
	var out []*corev1.Service
	for _, u := range in {
		if u.GetKind() == "Service" {
			s := &corev1.Service{}
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s))
			s.Namespace = cmp.Or(s.Namespace, "default")
			if len(s.Spec.Selector) > 0 && len(s.Spec.Ports) == 1 && s.Spec.Ports[0].TargetPort.StrVal == "" {
				services[s.Namespace+"/"+s.Name] = s
			}
		}
	}
	for _, u := range in {
		if u.GetKind() != "Ingress" {
			continue
		}
		ing := &netv1.Ingress{}
		must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ing))
		if ing.Annotations[nginx+"permanent-redirect"] != "" || ing.Annotations[nginx+"temporal-redirect"] != "" || isTrue(ing.Annotations[nginx+"canary"]) {
			continue
		}
		ns := cmp.Or(ing.Namespace, "default")
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				if b := p.Backend.Service; b != nil && services[ns+"/"+b.Name] != nil {
					out = append(out, services[ns+"/"+b.Name])
				}
			}
		}
	}
	return out
}

func namespacesOf(pods []*reach.Pod) []reach.Namespace {
	seen := map[string]bool{}
	var out []reach.Namespace
	for _, p := range pods {
		if !seen[p.Namespace] {
			seen[p.Namespace] = true
			out = append(out, reach.Namespace{Name: p.Namespace})
		}
	}
	return out
}
