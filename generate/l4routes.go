package generate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// l4Route renders a tls_route, tcp_route or udp_route as the typed v1
// object. Gateway API allows exactly one rule on each of them, holding the
// route's backends.
func l4Route(r *hclspec.L4Route) runtime.Object {
	meta := metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace}
	typ := metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: r.Kind}
	common := gwv1.CommonRouteSpec{ParentRefs: parentRefs(r.Parents)}
	var refs []gwv1.BackendRef
	for _, b := range r.Backends {
		refs = append(refs, backendRef(r.Namespace, b))
	}
	switch r.Kind {
	case hclspec.TLSRouteKind:
		return &gwv1.TLSRoute{TypeMeta: typ, ObjectMeta: meta, Spec: gwv1.TLSRouteSpec{CommonRouteSpec: common,
			Hostnames: hostnames(r.Hostnames), Rules: []gwv1.TLSRouteRule{{BackendRefs: refs}}}}
	case hclspec.UDPRouteKind:
		return &gwv1.UDPRoute{TypeMeta: typ, ObjectMeta: meta, Spec: gwv1.UDPRouteSpec{CommonRouteSpec: common,
			Rules: []gwv1.UDPRouteRule{{BackendRefs: refs}}}}
	default:
		return &gwv1.TCPRoute{TypeMeta: typ, ObjectMeta: meta, Spec: gwv1.TCPRouteSpec{CommonRouteSpec: common,
			Rules: []gwv1.TCPRouteRule{{BackendRefs: refs}}}}
	}
}

// listenerL4 completes a TLS, TCP or UDP listener: the TLS mode of a TLS
// listener, and allowedRoutes.kinds naming the one route kind its protocol
// carries, so that no HTTPRoute lands on a TCP port (or the reverse) even
// when a route attaches to the whole Gateway. HTTP and HTTPS listeners keep
// the implementation's default kinds, as before.
func listenerL4(out *gwv1.Listener, l *hclspec.Listener) {
	if l.TLSMode != "" {
		if out.TLS == nil {
			out.TLS = &gwv1.ListenerTLSConfig{}
		}
		mode := gwv1.TLSModeType(l.TLSMode)
		out.TLS.Mode = &mode
	}
	if l.Protocol == "HTTP" || l.Protocol == "HTTPS" {
		return
	}
	group := gwv1.Group(gwv1.GroupName)
	for _, kind := range hclspec.ListenerKinds[l.Protocol] {
		out.AllowedRoutes.Kinds = append(out.AllowedRoutes.Kinds, gwv1.RouteGroupKind{Group: &group, Kind: gwv1.Kind(kind)})
	}
}
