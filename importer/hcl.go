package importer

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// write renders the model as formatted HCL: the stack, the gateway,
// namespaces, services, routes, allows and verbatim policies, each group
// sorted by label.
func (m *model) write() []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	comment(body, "Imported by perimeter import. Review every TODO and the import report before planning.")
	p := body.AppendNewBlock("perimeter", nil).Body()
	p.SetAttributeValue("stack", cty.StringVal(m.opts.Stack))
	body.AppendNewline()
	m.writeGateway(body)
	for _, name := range slices.Sorted(maps.Keys(m.namespaces)) {
		m.writeNamespace(body, m.namespaces[name])
	}
	for _, s := range m.labelServices() {
		writeService(body, s)
	}
	sort.SliceStable(m.routes, func(i, j int) bool { return m.routes[i].label < m.routes[j].label })
	for _, r := range m.routes {
		m.writeRoute(body, r)
	}
	m.writeL4Routes(body)
	sort.SliceStable(m.allows, func(i, j int) bool { return m.allows[i].label < m.allows[j].label })
	for _, a := range m.allows {
		writeAllow(body, a)
	}
	sort.SliceStable(m.passthru, func(i, j int) bool { return m.passthru[i].label < m.passthru[j].label })
	for _, p := range m.passthru {
		writePassthrough(body, p)
	}
	m.writeTiers(body)
	return hclwrite.Format(f.Bytes())
}

func comment(b *hclwrite.Body, text string) {
	for _, line := range strings.Split(text, "\n") {
		b.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(strings.TrimRight("# "+line, " ") + "\n")}})
	}
}

func (m *model) gatewayLabel() string { return identifier(m.gwName) }

func (m *model) writeGateway(body *hclwrite.Body) {
	if len(m.routes) == 0 && len(m.l4routes) == 0 {
		return
	}
	sort.Strings(m.tlsNotes)
	for _, n := range m.tlsNotes {
		comment(body, n)
	}
	g := body.AppendNewBlock("gateway", []string{m.gatewayLabel()}).Body()
	if m.gatewayLabel() != m.gwName {
		g.SetAttributeValue("name", cty.StringVal(m.gwName))
	}
	g.SetAttributeValue("namespace", cty.StringVal(m.gwNS))
	g.SetAttributeValue("implementation", cty.StringVal(m.opts.Implementation))
	if m.gwListener != "" {
		g.SetAttributeValue("listener", cty.StringVal(m.gwListener))
	}
	body.AppendNewline()
}

func (m *model) writeNamespace(body *hclwrite.Body, n *namespace) {
	b := body.AppendNewBlock("namespace", []string{identifier(n.name)}).Body()
	if identifier(n.name) != n.name {
		b.SetAttributeValue("name", cty.StringVal(n.name))
	}
	if deny := denyList(n.denyIn, n.denyOut); len(deny) > 0 {
		b.SetAttributeValue("default_deny", stringList(deny))
	}
	if n.denyOut || n.noDNS {
		comment(b, "the input opened DNS only where its policies did; perimeter adds nothing")
		b.SetAttributeValue("dns", cty.False)
	}
	body.AppendNewline()
}

func writeService(body *hclwrite.Body, s *service) {
	switch {
	case s.placeholder:
		comment(body, fmt.Sprintf("TODO: Service %s/%s was not in the input: check selector and ports.", s.ns, s.name))
	case s.noSelector:
		comment(body, fmt.Sprintf("TODO: Service %s/%s selects no pods: set the labels of the pods behind it.", s.ns, s.name))
	}
	b := body.AppendNewBlock("service", []string{s.label}).Body()
	if s.label != s.name {
		b.SetAttributeValue("name", cty.StringVal(s.name))
	}
	b.SetAttributeTraversal("namespace", traversal("namespace", identifier(s.ns)))
	b.SetAttributeRaw("selector", stringMap(s.selector))
	b.SetAttributeValue("port", cty.NumberIntVal(int64(s.port)))
	if s.target != "" {
		if n, err := fmt.Sscan(s.target, new(int)); err == nil && n == 1 && !strings.ContainsAny(s.target, "abcdefghijklmnopqrstuvwxyz") {
			var v int64
			fmt.Sscan(s.target, &v)
			b.SetAttributeValue("target_port", cty.NumberIntVal(v))
		} else {
			b.SetAttributeValue("target_port", cty.StringVal(s.target))
		}
	}
	if s.protocol != "" && s.protocol != "TCP" {
		b.SetAttributeValue("protocol", cty.StringVal(strings.ToLower(s.protocol)))
	}
	if s.denyIn || s.denyOut {
		b.SetAttributeValue("default_deny", stringList(denyList(s.denyIn, s.denyOut)))
	}
	if s.noDNS {
		b.SetAttributeValue("dns", cty.False)
	}
	if t := s.tls; t != nil {
		tb := b.AppendNewBlock("backend_tls", nil).Body()
		tb.SetAttributeValue("hostname", cty.StringVal(t.hostname))
		if len(t.caCerts) > 0 {
			tb.SetAttributeValue("ca_certificates", stringList(t.caCerts))
		}
		if t.wellKnown != "" {
			tb.SetAttributeValue("well_known_ca", cty.StringVal(t.wellKnown))
		}
		if s.portName != "" {
			tb.SetAttributeValue("port_name", cty.StringVal(s.portName))
		}
	}
	body.AppendNewline()
}

