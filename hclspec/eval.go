package hclspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// EvalEndpoint evaluates an endpoint expression written outside the HCL
// files (a command-line flag such as `service.users` or
// `cidr("8.8.8.8/32")`) against a decoded intent. It may also name a
// gateway (`gateway.public`), meaning the gateway's data-plane pods; then
// the Gateway is returned and the Endpoint is zero. The expression sees
// service.*, namespace.*, gateway.* and the language's functions, but not
// var.* or local.*. filename names the expression in diagnostics.
func (in *Intent) EvalEndpoint(expr, filename string) (Endpoint, *Gateway, hcl.Diagnostics) {
	// the bounds of intent files hold for flags too: the parser recurses
	if d := CheckSource(filename, []byte(expr)); d != nil {
		return Endpoint{}, nil, hcl.Diagnostics{d}
	}
	x, diags := hclsyntax.ParseExpression([]byte(expr), filename, hcl.InitialPos)
	if diags.HasErrors() {
		return Endpoint{}, nil, diags
	}
	r := in.refs()
	v, diags := chargeExpr(x).Value(in.evalContext())
	diags = explainBudget(diags)
	if diags.HasErrors() {
		return Endpoint{}, nil, diags
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		return Endpoint{}, nil, hcl.Diagnostics{errorAt(x.Range(), "Invalid endpoint", "The endpoint is null. %s", endpointHelp)}
	}
	if kindOf(v) == "gateway" {
		return Endpoint{}, r.gateways[strAttr(v, "id")], nil
	}
	e, d := r.endpoint(v, x.Range())
	if d != nil {
		return e, nil, hcl.Diagnostics{d}
	}
	return e, nil, nil
}

// evalContext rebuilds the references of a decoded intent. Its functions
// charge the budget of the intent's evaluation: one budget per run.
func (in *Intent) evalContext() *hcl.EvalContext {
	if in.budget == nil {
		in.budget = NewBudget(0)
	}
	return &hcl.EvalContext{Functions: in.budget.functions(), Variables: map[string]cty.Value{
		"namespace": namespaceRefs(in.Namespaces),
		"gateway":   gatewayRefs(in.Gateways),
		"service":   serviceRefs(in.Services),
	}}
}

func (in *Intent) refs() *refs {
	r := &refs{services: map[string]*Service{}, namespaces: map[string]*Namespace{}, gateways: map[string]*Gateway{}}
	for _, s := range in.Services {
		r.services[s.Label] = s
	}
	for _, n := range in.Namespaces {
		r.namespaces[n.Label] = n
	}
	for _, g := range in.Gateways {
		r.gateways[g.Label] = g
	}
	return r
}
