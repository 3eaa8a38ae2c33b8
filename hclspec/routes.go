package hclspec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var routeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "namespace"}, {Name: "gateway", Required: true}, {Name: "listener"}, {Name: "hostnames"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "rule"}},
}

var httpMatchAttrs = []hcl.AttributeSchema{
	{Name: "path"}, {Name: "path_type"}, {Name: "headers"}, {Name: "query"}, {Name: "method"},
}

var httpRuleSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{{Name: "backend"}, {Name: "backends"}, {Name: "timeout"}}, httpMatchAttrs...),
	Blocks:     []hcl.BlockHeaderSchema{{Type: "match"}, {Type: "redirect"}, {Type: "rewrite"}, {Type: "cors"}},
}

var httpMatchSchema = &hcl.BodySchema{Attributes: httpMatchAttrs}

var redirectSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "scheme"}, {Name: "hostname"}, {Name: "port"}, {Name: "path"}, {Name: "prefix"}, {Name: "status"},
}}

var rewriteSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "hostname"}, {Name: "path"}, {Name: "prefix"},
}}

// routeHead is what HTTP and gRPC routes share.
type routeHead struct {
	name, namespace string
	parents         []ParentRef
	hostnames       []string
}

func (d *decoder) decodeRouteHead(b *hcl.Block, r *body) routeHead {
	h := routeHead{name: r.str("name", b.Labels[0])}
	if msg := validateObjectName(h.name); msg != "" {
		rng := r.attrRange("name")
		if !r.has("name") {
			rng = b.LabelRanges[0]
		}
		r.errorf(rng, "Invalid route name", "%q cannot name a Kubernetes object: %s. Set name = \"...\".", h.name, msg)
	}
	if r.has("namespace") {
		h.namespace = d.namespaceAttr(r)
	}
	listener := r.str("listener", "")
	if listener != "" {
		d.checkName(r, "listener", listener, validateDNSLabel)
	}
	h.parents = d.parentRefs(r, listener)
	h.hostnames = r.strList("hostnames")
	for _, host := range h.hostnames {
		if msg := validateHostname(host); msg != "" {
			r.errorf(r.attrRange("hostnames"), "Invalid hostname", "%q: %s.", host, msg)
		}
	}
	if len(h.hostnames) > 16 {
		r.errorf(r.attrRange("hostnames"), "Too many hostnames", "A route may list at most 16 hostnames.")
	}
	if len(r.blocks) == 0 {
		r.errorf(b.DefRange, "Route without rules", "Route %q needs at least one rule { ... } block with a backend or a redirect.", b.Labels[0])
	}
	if len(r.blocks) > 16 {
		r.errorf(r.blocks[16].DefRange, "Too many rules", "A route may have at most 16 rules.")
	}
	return h
}

