package generate

import (
	"maps"
	"slices"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

var (
	gatewayTypeMeta = metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "Gateway"}
	httpRouteType   = metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"}
	grpcRouteType   = metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "GRPCRoute"}
	grantType       = metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "ReferenceGrant"}
)

// gateways renders the Gateways perimeter owns. Each listener admits routes
// from exactly the namespaces of the routes that attach to it, so a route of
// this stack can never be refused for its namespace.
func (c *compiler) gateways() {
	for _, g := range c.in.Gateways {
		if g.Manage == nil {
			continue
		}
		gw := &gwv1.Gateway{TypeMeta: gatewayTypeMeta, ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace},
			Spec: gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(g.Manage.Class)}}
		for _, l := range g.Manage.Listeners {
			gw.Spec.Listeners = append(gw.Spec.Listeners, c.listener(g, l))
		}
		gw.Spec.AllowedListeners = allowedListeners(g)
		c.add(gw, origins{g.Origin})
	}
}

func (c *compiler) listener(g *hclspec.Gateway, l *hclspec.Listener) gwv1.Listener {
	return c.listenerIn(g.Namespace, c.routeNamespaces(g, l.Name), l)
}

// listenerIn renders a listener of a Gateway or ListenerSet in namespace
// ns that admits routes from namespaces.
func (c *compiler) listenerIn(ns string, namespaces []string, l *hclspec.Listener) gwv1.Listener {
	out := gwv1.Listener{Name: gwv1.SectionName(l.Name), Port: gwv1.PortNumber(l.Port), Protocol: gwv1.ProtocolType(l.Protocol)}
	if l.Hostname != "" {
		h := gwv1.Hostname(l.Hostname)
		out.Hostname = &h
	}
	if len(l.Certificates) > 0 {
		out.TLS = &gwv1.ListenerTLSConfig{}
		for _, cert := range l.Certificates {
			out.TLS.CertificateRefs = append(out.TLS.CertificateRefs, gwv1.SecretObjectReference{Name: gwv1.ObjectName(cert)})
		}
	}
	from := gwv1.NamespacesFromSame
	routes := &gwv1.RouteNamespaces{From: &from}
	if len(namespaces) > 1 || (len(namespaces) == 1 && namespaces[0] != ns) {
		from = gwv1.NamespacesFromSelector
		routes.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: namespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: namespaces,
		}}}
	}
	out.AllowedRoutes = &gwv1.AllowedRoutes{Namespaces: routes}
	listenerL4(&out, l)
	return out
}

