package importer

import (
	"fmt"

	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayRoutes imports existing HTTPRoutes and GRPCRoutes: every rule the
// language expresses becomes a rule block; the rest is reported. Rendering
// the imported intent gives the routes back, so importing perimeter's own
// output yields the same intent (the round trip).
func (m *model) gatewayRoutes() {
	for _, r := range m.inHTTPRoutes {
		m.httpRoute(r)
	}
	for _, r := range m.inGRPCRoutes {
		m.grpcRoute(r)
	}
	m.gatewayL4Routes()
}

func (m *model) routeFor(kind, ns, name string, parents []gwv1.ParentReference, hosts []gwv1.Hostname, grpc bool) *route {
	obj := kind + " " + ns + "/" + name
	rt := &route{label: m.uniqueLabel(map[bool]string{false: "route", true: "grpc_route"}[grpc], name, ns+"/"+name),
		ns: ns, grpc: grpc, comments: []string{"from " + obj}}
	for _, h := range hosts {
		rt.hostnames = append(rt.hostnames, string(h))
	}
	for i, p := range parents {
		pns := ns
		if p.Namespace != nil {
			pns = string(*p.Namespace)
		}
		if pns != m.gwNS || string(p.Name) != m.gwName {
			m.note(obj, fmt.Sprintf("spec.parentRefs[%d]", i), Warning, "attached to Gateway %s/%s; the imported route attaches to %s/%s instead.", pns, p.Name, m.gwNS, m.gwName)
		}
		if p.SectionName != nil && string(*p.SectionName) != m.gwListener && i == 0 {
			rt.listener = string(*p.SectionName)
		}
	}
	m.namespace(ns)
	m.routes = append(m.routes, rt)
	return rt
}

func (m *model) httpRoute(r *gwv1.HTTPRoute) {
	obj := "HTTPRoute " + r.Namespace + "/" + r.Name
	rt := m.routeFor("HTTPRoute", r.Namespace, r.Name, r.Spec.ParentRefs, r.Spec.Hostnames, false)
	for i, hr := range r.Spec.Rules {
		item := fmt.Sprintf("spec.rules[%d]", i)
		rules, why := perMatch(hr.Matches, func(match gwv1.HTTPRouteMatch) (*rule, string) {
			return m.httpRule(r.Namespace, obj, match, hr)
		})
		if why != "" {
			m.note(obj, item, Dropped, "%s", why)
		}
		rt.rules = append(rt.rules, rules...)
	}
	m.dropEmpty(rt, obj)
}

// perMatch converts a route rule into one rule per match (a rule with
// several matches is the same as one rule per match with the same backends
// and filters; no match means "match everything"). If any match cannot be
// converted, the whole rule is left out and the reason returned.
func perMatch[M any](matches []M, convert func(M) (*rule, string)) ([]*rule, string) {
	if len(matches) == 0 {
		matches = []M{*new(M)}
	}
	var rules []*rule
	for _, match := range matches {
		out, why := convert(match)
		if why != "" {
			return nil, why
		}
		rules = append(rules, out)
	}
	return rules, ""
}

// dropEmpty leaves out a route none of whose rules could be imported.
func (m *model) dropEmpty(rt *route, obj string) {
	if len(rt.rules) == 0 {
		m.dropRoute()
		m.note(obj, "spec.rules", Dropped, "no rule could be imported, so the route is left out.")
	}
}

// httpRule converts one single-match rule, or says why it cannot.
func (m *model) httpRule(ns, obj string, match gwv1.HTTPRouteMatch, hr gwv1.HTTPRouteRule) (*rule, string) {
	out := &rule{path: "/"}
	if p := match.Path; p != nil {
		if p.Value != nil {
			out.path = *p.Value
		}
		switch {
		case p.Type == nil || *p.Type == gwv1.PathMatchPathPrefix:
		case *p.Type == gwv1.PathMatchExact:
			out.pathType = "exact"
		case *p.Type == gwv1.PathMatchRegularExpression:
			out.pathType = "regex"
		default:
			return nil, fmt.Sprintf("%s paths are not expressible", *p.Type)
		}
	}
	if match.Method != nil {
		out.method = string(*match.Method)
	}
	for _, q := range match.QueryParams {
		if q.Type != nil && *q.Type != gwv1.QueryParamMatchExact {
			return nil, "only exact query parameter matches are expressible"
		}
		if out.query == nil {
			out.query = map[string]string{}
		}
		out.query[string(q.Name)] = q.Value
	}
	for _, h := range match.Headers {
		if h.Type != nil && *h.Type != gwv1.HeaderMatchExact {
			return nil, "only exact header matches are expressible"
		}
		if out.headers == nil {
			out.headers = map[string]string{}
		}
		out.headers[string(h.Name)] = h.Value
	}
	refs := make([]gwv1.BackendRef, len(hr.BackendRefs))
	for i, b := range hr.BackendRefs {
		refs[i] = b.BackendRef
	}
	var why string
	if out.backends, why = m.backends(ns, obj, refs); why != "" {
		return nil, why
	}
	if hr.Timeouts != nil && hr.Timeouts.Request != nil {
		out.timeout = string(*hr.Timeouts.Request)
	}
	for _, f := range hr.Filters {
		if why := out.filter(f); why != "" {
			return nil, why
		}
	}
	return out, ""
}

// corsDefaultMaxAge is the CRD's default CORS maxAge, which perimeter writes
// out and the import leaves implicit.
const corsDefaultMaxAge = 5

// filter applies a redirect, rewrite or CORS filter to the rule.
func (r *rule) filter(f gwv1.HTTPRouteFilter) string {
	switch {
	case f.Type == gwv1.HTTPRouteFilterRequestRedirect && f.RequestRedirect != nil:
		rd := f.RequestRedirect
		out := &redirect{status: 302}
		if rd.Scheme != nil {
			out.scheme = *rd.Scheme
		}
		if rd.Hostname != nil {
			out.hostname = string(*rd.Hostname)
		}
		if rd.Port != nil {
			out.port = int32(*rd.Port)
		}
		if rd.StatusCode != nil {
			out.status = *rd.StatusCode
		}
		if p := rd.Path; p != nil {
			if p.ReplaceFullPath == nil {
				return "redirects replacing a path prefix are not imported yet"
			}
			out.path = *p.ReplaceFullPath
		}
		r.redirect = out
	case f.Type == gwv1.HTTPRouteFilterCORS && f.CORS != nil:
		c := f.CORS
		out := &corsBlock{credentials: c.AllowCredentials != nil && *c.AllowCredentials}
		if c.MaxAge != corsDefaultMaxAge {
			out.maxAge = c.MaxAge
		}
		for _, o := range c.AllowOrigins {
			out.origins = append(out.origins, string(o))
		}
		for _, x := range c.AllowMethods {
			out.methods = append(out.methods, string(x))
		}
		for _, x := range c.AllowHeaders {
			out.headers = append(out.headers, string(x))
		}
		for _, x := range c.ExposeHeaders {
			out.expose = append(out.expose, string(x))
		}
		if len(out.origins) == 0 && len(out.methods) == 0 && len(out.headers) == 0 && len(out.expose) == 0 && !out.credentials && out.maxAge == 0 {
			return "a CORS filter that allows nothing is not expressible"
		}
		r.cors = out
	case f.Type == gwv1.HTTPRouteFilterURLRewrite && f.URLRewrite != nil && (f.URLRewrite.Hostname != nil || f.URLRewrite.Path != nil):
		if h := f.URLRewrite.Hostname; h != nil {
			r.rewriteHost = string(*h)
		}
		p := f.URLRewrite.Path
		switch {
		case p == nil:
		case p.ReplacePrefixMatch != nil && r.pathType == "":
			r.rewritePrefix = *p.ReplacePrefixMatch
		case p.ReplaceFullPath != nil:
			r.rewriteFull = *p.ReplaceFullPath
		default:
			return "this path rewrite is not imported yet"
		}
	default:
		return fmt.Sprintf("%s filters are not imported yet", f.Type)
	}
	return ""
}

// backendRef resolves a Service backend to its service block.
// backends converts a rule's backend references, or says why they are not
// expressible; a lone backend of the default weight is written without one.
func (m *model) backends(ns, obj string, refs []gwv1.BackendRef) ([]backend, string) {
	var out []backend
	for _, b := range refs {
		be, why := m.backendRef(ns, obj, b)
		if why != "" {
			return nil, why
		}
		out = append(out, be)
	}
	if len(out) == 1 && out[0].weight == 1 {
		out[0].weight = 0
	}
	return out, ""
}

func (m *model) backendRef(ns, obj string, b gwv1.BackendRef) (backend, string) {
	if (b.Kind != nil && *b.Kind != "Service") || (b.Group != nil && *b.Group != "") {
		return backend{}, "only Service backends are expressible"
	}
	if b.Port == nil {
		return backend{}, "a backend without a port is not expressible"
	}
	if errs := validation.IsDNS1035Label(string(b.Name)); len(errs) > 0 {
		return backend{}, fmt.Sprintf("%q is not a Service name", b.Name)
	}
	bns := ns
	if b.Namespace != nil {
		bns = string(*b.Namespace)
	}
	svc := m.serviceBlock(obj, bns, string(b.Name), netv1.ServiceBackendPort{Number: int32(*b.Port)})
	w := int32(1)
	if b.Weight != nil {
		w = *b.Weight
	}
	return backend{svc: svc, weight: w}, ""
}

func (m *model) grpcRoute(r *gwv1.GRPCRoute) {
	obj := "GRPCRoute " + r.Namespace + "/" + r.Name
	rt := m.routeFor("GRPCRoute", r.Namespace, r.Name, r.Spec.ParentRefs, r.Spec.Hostnames, true)
	for i, gr := range r.Spec.Rules {
		item := fmt.Sprintf("spec.rules[%d]", i)
		if len(gr.Filters) > 0 {
			m.note(obj, item, Dropped, "gRPC filters are not imported yet.")
			continue
		}
		rules, why := perMatch(gr.Matches, func(match gwv1.GRPCRouteMatch) (*rule, string) {
			return m.grpcRule(r.Namespace, obj, match, gr)
		})
		if why != "" {
			m.note(obj, item, Dropped, "%s", why)
		}
		rt.rules = append(rt.rules, rules...)
	}
	m.dropEmpty(rt, obj)
}

// grpcRule converts one match of a GRPCRoute rule, or says why it cannot.
func (m *model) grpcRule(ns, obj string, match gwv1.GRPCRouteMatch, gr gwv1.GRPCRouteRule) (*rule, string) {
	out := &rule{path: "/"}
	if mm := match.Method; mm != nil {
		if mm.Type != nil && *mm.Type != gwv1.GRPCMethodMatchExact {
			return nil, "only exact gRPC service and method matches are expressible"
		}
		if mm.Service != nil {
			out.grpcService = *mm.Service
		}
		if mm.Method != nil {
			out.grpcMethod = *mm.Method
		}
	}
	for _, h := range match.Headers {
		if h.Type != nil && *h.Type != gwv1.GRPCHeaderMatchExact {
			return nil, "only exact header matches are expressible"
		}
		if out.headers == nil {
			out.headers = map[string]string{}
		}
		out.headers[string(h.Name)] = h.Value
	}
	refs := make([]gwv1.BackendRef, len(gr.BackendRefs))
	for i, b := range gr.BackendRefs {
		refs[i] = b.BackendRef
	}
	var why string
	if out.backends, why = m.backends(ns, obj, refs); why != "" {
		return nil, why
	}
	return out, ""
}
