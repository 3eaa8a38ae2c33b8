package doctor

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// listenerSets reports, for each listener_set of the intent, whether its
// Gateway exists and allows ListenerSets from the set's namespace
// (spec.allowedListeners; none by default). A stack that does not own the
// Gateway cannot fix that itself, so doctor names the field to ask for.
func listenerSets(ctx context.Context, r Reader, in *hclspec.Intent) ([]Finding, error) {
	if len(in.ListenerSets) == 0 {
		return nil, nil
	}
	gateways, err := r.List(ctx, gatewayGVK, "", "")
	if meta.IsNoMatchError(err) {
		return nil, nil // gatewayAPI reports the missing CRDs
	}
	if err != nil {
		return nil, err
	}
	nss, err := r.List(ctx, namespaceGVK, "", "")
	if err != nil {
		return nil, err
	}
	nsLabels := map[string]map[string]string{}
	for _, n := range nss {
		nsLabels[n.GetName()] = n.GetLabels()
	}
	live := map[string]*unstructured.Unstructured{}
	for _, g := range gateways {
		live[g.GetNamespace()+"/"+g.GetName()] = g
	}
	sets, err := r.List(ctx, listenerSetGVK, "", "")
	if err != nil && !meta.IsNoMatchError(err) {
		return nil, err
	}
	liveSets := map[string]*unstructured.Unstructured{}
	for _, s := range sets {
		liveSets[s.GetNamespace()+"/"+s.GetName()] = s
	}
	var out []Finding
	for _, ls := range in.ListenerSets {
		if f, ok := setStatus(ls, liveSets[ls.Namespace+"/"+ls.Name]); ok {
			out = append(out, f)
		}
		name := fmt.Sprintf("listener_set %q", ls.Label)
		gw := live[ls.Gateway.Namespace+"/"+ls.Gateway.Name]
		switch {
		case gw == nil && ls.Gateway.Manage != nil:
			out = append(out, Finding{OK, "listenerset", fmt.Sprintf("%s: Gateway %s/%s is this stack's and will allow it", name, ls.Gateway.Namespace, ls.Gateway.Name)})
		case gw == nil:
			out = append(out, Finding{Warning, "listenerset", fmt.Sprintf("%s: Gateway %s/%s does not exist", name, ls.Gateway.Namespace, ls.Gateway.Name)})
		default:
			if msg := refusesListenerSets(gw, ls.Namespace, nsLabels); msg != "" {
				out = append(out, Finding{Error, "listenerset", fmt.Sprintf("%s: Gateway %s/%s %s; its owner must allow them (spec.allowedListeners.namespaces)", name, gw.GetNamespace(), gw.GetName(), msg)})
			} else {
				out = append(out, Finding{OK, "listenerset", fmt.Sprintf("%s: Gateway %s/%s allows it", name, gw.GetNamespace(), gw.GetName())})
			}
		}
	}
	return out, nil
}

// refusesListenerSets explains why a Gateway does not allow ListenerSets
// from namespace ns, or returns "".
func refusesListenerSets(gw *unstructured.Unstructured, ns string, nsLabels map[string]map[string]string) string {
	from, _, _ := unstructured.NestedString(gw.Object, "spec", "allowedListeners", "namespaces", "from")
	switch from {
	case "All":
		return ""
	case "Same":
		if ns == gw.GetNamespace() {
			return ""
		}
		return fmt.Sprintf("only allows ListenerSets from its own namespace %q", gw.GetNamespace())
	case "Selector":
		raw, _, _ := unstructured.NestedMap(gw.Object, "spec", "allowedListeners", "namespaces", "selector")
		var sel metav1.LabelSelector
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel); err == nil {
			if s, err := metav1.LabelSelectorAsSelector(&sel); err == nil && s.Matches(labels.Set(nsLabels[ns])) {
				return ""
			}
		}
		return fmt.Sprintf("only allows ListenerSets from namespaces matching its selector, which %q does not match", ns)
	}
	return "allows no ListenerSets (spec.allowedListeners is not set, or from: None)"
}

var listenerSetGVK = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "ListenerSet"}

// setStatus reports what the Gateway's controller said of an applied
// ListenerSet, when it refused it (Accepted=False: NotAllowed,
// ParentNotAccepted, ListenersNotValid).
func setStatus(ls *hclspec.ListenerSet, live *unstructured.Unstructured) (Finding, bool) {
	if live == nil {
		return Finding{}, false
	}
	status, reason, msg := accepted(live)
	if status != "False" {
		return Finding{}, false
	}
	return Finding{Error, "listenerset", fmt.Sprintf("listener_set %q: ListenerSet %s/%s is not accepted (%s: %s)", ls.Label, ls.Namespace, ls.Name, reason, msg)}, true
}
