package reach

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// L4Route is a TLSRoute, TCPRoute or UDPRoute reduced to what decides
// which connections it serves: its parents, SNI hostnames (TLSRoute) and
// the backends of its one rule.
type L4Route struct {
	Kind, Namespace, Name string
	Annotations           map[string]string
	ParentRefs            []gwv1.ParentReference
	Hostnames             []gwv1.Hostname
	Backends              []gwv1.BackendRef
}

// l4Schemes maps a URL scheme to the route kind that serves it.
var l4Schemes = map[string]string{"tls": "TLSRoute", "tcp": "TCPRoute", "udp": "UDPRoute"}

// L4Kind is the route kind serving connections of a URL scheme (tls, tcp,
// udp), or "".
func L4Kind(scheme string) string { return l4Schemes[strings.ToLower(scheme)] }

// L4RoutesOf reads the TLSRoutes, TCPRoutes and UDPRoutes among objects.
func L4RoutesOf(objs []*unstructured.Unstructured) ([]L4Route, error) {
	var out []L4Route
	for _, u := range objs {
		if u.GroupVersionKind().Group != gwv1.GroupName {
			continue
		}
		route, ok, err := l4RouteOf(u)
		if err != nil {
			return nil, fmt.Errorf("%s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		if ok {
			out = append(out, route)
		}
	}
	return out, nil
}

func l4RouteOf(u *unstructured.Unstructured) (L4Route, bool, error) {
	route := L4Route{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Annotations: u.GetAnnotations()}
	from := func(obj any) error { return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj) }
	switch u.GetKind() {
	case "TLSRoute":
		var r gwv1.TLSRoute
		if err := from(&r); err != nil {
			return route, false, err
		}
		route.ParentRefs, route.Hostnames = r.Spec.ParentRefs, r.Spec.Hostnames
		for _, rule := range r.Spec.Rules {
			route.Backends = append(route.Backends, rule.BackendRefs...)
		}
	case "TCPRoute":
		var r gwv1.TCPRoute
		if err := from(&r); err != nil {
			return route, false, err
		}
		route.ParentRefs = r.Spec.ParentRefs
		for _, rule := range r.Spec.Rules {
			route.Backends = append(route.Backends, rule.BackendRefs...)
		}
	case "UDPRoute":
		var r gwv1.UDPRoute
		if err := from(&r); err != nil {
			return route, false, err
		}
		route.ParentRefs = r.Spec.ParentRefs
		for _, rule := range r.Spec.Rules {
			route.Backends = append(route.Backends, rule.BackendRefs...)
		}
	default:
		return route, false, nil
	}
	return route, true, nil
}

// L4Request is a connection as a gateway sees it: the route kind that can
// serve it, the SNI name (TLS only) and, when known, the listeners it
// arrives on (nil: not known, every listener).
type L4Request struct {
	Kind, Host string
	Listeners  []string
	// Sets are the gateway's ListenerSets ("namespace/name"): routes
	// attached to them are served by the gateway too.
	Sets []string
	// OnlySets leaves out routes attached to the gateway itself.
	OnlySets bool
}

// L4Match is the outcome of resolving a connection on one gateway: the
// route serving it, or, when several routes could and Gateway API leaves
// the choice to creation time or the implementation, all of them.
type L4Match struct {
	Route *L4Route
	// Host is the route hostname that matched (TLS).
	Host string
	// Tied are the routes that match equally well, when more than one does:
	// which of them serves is not known to perimeter.
	Tied []*L4Route
}

// ResolveL4 finds the route of the given kind attached to Gateway ns/name
// that serves req: for TLS, the most specific SNI hostname (a precise name,
// then the longest wildcard). TCP and UDP routes have nothing to tell them
// apart, so two on one listener are a tie (the oldest wins in Gateway API,
// and creation times are not in the intent).
func ResolveL4(routes []L4Route, ns, name string, req L4Request) (L4Match, bool) {
	type cand struct {
		r    *L4Route
		host string
	}
	var cands []cand
	for i := range routes {
		r := &routes[i]
		if r.Kind != req.Kind || !attachedL4(r, ns, name, req) {
			continue
		}
		host := ""
		if req.Kind == "TLSRoute" {
			h, ok := matchHostnames(r.Hostnames, req.Host)
			if !ok {
				continue
			}
			host = h
		}
		cands = append(cands, cand{r, host})
	}
	if len(cands) == 0 {
		return L4Match{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if a, b := hostRank(cands[i].host), hostRank(cands[j].host); a != b {
			return a > b
		}
		return cands[i].r.Namespace+"/"+cands[i].r.Name < cands[j].r.Namespace+"/"+cands[j].r.Name
	})
	m := L4Match{Route: cands[0].r, Host: cands[0].host}
	for _, c := range cands {
		if hostRank(c.host) == hostRank(m.Host) {
			m.Tied = append(m.Tied, c.r)
		}
	}
	if len(m.Tied) == 1 {
		m.Tied = nil
	}
	return m, true
}

func attachedL4(r *L4Route, ns, name string, req L4Request) bool {
	for _, p := range r.ParentRefs {
		pns := r.Namespace
		if p.Namespace != nil {
			pns = string(*p.Namespace)
		}
		if !onListener(p.SectionName, req.Listeners) {
			continue
		}
		if p.Kind != nil && *p.Kind == "ListenerSet" {
			if slices.Contains(req.Sets, pns+"/"+string(p.Name)) {
				return true
			}
			continue
		}
		if !req.OnlySets && string(p.Name) == name && pns == ns && (p.Kind == nil || *p.Kind == "Gateway") {
			return true
		}
	}
	return false
}