// routeNamespaces lists the namespaces of routes attaching to a listener.
func (c *compiler) routeNamespaces(g *hclspec.Gateway, listener string) []string {
	seen := map[string]bool{}
	visit := func(ns string, parents []hclspec.ParentRef) {
		for _, p := range parents {
			if p.Gateway == g && p.ListenerSet == nil && (p.Listener == "" || p.Listener == listener) {
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
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// routes renders the HTTP and gRPC routes.
func (c *compiler) routes() {
	for _, r := range c.in.HTTPRoutes {
		c.add(httpRoute(r), origins{r.Origin})
	}
	for _, r := range c.in.GRPCRoutes {
		c.add(grpcRoute(r), origins{r.Origin})
	}
	for _, r := range c.in.L4Routes {
		c.add(l4Route(r), origins{r.Origin})
	}
}

func parentRefs(parents []hclspec.ParentRef) []gwv1.ParentReference {
	var out []gwv1.ParentReference
	for _, p := range parents {
		ns := gwv1.Namespace(p.Gateway.Namespace)
		ref := gwv1.ParentReference{Name: gwv1.ObjectName(p.Gateway.Name), Namespace: &ns}
		if ls := p.ListenerSet; ls != nil {
			group, kind, setNS := gwv1.Group(gwv1.GroupName), gwv1.Kind("ListenerSet"), gwv1.Namespace(ls.Namespace)
			ref = gwv1.ParentReference{Group: &group, Kind: &kind, Name: gwv1.ObjectName(ls.Name), Namespace: &setNS}
		}
		if p.Listener != "" {
			s := gwv1.SectionName(p.Listener)
			ref.SectionName = &s
		}
		out = append(out, ref)
	}
	return out
}

func hostnames(hosts []string) []gwv1.Hostname {
	var out []gwv1.Hostname
	for _, h := range hosts {
		out = append(out, gwv1.Hostname(h))
	}
	return out
}

func backendRef(routeNS string, b hclspec.Backend) gwv1.BackendRef {
	port := gwv1.PortNumber(b.Service.Port)
	ref := gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(b.Service.Name), Port: &port}, Weight: b.Weight}
	if b.Service.Namespace != routeNS {
		ns := gwv1.Namespace(b.Service.Namespace)
		ref.Namespace = &ns
	}
	return ref
}

func httpRoute(r *hclspec.HTTPRoute) *gwv1.HTTPRoute {
	out := &gwv1.HTTPRoute{TypeMeta: httpRouteType, ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace}}
	out.Spec.ParentRefs = parentRefs(r.Parents)
	out.Spec.Hostnames = hostnames(r.Hostnames)
	for _, rule := range r.Rules {
		hr := gwv1.HTTPRouteRule{}
		for _, m := range rule.Matches {
			hr.Matches = append(hr.Matches, httpMatch(m))
		}
		for _, b := range rule.Backends {
			hr.BackendRefs = append(hr.BackendRefs, gwv1.HTTPBackendRef{BackendRef: backendRef(r.Namespace, b)})
		}
		if rule.Redirect != nil {
			hr.Filters = append(hr.Filters, redirectFilter(rule.Redirect))
		}
		if rule.Rewrite != nil {
			hr.Filters = append(hr.Filters, rewriteFilter(rule.Rewrite))
		}
		if rule.CORS != nil {
			hr.Filters = append(hr.Filters, corsFilter(rule.CORS))
		}
		if rule.Timeout != "" {
			d := gwv1.Duration(rule.Timeout)
			hr.Timeouts = &gwv1.HTTPRouteTimeouts{Request: &d}
		}
		out.Spec.Rules = append(out.Spec.Rules, hr)
	}
	return out
}

func httpMatch(m hclspec.HTTPMatch) gwv1.HTTPRouteMatch {
	out := gwv1.HTTPRouteMatch{}
	if m.Path != "" {
		t := gwv1.PathMatchType(m.PathType)
		v := m.Path
		out.Path = &gwv1.HTTPPathMatch{Type: &t, Value: &v}
	}
	exact := gwv1.HeaderMatchExact
	for _, k := range sortedKeys(m.Headers) {
		out.Headers = append(out.Headers, gwv1.HTTPHeaderMatch{Type: &exact, Name: gwv1.HTTPHeaderName(k), Value: m.Headers[k]})
	}
	qexact := gwv1.QueryParamMatchExact
	for _, k := range sortedKeys(m.Query) {
		out.QueryParams = append(out.QueryParams, gwv1.HTTPQueryParamMatch{Type: &qexact, Name: gwv1.HTTPHeaderName(k), Value: m.Query[k]})
	}
	if m.Method != "" {
		method := gwv1.HTTPMethod(m.Method)
		out.Method = &method
	}
	return out
}

func pathModifier(full, prefix string) *gwv1.HTTPPathModifier {
	switch {
	case full != "":
		return &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: &full}
	case prefix != "":
		return &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: &prefix}
	}
	return nil
}

func redirectFilter(r *hclspec.Redirect) gwv1.HTTPRouteFilter {
	f := &gwv1.HTTPRequestRedirectFilter{Path: pathModifier(r.FullPath, r.PrefixPath)}
	if r.Scheme != "" {
		f.Scheme = &r.Scheme
	}
	if r.Hostname != "" {
		h := gwv1.PreciseHostname(r.Hostname)
		f.Hostname = &h
	}
	if r.Port != 0 {
		p := gwv1.PortNumber(r.Port)
		f.Port = &p
	}
	code := r.StatusCode
	f.StatusCode = &code
	return gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: f}
}

func rewriteFilter(r *hclspec.Rewrite) gwv1.HTTPRouteFilter {
	f := &gwv1.HTTPURLRewriteFilter{Path: pathModifier(r.FullPath, r.PrefixPath)}
	if r.Hostname != "" {
		h := gwv1.PreciseHostname(r.Hostname)
		f.Hostname = &h
	}
	return gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: f}
}

// corsDefaultMaxAge is the CRD's default for maxAge, written out so that
// the object perimeter applies is the object the API server stores.
const corsDefaultMaxAge = 5