func traversal(parts ...string) hcl.Traversal {
	t := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
	for _, p := range parts[1:] {
		t = append(t, hcl.TraverseAttr{Name: p})
	}
	return t
}

// inlineObject renders { k = v, ... } on one line, keys sorted.
func inlineObject(attrs []hclwrite.ObjectAttrTokens) hclwrite.Tokens {
	toks := hclwrite.Tokens{{Type: hclsyntax.TokenOBrace, Bytes: []byte("{")}}
	for i, a := range attrs {
		if i > 0 {
			toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComma, Bytes: []byte(",")})
		}
		toks = append(toks, a.Name...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenEqual, Bytes: []byte("=")})
		toks = append(toks, a.Value...)
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCBrace, Bytes: []byte("}")})
}

// stringMap renders a label map inline; keys that are not identifiers
// (app.kubernetes.io/name) are quoted.
func stringMap(m map[string]string) hclwrite.Tokens {
	var attrs []hclwrite.ObjectAttrTokens
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name := hclwrite.TokensForIdentifier(k)
		if !hclsyntax.ValidIdentifier(k) {
			name = hclwrite.TokensForValue(cty.StringVal(k))
		}
		attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: name, Value: hclwrite.TokensForValue(cty.StringVal(m[k]))})
	}
	return inlineObject(attrs)
}

func (m *model) writeRoute(body *hclwrite.Body, r *route) {
	for _, c := range r.comments {
		comment(body, c)
	}
	kind := "route"
	if r.grpc {
		kind = "grpc_route"
	}
	b := body.AppendNewBlock(kind, []string{r.label}).Body()
	b.SetAttributeValue("namespace", cty.StringVal(r.ns))
	b.SetAttributeTraversal("gateway", traversal("gateway", m.gatewayLabel()))
	if r.listener != "" {
		b.SetAttributeValue("listener", cty.StringVal(r.listener))
	}
	if len(r.hostnames) > 0 {
		b.SetAttributeValue("hostnames", stringList(r.hostnames))
	}
	for _, rl := range r.rules {
		writeRule(b, rl, r.grpc)
	}
	body.AppendNewline()
}

func writeRule(parent *hclwrite.Body, r *rule, grpc bool) {
	b := parent.AppendNewBlock("rule", nil).Body()
	if !grpc {
		b.SetAttributeValue("path", cty.StringVal(r.path))
		if r.pathType != "" {
			b.SetAttributeValue("path_type", cty.StringVal(r.pathType))
		}
	}
	if r.grpcService != "" {
		b.SetAttributeValue("grpc_service", cty.StringVal(r.grpcService))
	}
	if r.grpcMethod != "" {
		b.SetAttributeValue("grpc_method", cty.StringVal(r.grpcMethod))
	}
	if len(r.headers) > 0 {
		b.SetAttributeRaw("headers", stringMap(r.headers))
	}
	if len(r.query) > 0 {
		b.SetAttributeRaw("query", stringMap(r.query))
	}
	if r.method != "" {
		b.SetAttributeValue("method", cty.StringVal(r.method))
	}
	writeBackends(b, r.backends)
	if r.timeout != "" && !grpc {
		b.SetAttributeValue("timeout", cty.StringVal(r.timeout))
	}
	if !grpc {
		writeRewrite(b, r)
	}
	if c := r.cors; c != nil && !grpc {
		writeCORS(b, c)
	}
	if d := r.redirect; d != nil {
		rb := b.AppendNewBlock("redirect", nil).Body()
		if d.scheme != "" {
			rb.SetAttributeValue("scheme", cty.StringVal(d.scheme))
		}
		if d.hostname != "" {
			rb.SetAttributeValue("hostname", cty.StringVal(d.hostname))
		}
		if d.port != 0 {
			rb.SetAttributeValue("port", cty.NumberIntVal(int64(d.port)))
		}
		if d.path != "" {
			rb.SetAttributeValue("path", cty.StringVal(d.path))
		}
		rb.SetAttributeValue("status", cty.NumberIntVal(int64(d.status)))
	}
}

