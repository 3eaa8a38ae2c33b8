package hclspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// endpointType is the value of every endpoint expression: service.x,
// namespace.x, gateway.x, cidr(...), pods(...) and namespaces(...). Its
// "kind" says which; the other attributes are null where they do not apply.
var endpointType = cty.Object(map[string]cty.Type{
	"kind":      cty.String,
	"id":        cty.String, // block label, for references to blocks
	"name":      cty.String,
	"namespace": cty.String,
	"selector":  cty.Map(cty.String),
	"cidr":      cty.String,
	"except":    cty.List(cty.String),
})

// endpointVal fills the attributes of endpointType that attrs leaves out.
func endpointVal(attrs map[string]cty.Value) cty.Value {
	return cty.ObjectVal(withNullEndpointAttrs(attrs))
}

// withNullEndpointAttrs adds a null for every attribute of endpointType
// that attrs leaves out, in place.
func withNullEndpointAttrs(attrs map[string]cty.Value) map[string]cty.Value {
	for name, t := range endpointType.AttributeTypes() {
		if _, ok := attrs[name]; !ok {
			attrs[name] = cty.NullVal(t)
		}
	}
	return attrs
}

func selectorVal(sel map[string]string) cty.Value {
	if len(sel) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	m := map[string]cty.Value{}
	for k, v := range sel {
		m[k] = cty.StringVal(v)
	}
	return cty.MapVal(m)
}

// serviceVal is what `service.<label>` evaluates to: an endpoint that also
// exposes the service's attributes for use in expressions.
func serviceVal(s *Service) cty.Value {
	// One map and one ObjectVal: this runs for every service in every
	// environment, so large stacks feel each allocation.
	return cty.ObjectVal(withNullEndpointAttrs(map[string]cty.Value{
		"kind": cty.StringVal(string(EndpointService)), "id": cty.StringVal(s.Label),
		"name": cty.StringVal(s.Name), "namespace": cty.StringVal(s.Namespace),
		"selector":    selectorVal(s.Selector),
		"port":        cty.NumberIntVal(int64(s.Port)),
		"target_port": cty.StringVal(s.TargetPort.String()),
	}))
}

// namespaceVal is what `namespace.<label>` evaluates to.
func namespaceVal(n *Namespace) cty.Value {
	return endpointVal(map[string]cty.Value{
		"kind": cty.StringVal(string(EndpointNamespace)), "id": cty.StringVal(n.Label),
		"name": cty.StringVal(n.Name), "namespace": cty.StringVal(n.Name),
	})
}

// gatewayVal is what `gateway.<label>` evaluates to.
func gatewayVal(g *Gateway) cty.Value {
	return endpointVal(map[string]cty.Value{
		"kind": cty.StringVal("gateway"), "id": cty.StringVal(g.Label),
		"name": cty.StringVal(g.Name), "namespace": cty.StringVal(g.Namespace),
	})
}

// refs resolves endpoint values back to the blocks they name.
type refs struct {
	services   map[string]*Service
	namespaces map[string]*Namespace
	gateways   map[string]*Gateway
}

// kindOf returns the "kind" attribute of an endpoint-like value, or "".
func kindOf(v cty.Value) string {
	if v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute("kind") {
		return ""
	}
	k := v.GetAttr("kind")
	if k.IsNull() || k.Type() != cty.String {
		return ""
	}
	return k.AsString()
}

