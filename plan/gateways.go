package plan

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/ownership"
)

var (
	gatewayGVK   = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}
	namespaceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	routeGVKs    = []schema.GroupVersionKind{
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "GRPCRoute"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "TLSRoute"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "TCPRoute"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "UDPRoute"},
	}
)

// gatewayWarnings checks what a user needs before applying routes: the
// Gateway and listener exist, the listener admits the route's namespace and
// kind and hostnames, and no other route already claims a hostname on it.
// It costs one LIST of gateways, routes and namespaces.
func gatewayWarnings(ctx context.Context, r Reader, desired []*unstructured.Unstructured) ([]Warning, error) {
	var routes, sets []*unstructured.Unstructured
	gateways := map[string]*unstructured.Unstructured{}
	for _, o := range desired {
		switch o.GetKind() {
		case "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute":
			routes = append(routes, o)
		case "ListenerSet":
			sets = append(sets, o)
		case "Gateway":
			gateways[o.GetNamespace()+"/"+o.GetName()] = o // the intent's own
		}
	}
	if len(routes) == 0 && len(sets) == 0 {
		return nil, nil
	}
	live, err := r.List(ctx, gatewayGVK, "", "")
	if err != nil {
		return nil, err
	}
	for _, g := range live {
		if _, own := gateways[g.GetNamespace()+"/"+g.GetName()]; !own {
			gateways[g.GetNamespace()+"/"+g.GetName()] = g
		}
	}
	namespaces, err := r.List(ctx, namespaceGVK, "", "")
	if err != nil {
		return nil, err
	}
	nsLabels := map[string]map[string]string{}
	for _, n := range namespaces {
		nsLabels[n.GetName()] = n.GetLabels()
	}
	var others []*unstructured.Unstructured
	for _, gvk := range routeGVKs {
		objs, err := r.List(ctx, gvk, "", "")
		if meta.IsNoMatchError(err) {
			continue // a cluster without that route CRD has none of them
		}
		if err != nil {
			return nil, err
		}
		others = append(others, objs...)
	}
	var out []Warning
	for _, s := range sets {
		out = append(out, checkListenerSet(s, gateways, nsLabels)...)
	}
	setsByKey := map[string]*unstructured.Unstructured{}
	for _, s := range sets {
		setsByKey[s.GetNamespace()+"/"+s.GetName()] = s
	}
	for _, route := range routes {
		for _, ref := range ParentRefs(route) {
			if ref.Kind == "ListenerSet" {
				out = append(out, checkSetParent(route, ref, setsByKey, nsLabels)...)
				continue
			}
			out = append(out, checkParent(route, ref, gateways, nsLabels, others)...)
		}
	}
	out = append(out, pendingL4Claims(routes, others)...)
	return out, nil
}

// ParentRef is a route's reference to a Gateway or ListenerSet (Kind, and
// optionally a listener), with the kind and namespace defaulted as Gateway
// API does.
type ParentRef struct{ Kind, Namespace, Name, Section string }

// ParentRefs reads a route's spec.parentRefs.
func ParentRefs(route *unstructured.Unstructured) []ParentRef {
	refs, _, _ := unstructured.NestedSlice(route.Object, "spec", "parentRefs")
	var out []ParentRef
	for _, r := range refs {
		m, _ := r.(map[string]any)
		out = append(out, ParentRefOf(m, route.GetNamespace()))
	}
	return out
}

// ParentRefOf reads one parentRef; its namespace defaults to the route's.
func ParentRefOf(m map[string]any, routeNamespace string) ParentRef {
	p := ParentRef{Kind: "Gateway", Namespace: routeNamespace}
	if ns, ok := m["namespace"].(string); ok && ns != "" {
		p.Namespace = ns
	}
	if k, ok := m["kind"].(string); ok && k != "" {
		p.Kind = k
	}
	p.Name, _ = m["name"].(string)
	p.Section, _ = m["sectionName"].(string)
	return p
}

func warn(route *unstructured.Unstructured, summary, format string, args ...any) Warning {
	return Warning{Severity: WarningSeverity, Summary: summary, Detail: fmt.Sprintf(format, args...), Object: id(route),
		Source: firstSource(route), Block: annotation(route, ownership.AnnotationBlock)}
}

func checkParent(route *unstructured.Unstructured, ref ParentRef, gateways map[string]*unstructured.Unstructured,
	nsLabels map[string]map[string]string, others []*unstructured.Unstructured) []Warning {
	gw := gateways[ref.Namespace+"/"+ref.Name]
	if gw == nil {
		return []Warning{warn(route, "Gateway not found",
			"Gateway %s/%s does not exist in the cluster, so the route will not be served until it does.", ref.Namespace, ref.Name)}
	}
	listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
	var out []Warning
	matched := 0
	for _, l := range listeners {
		lm, _ := l.(map[string]any)
		name, _ := lm["name"].(string)
		if ref.Section != "" && name != ref.Section {
			continue
		}
		if ref.Section == "" && kindRefused(lm, route.GetKind()) != "" {
			continue // a route on the whole Gateway attaches where its kind fits
		}
		matched++
		if msg := admits(lm, gw.GetNamespace(), route, nsLabels); msg != "" {
			out = append(out, warn(route, "Listener does not admit the route",
				"Listener %q of Gateway %s/%s %s.", name, gw.GetNamespace(), gw.GetName(), msg))
			continue
		}
		out = append(out, hostnameClaims(route, gw, name, lm, others)...)
	}
	switch {
	case matched == 0 && ref.Section == "":
		out = append(out, warn(route, "No listener admits the route",
			"No listener of Gateway %s/%s accepts %s.", gw.GetNamespace(), gw.GetName(), route.GetKind()))
	case matched == 0:
		out = append(out, warn(route, "Listener not found",
			"Gateway %s/%s has no listener named %q.", gw.GetNamespace(), gw.GetName(), ref.Section))
	}
	return out
}

