package generate

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

var listenerSetType = metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "ListenerSet"}

// listenerSets renders each listener_set as a ListenerSet attached to its
// Gateway. Each listener admits routes from exactly the namespaces of the
// routes attached to it, as a managed Gateway's listeners do.
func (c *compiler) listenerSets() {
	for _, ls := range c.in.ListenerSets {
		out := &gwv1.ListenerSet{TypeMeta: listenerSetType, ObjectMeta: metav1.ObjectMeta{Name: ls.Name, Namespace: ls.Namespace}}
		out.Spec.ParentRef = gwv1.ParentGatewayReference{Name: gwv1.ObjectName(ls.Gateway.Name)}
		if ls.Gateway.Namespace != ls.Namespace {
			ns := gwv1.Namespace(ls.Gateway.Namespace)
			out.Spec.ParentRef.Namespace = &ns
		}
		for _, l := range ls.Listeners {
			gl := c.listenerIn(ls.Namespace, c.setRouteNamespaces(ls, l.Name), l)
			out.Spec.Listeners = append(out.Spec.Listeners, gwv1.ListenerEntry{Name: gl.Name, Hostname: gl.Hostname, Port: gl.Port,
				Protocol: gl.Protocol, TLS: gl.TLS, AllowedRoutes: gl.AllowedRoutes})
		}
		c.add(out, origins{ls.Origin})
	}
}

// setRouteNamespaces lists the namespaces of routes attaching to a
// listener of a listener set.
func (c *compiler) setRouteNamespaces(ls *hclspec.ListenerSet, listener string) []string {
	seen := map[string]bool{}
	visit := func(ns string, parents []hclspec.ParentRef) {
		for _, p := range parents {
			if p.ListenerSet == ls && (p.Listener == "" || p.Listener == listener) {
				seen[ns] = true
			}
		}
	}
	for _, r := range c.in.HTTPRoutes {
		visit(r.Namespace, r.Parents)
	}
	for _, r := range c.in.GRPCRoutes {
		visit(r.Namespace, r.Parents)
	}
	for _, r := range c.in.L4Routes {
		visit(r.Namespace, r.Parents)
	}
	return sortedKeys(seen)
}

// allowedListeners lets the listener sets of the stack attach to a Gateway
// it manages: from their namespaces only. Nil when it has none, which
// keeps the Gateway API default (no ListenerSets).
func allowedListeners(g *hclspec.Gateway) *gwv1.AllowedListeners {
	if len(g.ListenerSets) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, ls := range g.ListenerSets {
		seen[ls.Namespace] = true
	}
	namespaces := sortedKeys(seen)
	from := gwv1.NamespacesFromSelector
	if len(namespaces) == 1 && namespaces[0] == g.Namespace {
		from = gwv1.NamespacesFromSame
		return &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: &from}}
	}
	sort.Strings(namespaces)
	return &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: &from, Selector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: namespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: namespaces}},
	}}}
}
