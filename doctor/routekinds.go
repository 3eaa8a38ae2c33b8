package doctor

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/hclspec"
)

var gatewayGVK = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}

// gatewayUse is what the intent asks of one gateway: the route kinds
// attached to it (with the Gateway API feature each needs), per listener.
type gatewayUse struct {
	g *hclspec.Gateway
	// kinds by listener name; "" for routes attached to the whole Gateway
	kinds map[string]map[string]bool
	// sets are the kinds attached to the gateway's listener sets, by set
	// and listener: a set's listener names may repeat the Gateway's.
	sets map[*hclspec.ListenerSet]map[string]map[string]bool
}

// usesOf collects the route kinds the intent attaches to each gateway.
func usesOf(in *hclspec.Intent) []*gatewayUse {
	byGateway := map[*hclspec.Gateway]*gatewayUse{}
	var order []*gatewayUse
	add := func(kind string, parents []hclspec.ParentRef) {
		for _, p := range parents {
			u := byGateway[p.Gateway]
			if u == nil {
				u = &gatewayUse{g: p.Gateway, kinds: map[string]map[string]bool{}, sets: map[*hclspec.ListenerSet]map[string]map[string]bool{}}
				byGateway[p.Gateway] = u
				order = append(order, u)
			}
			u.add(p, kind)
		}
	}
	for _, r := range in.HTTPRoutes {
		add("HTTPRoute", r.Parents)
	}
	for _, r := range in.GRPCRoutes {
		add("GRPCRoute", r.Parents)
	}
	for _, r := range in.L4Routes {
		add(r.Kind, r.Parents)
	}
	return order
}

// features are the GatewayClass features the gateway's routes need: each
// route kind, and TLSRouteModeTerminate for a TLSRoute on a managed
// listener that terminates TLS.
func (u *gatewayUse) features() []string {
	set := map[string]bool{}
	for listener, kinds := range u.kinds {
		for k := range kinds {
			set[k] = true
			if k == hclspec.TLSRouteKind && terminates(u.g, listener) {
				set["TLSRouteModeTerminate"] = true
			}
		}
	}
	for ls, listeners := range u.sets {
		for listener, kinds := range listeners {
			for k := range kinds {
				set[k] = true
				if k == hclspec.TLSRouteKind && terminatesIn(ls.Listeners, listener) {
					set["TLSRouteModeTerminate"] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func terminates(g *hclspec.Gateway, listener string) bool {
	return g.Manage != nil && terminatesIn(g.Manage.Listeners, listener)
}

func terminatesIn(listeners []*hclspec.Listener, listener string) bool {
	for _, l := range listeners {
		if l.Name == listener && l.TLSMode == hclspec.TLSTerminate {
			return true
		}
	}
	return false
}

// routeKinds reports whether the cluster can serve the route kinds the
// intent uses: each gateway's GatewayClass lists them in
// status.supportedFeatures, and each live Gateway's listener a route
// attaches to lists its kind in status.listeners[].supportedKinds.
func routeKinds(ctx context.Context, r Reader, in *hclspec.Intent) ([]Finding, error) {
	uses := usesOf(in)
	if len(uses) == 0 {
		return nil, nil
	}
	classes, err := r.List(ctx, gatewayClassGVK, "", "")
	if meta.IsNoMatchError(err) {
		return nil, nil // gatewayAPI reports the missing CRDs
	}
	if err != nil {
		return nil, err
	}
	gateways, err := r.List(ctx, gatewayGVK, "", "")
	if err != nil && !meta.IsNoMatchError(err) {
		return nil, err
	}
	byClass := map[string]*unstructured.Unstructured{}
	for _, c := range classes {
		byClass[c.GetName()] = c
	}
	live := map[string]*unstructured.Unstructured{}
	for _, g := range gateways {
		live[g.GetNamespace()+"/"+g.GetName()] = g
	}
	liveSets, err := listLiveSets(ctx, r, uses)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, u := range uses {
		if slices.Equal(u.features(), []string{"HTTPRoute"}) {
			continue // core: every conformant implementation serves it
		}
		gw := live[u.g.Namespace+"/"+u.g.Name]
		out = append(out, classSupport(u, gw, byClass)...)
		out = append(out, listenerSupport(u, gw)...)
		out = append(out, setListenerSupport(u, liveSets)...)
	}
	return out, nil
}

// classSupport checks the gateway's GatewayClass supportedFeatures.
func classSupport(u *gatewayUse, gw *unstructured.Unstructured, byClass map[string]*unstructured.Unstructured) []Finding {
	class := ""
	if u.g.Manage != nil {
		class = u.g.Manage.Class
	} else if gw != nil {
		class, _, _ = unstructured.NestedString(gw.Object, "spec", "gatewayClassName")
	}
	name := "gateway." + u.g.Label
	if class == "" {
		return []Finding{{Warning, "gatewayclass", fmt.Sprintf("%s: Gateway %s/%s is not in the cluster, so whether its class supports %s is unknown",
			name, u.g.Namespace, u.g.Name, strings.Join(u.features(), ", "))}}
	}
	c := byClass[class]
	if c == nil {
		return []Finding{{Warning, "gatewayclass", fmt.Sprintf("%s: GatewayClass %s does not exist, so whether it supports %s is unknown",
			name, class, strings.Join(u.features(), ", "))}}
	}
	supported := supportedFeatures(c)
	if len(supported) == 0 {
		return []Finding{{Warning, "gatewayclass", fmt.Sprintf("%s: GatewayClass %s publishes no status.supportedFeatures, so whether it supports %s is unknown",
			name, class, strings.Join(u.features(), ", "))}}
	}
	var missing []string
	for _, f := range u.features() {
		if !supported[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return []Finding{{Error, "gatewayclass", fmt.Sprintf("%s: GatewayClass %s does not support %s (status.supportedFeatures); its routes will not be served",
			name, class, strings.Join(missing, ", "))}}
	}
	return []Finding{{OK, "gatewayclass", fmt.Sprintf("%s: GatewayClass %s supports %s", name, class, strings.Join(u.features(), ", "))}}
}

func supportedFeatures(c *unstructured.Unstructured) map[string]bool {
	list, _, _ := unstructured.NestedSlice(c.Object, "status", "supportedFeatures")
	out := map[string]bool{}
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if n, ok := m["name"].(string); ok {
				out[n] = true
			}
		}
	}
	return out
}

// listenerSupport checks, on a live Gateway the controller has reported
// on, that each listener a route names supports the route's kind.
// Listeners without status (not yet programmed) say nothing.
func listenerSupport(u *gatewayUse, gw *unstructured.Unstructured) []Finding {
	if gw == nil {
		return nil
	}
	kindsOf := supportedKinds(gw)
	var out []Finding
	for _, listener := range sortedKeys(u.kinds) {
		have, reported := kindsOf[listener]
		if listener == "" || !reported {
			continue
		}
		for _, kind := range sortedKeys(u.kinds[listener]) {
			if !slices.Contains(have, kind) {
				out = append(out, Finding{Error, "gatewayclass", fmt.Sprintf("gateway.%s: listener %q of Gateway %s/%s does not support %s (status.listeners supportedKinds: %s)",
					u.g.Label, listener, gw.GetNamespace(), gw.GetName(), kind, kindList(have))})
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