func strAttr(v cty.Value, name string) string {
	if !v.Type().HasAttribute(name) {
		return ""
	}
	a := v.GetAttr(name)
	if a.IsNull() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

func mapAttr(v cty.Value) map[string]string {
	if !v.Type().HasAttribute("selector") {
		return nil
	}
	a := v.GetAttr("selector")
	out := map[string]string{}
	if a.IsNull() || !(a.Type().IsMapType() || a.Type().IsObjectType()) {
		return out
	}
	for k, e := range a.AsValueMap() {
		if !e.IsNull() && e.Type() == cty.String {
			out[k] = e.AsString()
		}
	}
	return out
}

const endpointHelp = "An endpoint is service.NAME, namespace.NAME, pods(\"ns\", {app = \"x\"}), namespaces({team = \"x\"}), cidr(\"203.0.113.0/24\") or fqdn(\"api.example.com\")."

// endpoint converts an evaluated value into an Endpoint.
func (r *refs) endpoint(v cty.Value, rng hcl.Range) (Endpoint, *hcl.Diagnostic) {
	e := Endpoint{Range: rng}
	switch kind := kindOf(v); kind {
	case string(EndpointService):
		s := r.services[strAttr(v, "id")]
		if s == nil {
			return e, errorAt(rng, "Unknown service", "No service block is named %q.", strAttr(v, "id"))
		}
		e.Kind, e.Service, e.Namespace = EndpointService, s, s.Namespace
	case string(EndpointNamespace):
		n := r.namespaces[strAttr(v, "id")]
		if n == nil {
			return e, errorAt(rng, "Unknown namespace", "No namespace block is named %q.", strAttr(v, "id"))
		}
		e.Kind, e.Namespace = EndpointNamespace, n.Name
	case string(EndpointPods):
		e.Kind, e.Namespace, e.PodSelector = EndpointPods, strAttr(v, "namespace"), mapAttr(v)
	case string(EndpointNamespaces):
		e.Kind, e.NamespaceSelector = EndpointNamespaces, mapAttr(v)
	case string(EndpointCIDR):
		e.Kind, e.CIDR = EndpointCIDR, strAttr(v, "cidr")
		if ex := v.GetAttr("except"); !ex.IsNull() {
			for _, x := range ex.AsValueSlice() {
				e.Except = append(e.Except, x.AsString())
			}
		}
	case string(EndpointFQDN):
		e.Kind, e.FQDN = EndpointFQDN, strAttr(v, "name")
	case "gateway":
		return e, errorAt(rng, "Gateway is not an endpoint",
			"Routes admit a gateway's data plane automatically; connections name workloads. %s", endpointHelp)
	default:
		if v.Type() == cty.String {
			return e, errorAt(rng, "Invalid endpoint",
				"A plain string is not an endpoint; for an IP block write cidr(%q). %s", v.AsString(), endpointHelp)
		}
		return e, errorAt(rng, "Invalid endpoint", "%s", endpointHelp)
	}
	return e, nil
}

// endpoints evaluates an attribute holding one endpoint or a list of them,
// keeping each element's own source range.
func (b *body) endpoints(name string, r *refs) []Endpoint {
	a, ok := b.attrs[name]
	if !ok {
		return nil
	}
	exprs, d := hcl.ExprList(a.Expr)
	if d.HasErrors() {
		exprs = []hcl.Expression{a.Expr}
	}
	var out []Endpoint
	for _, x := range exprs {
		v, d := x.Value(b.ctx)
		b.diags = append(b.diags, d...)
		if d.HasErrors() {
			continue
		}
		if v.Type().IsTupleType() || v.Type().IsListType() || v.Type().IsSetType() {
			// a list produced by an expression (e.g. a variable or for expression)
			for _, e := range v.AsValueSlice() {
				out = b.appendEndpoint(out, r, e, x.Range())
			}
			continue
		}
		out = b.appendEndpoint(out, r, v, x.Range())
	}
	if len(out) == 0 && !b.diags.HasErrors() {
		b.errorf(a.Expr.Range(), "Empty endpoint list", "%q must name at least one endpoint. %s", name, endpointHelp)
	}
	return out
}

func (b *body) appendEndpoint(out []Endpoint, r *refs, v cty.Value, rng hcl.Range) []Endpoint {
	if v.IsNull() || !v.IsWhollyKnown() {
		b.errorf(rng, "Invalid endpoint", "The endpoint is null or unknown. %s", endpointHelp)
		return out
	}
	e, diag := r.endpoint(v, rng)
	if diag != nil {
		b.diags = append(b.diags, diag)
		return out
	}
	return append(out, e)
}

// namespaceRefs, gatewayRefs and serviceRefs are the values of the
// namespace.*, gateway.* and service.* references in expressions.
func namespaceRefs(ns []*Namespace) cty.Value {
	return refObject(ns, func(n *Namespace) (string, cty.Value) { return n.Label, namespaceVal(n) })
}

func gatewayRefs(gs []*Gateway) cty.Value {
	return refObject(gs, func(g *Gateway) (string, cty.Value) { return g.Label, gatewayVal(g) })
}

func serviceRefs(ss []*Service) cty.Value {
	return refObject(ss, func(s *Service) (string, cty.Value) { return s.Label, serviceVal(s) })
}