func corsFilter(c *hclspec.CORS) gwv1.HTTPRouteFilter {
	f := &gwv1.HTTPCORSFilter{MaxAge: c.MaxAge}
	if f.MaxAge == 0 {
		f.MaxAge = corsDefaultMaxAge
	}
	for _, o := range c.AllowOrigins {
		f.AllowOrigins = append(f.AllowOrigins, gwv1.CORSOrigin(o))
	}
	for _, m := range c.AllowMethods {
		f.AllowMethods = append(f.AllowMethods, gwv1.HTTPMethodWithWildcard(m))
	}
	for _, h := range c.AllowHeaders {
		f.AllowHeaders = append(f.AllowHeaders, gwv1.HTTPHeaderName(h))
	}
	for _, h := range c.ExposeHeaders {
		f.ExposeHeaders = append(f.ExposeHeaders, gwv1.HTTPHeaderName(h))
	}
	if c.AllowCredentials {
		t := true
		f.AllowCredentials = &t
	}
	return gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterCORS, CORS: f}
}

func grpcRoute(r *hclspec.GRPCRoute) *gwv1.GRPCRoute {
	out := &gwv1.GRPCRoute{TypeMeta: grpcRouteType, ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace}}
	out.Spec.ParentRefs = parentRefs(r.Parents)
	out.Spec.Hostnames = hostnames(r.Hostnames)
	for _, rule := range r.Rules {
		gr := gwv1.GRPCRouteRule{}
		for _, m := range rule.Matches {
			gm := gwv1.GRPCRouteMatch{}
			if m.Service != "" || m.Method != "" {
				exact := gwv1.GRPCMethodMatchExact
				gm.Method = &gwv1.GRPCMethodMatch{Type: &exact}
				if m.Service != "" {
					gm.Method.Service = &m.Service
				}
				if m.Method != "" {
					gm.Method.Method = &m.Method
				}
			}
			hexact := gwv1.GRPCHeaderMatchExact
			for _, k := range sortedKeys(m.Headers) {
				gm.Headers = append(gm.Headers, gwv1.GRPCHeaderMatch{Type: &hexact, Name: gwv1.GRPCHeaderName(k), Value: m.Headers[k]})
			}
			gr.Matches = append(gr.Matches, gm)
		}
		for _, b := range rule.Backends {
			gr.BackendRefs = append(gr.BackendRefs, gwv1.GRPCBackendRef{BackendRef: backendRef(r.Namespace, b)})
		}
		out.Spec.Rules = append(out.Spec.Rules, gr)
	}
	return out
}

// referenceGrants admits cross-namespace backend references: one grant per
// (backend namespace, route namespace), naming exactly the services used.
func (c *compiler) referenceGrants() {
	type key struct{ to, from string }
	type grant struct {
		kinds    map[string]bool
		services map[string]bool
		from     origins
	}
	grants := map[key]*grant{}
	visit := func(kind, routeNS string, o hclspec.Origin, backends []hclspec.Backend) {
		for _, b := range backends {
			if b.Service.Namespace == routeNS {
				continue
			}
			k := key{b.Service.Namespace, routeNS}
			g := grants[k]
			if g == nil {
				g = &grant{kinds: map[string]bool{}, services: map[string]bool{}}
				grants[k] = g
			}
			g.kinds[kind] = true
			g.services[b.Service.Name] = true
			g.from = append(g.from, o)
		}
	}
	for _, r := range c.in.HTTPRoutes {
		for _, rule := range r.Rules {
			visit("HTTPRoute", r.Namespace, r.Origin, rule.Backends)
		}
	}
	for _, r := range c.in.GRPCRoutes {
		for _, rule := range r.Rules {
			visit("GRPCRoute", r.Namespace, r.Origin, rule.Backends)
		}
	}
	for _, r := range c.in.L4Routes {
		visit(r.Kind, r.Namespace, r.Origin, r.Backends)
	}
	keys := make([]key, 0, len(grants))
	for k := range grants {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].to < keys[j].to || (keys[i].to == keys[j].to && keys[i].from < keys[j].from)
	})
	for _, k := range keys {
		g := grants[k]
		rg := &gwv1.ReferenceGrant{TypeMeta: grantType,
			ObjectMeta: metav1.ObjectMeta{Name: objectName("routes-from", k.from), Namespace: k.to}}
		for _, kind := range sortedKeys(g.kinds) {
			rg.Spec.From = append(rg.Spec.From, gwv1.ReferenceGrantFrom{Group: gwv1.GroupName, Kind: gwv1.Kind(kind), Namespace: gwv1.Namespace(k.from)})
		}
		for _, svc := range sortedKeys(g.services) {
			name := gwv1.ObjectName(svc)
			rg.Spec.To = append(rg.Spec.To, gwv1.ReferenceGrantTo{Group: "", Kind: "Service", Name: &name})
		}
		c.add(rg, g.from)
	}
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