// admits explains why a listener refuses a route, or returns "".
func admits(listener map[string]any, gatewayNS string, route *unstructured.Unstructured, nsLabels map[string]map[string]string) string {
	from, _, _ := unstructured.NestedString(listener, "allowedRoutes", "namespaces", "from")
	switch from {
	case "", "Same":
		if route.GetNamespace() != gatewayNS {
			return fmt.Sprintf("only admits routes from its own namespace %q (allowedRoutes.namespaces.from: Same), and this route lives in %q", gatewayNS, route.GetNamespace())
		}
	case "Selector":
		raw, _, _ := unstructured.NestedMap(listener, "allowedRoutes", "namespaces", "selector")
		sel, err := selectorFrom(raw)
		if err != nil || !sel.Matches(labels.Set(nsLabels[route.GetNamespace()])) {
			return fmt.Sprintf("only admits routes from namespaces matching its selector, and namespace %q does not match", route.GetNamespace())
		}
	}
	if msg := kindRefused(listener, route.GetKind()); msg != "" {
		return msg
	}
	if lh, _ := listener["hostname"].(string); lh != "" {
		hosts, _, _ := unstructured.NestedStringSlice(route.Object, "spec", "hostnames")
		if len(hosts) > 0 && !anyOverlap(hosts, []string{lh}) {
			return fmt.Sprintf("serves hostname %q, which none of the route's hostnames %v match", lh, hosts)
		}
	}
	return ""
}

func selectorFrom(raw map[string]any) (labels.Selector, error) {
	var ls metav1.LabelSelector
	if err := runtimeConvert(raw, &ls); err != nil {
		return nil, err
	}
	return metav1.LabelSelectorAsSelector(&ls)
}

// hostnameClaims warns when another route already serves one of the route's
// hostnames on the same listener, or, for a TCPRoute or UDPRoute (which
// have no hostnames), when another route of its kind is on the listener.
func hostnameClaims(route, gw *unstructured.Unstructured, listener string, lm map[string]any, others []*unstructured.Unstructured) []Warning {
	hosts, _, _ := unstructured.NestedStringSlice(route.Object, "spec", "hostnames")
	var out []Warning
	for _, other := range others {
		if other.GetKind() == route.GetKind() && other.GetNamespace() == route.GetNamespace() && other.GetName() == route.GetName() {
			continue
		}
		if !attachesTo(other, gw, listener) || kindRefused(lm, other.GetKind()) != "" {
			continue // not on this listener, or refused by it: no competition
		}
		if sharesWholeListener(route.GetKind()) {
			if other.GetKind() == route.GetKind() {
				out = append(out, listenerClaim(route, other, fmt.Sprintf("Gateway %s/%s", gw.GetNamespace(), gw.GetName()), listener, others))
			}
			continue
		}
		theirs, _, _ := unstructured.NestedStringSlice(other.Object, "spec", "hostnames")
		if shared := overlap(hosts, theirs); len(shared) > 0 {
			out = append(out, warn(route, "Hostname already claimed",
				"%s %s/%s already serves %s on listener %q of Gateway %s/%s; the two routes will compete for its requests.",
				other.GetKind(), other.GetNamespace(), other.GetName(), strings.Join(shared, ", "), listener, gw.GetNamespace(), gw.GetName()))
		}
	}
	return out
}

func attachesTo(route, gw *unstructured.Unstructured, listener string) bool {
	for _, ref := range ParentRefs(route) {
		if ref.Kind == "Gateway" && ref.Namespace == gw.GetNamespace() && ref.Name == gw.GetName() && (ref.Section == "" || ref.Section == listener) {
			return true
		}
	}
	return false
}

// overlap lists hostnames of a that some hostname of b matches (either may
// be a wildcard); a route with no hostnames matches every hostname.
func overlap(a, b []string) []string {
	if len(a) == 0 || len(b) == 0 {
		if len(a) == 0 && len(b) == 0 {
			return []string{"every hostname"}
		}
		return append(a, b...)[:1]
	}
	var out []string
	for _, x := range a {
		for _, y := range b {
			if hostMatch(x, y) {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

func anyOverlap(a, b []string) bool { return len(overlap(a, b)) > 0 }

func hostMatch(x, y string) bool {
	switch {
	case x == y:
		return true
	case strings.HasPrefix(x, "*."):
		return strings.HasSuffix(y, x[1:])
	case strings.HasPrefix(y, "*."):
		return strings.HasSuffix(x, y[1:])
	}
	return false
}

func runtimeConvert(raw map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(raw, into)
}