// parentRefs reads `gateway`: one gateway.NAME or a list of them.
func (d *decoder) parentRefs(r *body, listener string) []ParentRef {
	a, ok := r.attrs["gateway"]
	if !ok {
		return nil
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		exprs = []hcl.Expression{a.Expr}
	}
	var out []ParentRef
	for _, x := range exprs {
		v, diags := x.Value(r.ctx)
		r.diags = append(r.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		if kindOf(v) == "listener_set" {
			if p, ok := d.listenerSetParent(r, v, listener); ok {
				out = append(out, p)
			}
			continue
		}
		g := d.refs.gateways[strAttr(v, "id")]
		if kindOf(v) != "gateway" || g == nil {
			r.errorf(x.Range(), "Invalid gateway reference", "\"gateway\" must be gateway.NAME or listener_set.NAME, naming a gateway or listener_set block, or a list of them.")
			continue
		}
		l := listener
		if l == "" {
			l = g.Listener
		}
		if g.Manage != nil && l != "" && !managesListener(g, l) {
			r.errorf(r.attrRange("listener"), "Unknown listener", "Gateway %q manages no listener named %q.", g.Label, l)
		}
		out = append(out, ParentRef{Gateway: g, Listener: l})
	}
	return out
}

func managesListener(g *Gateway, name string) bool {
	for _, l := range g.Manage.Listeners {
		if l.Name == name {
			return true
		}
	}
	return false
}

// routeNamespace settles where a route lives: its namespace attribute, or
// else the one namespace all its backends share.
func routeNamespace(r *body, b *hcl.Block, explicit string, backends []Backend) string {
	if explicit != "" {
		return explicit
	}
	seen := map[string]bool{}
	for _, be := range backends {
		seen[be.Service.Namespace] = true
	}
	if len(seen) == 1 {
		return backends[0].Service.Namespace
	}
	if !r.diags.HasErrors() {
		r.errorf(b.DefRange, "Route namespace needed",
			"Route %q has backends in %d namespaces (or none); set namespace = \"...\" to say where the route object lives.", b.Labels[0], len(seen))
	}
	return ""
}

// decodedRoute is what HTTP and gRPC route blocks decode to, before the
// rules take their protocol's type.
type decodedRoute[R any] struct {
	head      routeHead
	rules     []R
	namespace string
}

// decodeRoute reads one route block: the shared head, each rule through
// rule (which also returns the rule's backends), and the route's namespace.
func decodeRoute[R any](d *decoder, b *hcl.Block, rule func(*hcl.Block) (R, []Backend)) decodedRoute[R] {
	r := open(b.Body, routeSchema, d.ctx, b.DefRange)
	out := decodedRoute[R]{head: d.decodeRouteHead(b, r)}
	var all []Backend
	before := len(d.diags.Errs())
	for _, rb := range r.blocks {
		decoded, backends := rule(rb)
		out.rules = append(out.rules, decoded)
		all = append(all, backends...)
	}
	if len(d.diags.Errs()) == before { // no namespace guess over broken rules
		out.namespace = routeNamespace(r, b, out.head.namespace, all)
	}
	d.diags = append(d.diags, r.diags...)
	return out
}

// decodeHTTPRoutes reads route blocks.
func (d *decoder) decodeHTTPRoutes(in *Intent) {
	for _, b := range d.blocks["route"] {
		if !d.unique(b) {
			continue
		}
		rt := decodeRoute(d, b, func(blk *hcl.Block) (*HTTPRule, []Backend) { r := d.httpRule(blk); return r, r.Backends })
		in.HTTPRoutes = append(in.HTTPRoutes, &HTTPRoute{Label: b.Labels[0], Name: rt.head.name, Namespace: rt.namespace,
			Parents: rt.head.parents, Hostnames: rt.head.hostnames, Rules: rt.rules, Origin: origin(b)})
	}
}

func (d *decoder) httpRule(b *hcl.Block) *HTTPRule {
	r := open(b.Body, httpRuleSchema, d.ctx, b.DefRange)
	rule := &HTTPRule{Range: b.DefRange}
	if m, ok := httpMatch(r); ok {
		rule.Matches = append(rule.Matches, m)
	}
	for _, blk := range r.blocks {
		switch blk.Type {
		case "match":
			mr := open(blk.Body, httpMatchSchema, d.ctx, blk.DefRange)
			if !ruleHasMatchBlocksOnly(r) {
				mr.errorf(blk.DefRange, "Conflicting matches", "Use either match attributes on the rule or match blocks, not both.")
			}
			if m, ok := httpMatch(mr); ok {
				rule.Matches = append(rule.Matches, m)
			} else if !mr.diags.HasErrors() {
				mr.errorf(blk.DefRange, "Empty match", "A match block needs path, headers, query or method.")
			}
			d.diags = append(d.diags, mr.diags...)
		case "redirect":
			rule.Redirect = d.redirect(blk)
		case "rewrite":
			rule.Rewrite = d.rewrite(blk)
		case "cors":
			if rule.CORS != nil {
				r.errorf(blk.DefRange, "Duplicate cors block", "A rule has at most one cors block (the CORS filter cannot be repeated).")
				continue
			}
			rule.CORS = d.cors(blk)
		}
	}
	rule.Backends = d.backends(r)
	rule.Timeout = r.str("timeout", "")
	if rule.Timeout != "" && !duration.MatchString(rule.Timeout) {
		r.errorf(r.attrRange("timeout"), "Invalid timeout", "%q is not a Gateway API duration such as \"10s\", \"1m30s\" or \"500ms\".", rule.Timeout)
	}
	checkHTTPRule(r, rule)
	d.diags = append(d.diags, r.diags...)
	return rule
}

func ruleHasMatchBlocksOnly(r *body) bool { return hasNoneOf(r, httpMatchAttrs) }

// hasNoneOf reports whether the body sets none of attrs.
func hasNoneOf(r *body, attrs []hcl.AttributeSchema) bool {
	for _, a := range attrs {
		if r.has(a.Name) {
			return false
		}
	}
	return true
}

// checkHTTPRule applies the rules the HTTPRoute CRD enforces with CEL.
func checkHTTPRule(r *body, rule *HTTPRule) {
	switch {
	case len(rule.Backends) == 0 && rule.Redirect == nil && !r.diags.HasErrors():
		r.errorf(rule.Range, "Rule without backend", "Each rule needs backend = service.NAME (or backends = [...]) or a redirect block.")
	case len(rule.Backends) > 0 && rule.Redirect != nil:
		r.errorf(rule.Range, "Redirect with backends", "A rule that redirects sends no traffic to backends; remove the backend or the redirect.")
	case rule.Redirect != nil && rule.Rewrite != nil:
		r.errorf(rule.Range, "Redirect with rewrite", "A rule may redirect or rewrite, not both.")
	}
	prefix := (rule.Redirect != nil && rule.Redirect.PrefixPath != "") || (rule.Rewrite != nil && rule.Rewrite.PrefixPath != "")
	if prefix && (len(rule.Matches) != 1 || rule.Matches[0].PathType != "PathPrefix") {
		r.errorf(rule.Range, "Prefix replacement needs one path prefix",
			"Replacing a path prefix needs exactly one match, with a prefix path.")
	}
	if len(rule.Matches) > 64 {
		r.errorf(rule.Range, "Too many matches", "A rule may have at most 64 matches.")
	}
}

// pathTypes maps path_type to Gateway API's HTTPPathMatch types. "regex"
// (RegularExpression) has implementation-specific support: its dialect and
// whether it must match the whole path are the gateway's.
var pathTypes = map[string]string{"prefix": "PathPrefix", "exact": "Exact", "regex": "RegularExpression"}

// httpMatch reads match attributes; ok is false when none is set.
func httpMatch(r *body) (HTTPMatch, bool) {
	m := HTTPMatch{Path: r.str("path", ""), Headers: r.strMap("headers"), Query: r.strMap("query"),
		Method: strings.ToUpper(r.str("method", ""))}
	pathType := r.str("path_type", "prefix")
	knownType := !r.has("path_type") || r.oneOf("path_type", pathType, "prefix", "exact", "regex")
	if r.has("path_type") && knownType && !r.has("path") {
		r.errorf(r.attrRange("path_type"), "path_type without path", "Set path as well.")
	}
	if r.has("path") && knownType { // an unknown type says nothing about the path
		m.PathType = pathTypes[pathType]
		check := validatePath
		if pathType == "regex" {
			check = validatePathRegex
		}
		if msg := check(m.Path); msg != "" {
			r.errorf(r.attrRange("path"), "Invalid path", "%q: %s.", m.Path, msg)
		}
	}
	for _, k := range sortedKeys(m.Headers) {
		if !headerName.MatchString(k) {
			r.errorf(r.attrRange("headers"), "Invalid header name", "%q is not an HTTP header name.", k)
		}
	}
	if m.Method != "" {
		r.oneOf("method", m.Method, "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
	}
	set := r.has("path") || len(m.Headers) > 0 || len(m.Query) > 0 || m.Method != ""
	return m, set
}

// validatePathRegex checks a RegularExpression path: the CRD only limits
// its length, so the check is that it is RE2, the dialect of the gateways
// perimeter knows (Envoy Gateway and Istio), which an API server would
// otherwise accept and the gateway reject after apply.
func validatePathRegex(p string) string {
	switch {
	case p == "":
		return "a path must not be empty"
	case len(p) > 1024:
		return "a path must be at most 1024 characters"
	}
	if _, err := regexp.Compile(p); err != nil {
		return fmt.Sprintf("not a regular expression (RE2 syntax): %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return ""
}

func (d *decoder) redirect(b *hcl.Block) *Redirect {
	r := open(b.Body, redirectSchema, d.ctx, b.DefRange)
	rd := &Redirect{Scheme: r.str("scheme", ""), Hostname: r.str("hostname", ""),
		FullPath: r.str("path", ""), PrefixPath: r.str("prefix", "")}
	rd.Port = int32(r.integer("port", 0, 1, 65535))
	rd.StatusCode = int(r.integer("status", 302, 301, 308))
	if r.has("status") {
		switch rd.StatusCode {
		case 301, 302, 303, 307, 308:
		default:
			r.errorf(r.attrRange("status"), "Invalid redirect status", "status must be 301, 302, 303, 307 or 308.")
		}
	}
	if rd.Scheme != "" {
		r.oneOf("scheme", rd.Scheme, "http", "https")
	}
	d.checkRewriteTargets(r, rd.Hostname, rd.FullPath, rd.PrefixPath)
	if *rd == (Redirect{StatusCode: rd.StatusCode}) && !r.has("status") && !r.diags.HasErrors() {
		r.errorf(b.DefRange, "Empty redirect", "A redirect needs at least one of scheme, hostname, port, path, prefix or status.")
	}
	d.diags = append(d.diags, r.diags...)
	return rd
}

func (d *decoder) rewrite(b *hcl.Block) *Rewrite {
	r := open(b.Body, rewriteSchema, d.ctx, b.DefRange)
	rw := &Rewrite{Hostname: r.str("hostname", ""), FullPath: r.str("path", ""), PrefixPath: r.str("prefix", "")}
	d.checkRewriteTargets(r, rw.Hostname, rw.FullPath, rw.PrefixPath)
	if *rw == (Rewrite{}) && !r.diags.HasErrors() {
		r.errorf(b.DefRange, "Empty rewrite", "A rewrite needs hostname, path or prefix.")
	}
	d.diags = append(d.diags, r.diags...)
	return rw
}

func (d *decoder) checkRewriteTargets(r *body, hostname, full, prefix string) {
	if hostname != "" {
		if msg := validateHostname(hostname); msg != "" || strings.HasPrefix(hostname, "*") {
			r.errorf(r.attrRange("hostname"), "Invalid hostname", "%q must be a precise hostname.", hostname)
		}
	}
	if full != "" && prefix != "" {
		r.errorf(r.attrRange("prefix"), "Conflicting paths", "Set path (replace the whole path) or prefix (replace the matched prefix), not both.")
	}
	for _, attr := range []string{"path", "prefix"} {
		if p := r.str(attr, ""); p != "" && !strings.HasPrefix(p, "/") {
			r.errorf(r.attrRange(attr), "Invalid path", "%q must start with '/'.", p)
		}
	}
}

// backends reads `backend = service.x` or `backends = [service.a, { service = service.b, weight = 10 }]`.
func (d *decoder) backends(r *body) []Backend {
	if r.has("backend") && r.has("backends") {
		r.errorf(r.attrRange("backends"), "Conflicting backends", "Use backend (one service) or backends (a weighted list), not both.")
		return nil
	}
	name := "backend"
	if r.has("backends") {
		name = "backends"
	}
	a, ok := r.attrs[name]
	if !ok {
		return nil
	}
	exprs := []hcl.Expression{a.Expr}
	if name == "backends" {
		list, diags := hcl.ExprList(a.Expr)
		if diags.HasErrors() {
			r.errorf(a.Expr.Range(), "Invalid backends", "\"backends\" must be a list: [service.a, { service = service.b, weight = 10 }].")
			return nil
		}
		exprs = list
	}
	var out []Backend
	for _, x := range exprs {
		v, diags := x.Value(r.ctx)
		r.diags = append(r.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		if be, ok := d.backend(r, v, x.Range()); ok {
			out = append(out, be)
		}
	}
	if len(out) > 16 {
		r.errorf(a.Expr.Range(), "Too many backends", "A rule may have at most 16 backends.")
	}
	return out
}

func (d *decoder) backend(r *body, v cty.Value, rng hcl.Range) (Backend, bool) {
	be := Backend{Range: rng}
	svc := v
	if kindOf(v) == "" && v.Type().IsObjectType() && v.Type().HasAttribute("service") {
		svc = v.GetAttr("service")
		for name := range v.Type().AttributeTypes() {
			if name != "service" && name != "weight" {
				r.errorf(rng, "Invalid backend", "A weighted backend has only service and weight; %q is not expected.", name)
				return be, false
			}
		}
		if v.Type().HasAttribute("weight") {
			w, ok := int64(0), false
			if wv := v.GetAttr("weight"); !wv.IsNull() && wv.Type() == cty.Number {
				w, ok = wholeNumber(wv.AsBigFloat(), 0, 1000000)
			}
			if !ok {
				r.errorf(rng, "Invalid weight", "A backend weight must be a whole number from 0 to 1000000.")
				return be, false
			}
			w32 := int32(w)
			be.Weight = &w32
		}
	}
	if kindOf(svc) != string(EndpointService) || d.refs.services[strAttr(svc, "id")] == nil {
		r.errorf(rng, "Invalid backend", "A backend is service.NAME, or { service = service.NAME, weight = N } in backends.")
		return be, false
	}
	be.Service = d.refs.services[strAttr(svc, "id")]
	return be, true
}

var grpcRuleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "grpc_service"}, {Name: "grpc_method"}, {Name: "headers"}, {Name: "backend"}, {Name: "backends"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "match"}},
}

var grpcMatchSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "grpc_service"}, {Name: "grpc_method"}, {Name: "headers"},
}}

