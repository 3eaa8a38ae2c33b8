package plan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// checkListenerSet warns when a ListenerSet's Gateway is missing or does
// not allow it: a Gateway admits ListenerSets only through
// spec.allowedListeners, whose default is none.
func checkListenerSet(set *unstructured.Unstructured, gateways map[string]*unstructured.Unstructured, nsLabels map[string]map[string]string) []Warning {
	ns, _, _ := unstructured.NestedString(set.Object, "spec", "parentRef", "namespace")
	if ns == "" {
		ns = set.GetNamespace()
	}
	name, _, _ := unstructured.NestedString(set.Object, "spec", "parentRef", "name")
	gw := gateways[ns+"/"+name]
	if gw == nil {
		return []Warning{warn(set, "Gateway not found",
			"Gateway %s/%s does not exist in the cluster, so the listeners of this ListenerSet will not be served until it does.", ns, name)}
	}
	if msg := allowsListenerSet(gw, set.GetNamespace(), nsLabels); msg != "" {
		return []Warning{warn(set, "Gateway does not allow the ListenerSet",
			"Gateway %s/%s %s, so it will not attach this ListenerSet and its listeners carry no traffic. Its owner must allow them (spec.allowedListeners.namespaces).", ns, name, msg)}
	}
	return nil
}

// allowsListenerSet explains why a Gateway refuses ListenerSets from
// namespace ns, or returns "".
func allowsListenerSet(gw *unstructured.Unstructured, ns string, nsLabels map[string]map[string]string) string {
	from, _, _ := unstructured.NestedString(gw.Object, "spec", "allowedListeners", "namespaces", "from")
	switch from {
	case "All":
		return ""
	case "Same":
		if ns != gw.GetNamespace() {
			return fmt.Sprintf("only allows ListenerSets from its own namespace %q (allowedListeners.namespaces.from: Same)", gw.GetNamespace())
		}
		return ""
	case "Selector":
		raw, _, _ := unstructured.NestedMap(gw.Object, "spec", "allowedListeners", "namespaces", "selector")
		sel, err := selectorFrom(raw)
		if err != nil || !sel.Matches(labels.Set(nsLabels[ns])) {
			return fmt.Sprintf("only allows ListenerSets from namespaces matching its selector, and namespace %q does not match", ns)
		}
		return ""
	}
	return "allows no ListenerSets (spec.allowedListeners is not set, or from: None)"
}

// checkSetParent checks a route attached to a ListenerSet of the intent:
// the listener exists and admits the route. A ListenerSet the intent does
// not render is not checked (its listeners are not known here).
func checkSetParent(route *unstructured.Unstructured, ref ParentRef, sets map[string]*unstructured.Unstructured, nsLabels map[string]map[string]string) []Warning {
	set := sets[ref.Namespace+"/"+ref.Name]
	if set == nil {
		return nil
	}
	listeners, _, _ := unstructured.NestedSlice(set.Object, "spec", "listeners")
	for _, l := range listeners {
		lm, _ := l.(map[string]any)
		if name, _ := lm["name"].(string); ref.Section != "" && name != ref.Section {
			continue
		}
		if msg := admits(lm, set.GetNamespace(), route, nsLabels); msg != "" {
			return []Warning{warn(route, "Listener does not admit the route",
				"Listener %q of ListenerSet %s/%s %s.", lm["name"], set.GetNamespace(), set.GetName(), msg)}
		}
		return nil
	}
	return []Warning{warn(route, "Listener not found", "ListenerSet %s/%s has no listener named %q.", ref.Namespace, ref.Name, ref.Section)}
}