// writeRewrite writes the rule's URL rewrite: a hostname, a path, or both
// (one URLRewrite filter).
func writeRewrite(b *hclwrite.Body, r *rule) {
	if r.rewriteHost == "" && r.rewritePrefix == "" && r.rewriteFull == "" {
		return
	}
	rb := b.AppendNewBlock("rewrite", nil).Body()
	if r.rewriteHost != "" {
		rb.SetAttributeValue("hostname", cty.StringVal(r.rewriteHost))
	}
	switch {
	case r.rewritePrefix != "":
		rb.SetAttributeValue("prefix", cty.StringVal(r.rewritePrefix))
	case r.rewriteFull != "":
		rb.SetAttributeValue("path", cty.StringVal(r.rewriteFull))
	}
}

func writeBackends(b *hclwrite.Body, bs []backend) {
	switch {
	case len(bs) == 0:
	case len(bs) == 1 && bs[0].weight == 0:
		b.SetAttributeTraversal("backend", traversal("service", bs[0].svc.label))
	default:
		var items []hclwrite.Tokens
		for _, x := range bs {
			items = append(items, inlineObject([]hclwrite.ObjectAttrTokens{
				{Name: hclwrite.TokensForIdentifier("service"), Value: hclwrite.TokensForTraversal(traversal("service", x.svc.label))},
				{Name: hclwrite.TokensForIdentifier("weight"), Value: hclwrite.TokensForValue(cty.NumberIntVal(int64(x.weight)))},
			}))
		}
		b.SetAttributeRaw("backends", hclwrite.TokensForTuple(items))
	}
}

func writeAllow(body *hclwrite.Body, a *allow) {
	comment(body, a.comment)
	b := body.AppendNewBlock("allow", []string{a.label}).Body()
	b.SetAttributeRaw("from", endpoints(a.from))
	b.SetAttributeRaw("to", endpoints(a.to))
	if len(a.ports) > 0 {
		var ps []cty.Value
		for _, p := range a.ports {
			ps = append(ps, cty.StringVal(p))
		}
		b.SetAttributeValue("ports", cty.ListVal(ps))
	}
	body.AppendNewline()
}

func endpoints(es []endpoint) hclwrite.Tokens {
	if len(es) == 1 {
		return endpointTokens(es[0])
	}
	var items []hclwrite.Tokens
	for _, e := range es {
		items = append(items, endpointTokens(e))
	}
	return hclwrite.TokensForTuple(items)
}

func endpointTokens(e endpoint) hclwrite.Tokens {
	switch {
	case e.svc != nil:
		return hclwrite.TokensForTraversal(traversal("service", e.svc.label))
	case e.wholeNS:
		return hclwrite.TokensForTraversal(traversal("namespace", identifier(e.ns)))
	case e.pods != nil:
		return hclwrite.TokensForFunctionCall("pods", hclwrite.TokensForValue(cty.StringVal(e.ns)), stringMap(e.pods))
	case e.isNSSel:
		return hclwrite.TokensForFunctionCall("namespaces", stringMap(e.nsSel))
	}
	args := []hclwrite.Tokens{hclwrite.TokensForValue(cty.StringVal(e.cidr))}
	if len(e.except) > 0 {
		args = append(args, hclwrite.TokensForValue(stringList(e.except)))
	}
	return hclwrite.TokensForFunctionCall("cidr", args...)
}

func writePassthrough(body *hclwrite.Body, p *passthrough) {
	comment(body, p.comment)
	b := body.AppendNewBlock("policy", []string{p.label}).Body()
	text := strings.ReplaceAll(strings.ReplaceAll(p.yaml, "${", "$${"), "%{", "%%{")
	b.SetAttributeRaw("yaml", hclwrite.Tokens{
		{Type: hclsyntax.TokenOHeredoc, Bytes: []byte("<<EOT\n")},
		{Type: hclsyntax.TokenStringLit, Bytes: []byte(text)},
		{Type: hclsyntax.TokenCHeredoc, Bytes: []byte("EOT")},
	})
	body.AppendNewline()
}

func writeCORS(parent *hclwrite.Body, c *corsBlock) {
	b := parent.AppendNewBlock("cors", nil).Body()
	for _, l := range []struct {
		name  string
		items []string
	}{{"allow_origins", c.origins}, {"allow_methods", c.methods}, {"allow_headers", c.headers}, {"expose_headers", c.expose}} {
		if len(l.items) == 0 {
			continue
		}
		b.SetAttributeValue(l.name, stringList(l.items))
	}
	if c.credentials {
		b.SetAttributeValue("allow_credentials", cty.True)
	}
	if c.maxAge != 0 {
		b.SetAttributeValue("max_age", cty.NumberIntVal(int64(c.maxAge)))
	}
}

// stringList is a list of strings as HCL writes it.
func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(ss))
	for i, x := range ss {
		vs[i] = cty.StringVal(x)
	}
	return cty.ListVal(vs)
}

// denyList is a default_deny value: the directions denied, ingress first.
func denyList(in, out bool) []string {
	var deny []string
	if in {
		deny = append(deny, "ingress")
	}
	if out {
		deny = append(deny, "egress")
	}
	return deny
}