// decodeGRPCRoutes reads grpc_route blocks.
func (d *decoder) decodeGRPCRoutes(in *Intent) {
	for _, b := range d.blocks["grpc_route"] {
		if !d.unique(b) {
			continue
		}
		rt := decodeRoute(d, b, func(blk *hcl.Block) (*GRPCRule, []Backend) { r := d.grpcRule(blk); return r, r.Backends })
		in.GRPCRoutes = append(in.GRPCRoutes, &GRPCRoute{Label: b.Labels[0], Name: rt.head.name, Namespace: rt.namespace,
			Parents: rt.head.parents, Hostnames: rt.head.hostnames, Rules: rt.rules, Origin: origin(b)})
	}
}

func (d *decoder) grpcRule(b *hcl.Block) *GRPCRule {
	r := open(b.Body, grpcRuleSchema, d.ctx, b.DefRange)
	rule := &GRPCRule{Range: b.DefRange}
	if m, ok := grpcMatch(r); ok {
		rule.Matches = append(rule.Matches, m)
	}
	for _, blk := range r.blocks {
		mr := open(blk.Body, grpcMatchSchema, d.ctx, blk.DefRange)
		if !hasNoneOf(r, grpcMatchSchema.Attributes) {
			mr.errorf(blk.DefRange, "Conflicting matches", "Use either match attributes on the rule or match blocks, not both.")
		}
		if m, ok := grpcMatch(mr); ok {
			rule.Matches = append(rule.Matches, m)
		} else if !mr.diags.HasErrors() {
			mr.errorf(blk.DefRange, "Empty match", "A match block needs grpc_service, grpc_method or headers.")
		}
		d.diags = append(d.diags, mr.diags...)
	}
	rule.Backends = d.backends(r)
	if len(rule.Backends) == 0 && !r.diags.HasErrors() {
		r.errorf(b.DefRange, "Rule without backend", "Each gRPC rule needs backend = service.NAME or backends = [...].")
	}
	d.diags = append(d.diags, r.diags...)
	return rule
}

func grpcMatch(r *body) (GRPCMatch, bool) {
	m := GRPCMatch{Service: r.str("grpc_service", ""), Method: r.str("grpc_method", ""), Headers: r.strMap("headers")}
	if m.Service != "" && !grpcServiceName.MatchString(m.Service) {
		r.errorf(r.attrRange("grpc_service"), "Invalid gRPC service", "%q is not a fully qualified gRPC service name such as \"helloworld.Greeter\".", m.Service)
	}
	if m.Method != "" && !grpcMethodName.MatchString(m.Method) {
		r.errorf(r.attrRange("grpc_method"), "Invalid gRPC method", "%q is not a gRPC method name such as \"SayHello\".", m.Method)
	}
	for _, k := range sortedKeys(m.Headers) {
		if !headerName.MatchString(k) {
			r.errorf(r.attrRange("headers"), "Invalid header name", "%q is not a header name.", k)
		}
	}
	return m, m.Service != "" || m.Method != "" || len(m.Headers) > 0
}
