package hclspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var allowSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "from", Required: true}, {Name: "to", Required: true}, {Name: "ports"}, {Name: "description"},
}}

// decodeAllows reads allow blocks: permitted connections.
func (d *decoder) decodeAllows(in *Intent) {
	prefetchShared(d, "allow", d.blocks["allow"], func(b *hcl.Block) *Allow { return d.decodeAllow(b, in.FQDNEgress) })
	for _, b := range d.blocks["allow"] {
		if !d.unique(b) {
			continue
		}
		a := shareBlock(d, b, d.namesSharedServices, func() *Allow { return d.decodeAllow(b, in.FQDNEgress) })
		in.Allows = append(in.Allows, a)
	}
}

// decodeAllow reads one allow block.
func (d *decoder) decodeAllow(b *hcl.Block, fqdnEgress string) *Allow {
	r := open(b.Body, allowSchema, d.ctx, b.DefRange)
	a := &Allow{Label: b.Labels[0], Origin: origin(b)}
	r.str("description", "")
	a.From = r.endpoints("from", &d.refs)
	a.To = r.endpoints("to", &d.refs)
	a.Ports = r.ports("ports")
	checkAllow(r, a, fqdnEgress)
	d.diags = append(d.diags, r.diags...)
	return a
}

// namesSharedServices reports whether the services a shared allow points
// to are this environment's: they are unless one was decoded here
// instead of shared (its budget could not pay for the shared one).
func (d *decoder) namesSharedServices(a *Allow) bool {
	for _, ends := range [][]Endpoint{a.From, a.To} {
		for _, e := range ends {
			if e.Service != nil && d.refs.services[e.Service.Label] != e.Service {
				return false
			}
		}
	}
	return true
}

// checkAllow rejects connections NetworkPolicy cannot express and warns
// about ones that are legal but risky.
func checkAllow(r *body, a *Allow, fqdnEgress string) {
	if !checkFQDN(r, a.From, a.To, fqdnEgress) {
		return
	}
	for _, f := range a.From {
		for _, t := range a.To {
			if f.Kind == EndpointCIDR && (t.Kind == EndpointCIDR || t.Kind == EndpointFQDN) {
				r.errorf(t.Range, "Connection between IP blocks",
					"NetworkPolicies select pods; a connection needs a workload on at least one side.")
			}
			if f.Kind == EndpointNamespaces && t.Kind != EndpointService && t.Kind != EndpointPods && t.Kind != EndpointNamespace {
				r.errorf(t.Range, "Nothing to attach the policy to",
					"namespaces(...) selects namespaces by label, so perimeter cannot emit its egress side; the destination must be a service, pods or namespace of this stack.")
			}
		}
	}
	for _, t := range a.To {
		checkServicePort(r, a, t)
		checkNamedPorts(r, a, t)
	}
	for _, t := range a.To {
		if t.Kind == EndpointCIDR && (t.CIDR == "0.0.0.0/0" || t.CIDR == "::/0") && len(t.Except) == 0 {
			r.warnf(t.Range, "Egress to the whole internet",
				"%s allows egress to every address, including the cloud metadata service (169.254.169.254). Narrow it, or add exceptions with cidr(%q, [...]).", t.CIDR, t.CIDR)
		}
	}
	for _, f := range a.From {
		if f.Kind == EndpointCIDR && (f.CIDR == "0.0.0.0/0" || f.CIDR == "::/0") {
			r.warnf(f.Range, "Ingress from anywhere",
				"Source IPs behind a load balancer are often rewritten (externalTrafficPolicy: Cluster), so an ingress ipBlock may not mean what it says.")
		}
	}
}

// ports reads a list of port specifications: numbers or strings like
// "443/tcp", "8000-8100/udp", "metrics".
func (r *body) ports(name string) []PortSpec {
	v, ok := r.value(name)
	if !ok {
		return nil
	}
	if !(v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
		v = cty.TupleVal([]cty.Value{v})
	}
	var out []PortSpec
	seen := map[PortSpec]bool{}
	for _, e := range v.AsValueSlice() {
		var spec string
		switch {
		case e.IsNull():
			r.errorf(r.attrRange(name), "Invalid port", "%q must not contain null.", name)
			continue
		case e.Type() == cty.Number:
			n, ok := wholeNumber(e.AsBigFloat(), 1, 65535)
			if !ok {
				r.errorf(r.attrRange(name), "Invalid port", "%s is not a port number (1-65535).", e.AsBigFloat().String())
				continue
			}
			spec = itoa(int(n))
		case e.Type() == cty.String:
			spec = e.AsString()
		default:
			r.errorf(r.attrRange(name), "Invalid port", "Ports are numbers or strings like \"443/tcp\" or \"8000-8100/udp\".")
			continue
		}
		p, err := ParsePort(spec)
		if err != nil {
			r.errorf(r.attrRange(name), "Invalid port", "%s.", err)
			continue
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

var checkSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "from", Required: true}, {Name: "to", Required: true}, {Name: "port"}, {Name: "expect", Required: true},
}}

// decodeChecks reads check blocks: connectivity expectations.
func (d *decoder) decodeChecks(in *Intent) {
	for _, b := range d.blocks["check"] {
		if !d.unique(b) {
			continue
		}
		r := open(b.Body, checkSchema, d.ctx, b.DefRange)
		c := &Check{Label: b.Labels[0], Origin: origin(b)}
		var from []Endpoint
		if g := d.gatewayRef(r, "from"); g != nil {
			c.FromGateway = g
			from = []Endpoint{{Range: r.attrRange("from")}}
		} else {
			from = r.endpoints("from", &d.refs)
		}
		to := r.endpoints("to", &d.refs)
		checkNoFQDN(r, from, nil)
		if len(from) > 1 || len(to) > 1 {
			r.errorf(b.DefRange, "One pair per check", "A check tests one source and one destination.")
		}
		if len(from) > 0 && len(to) > 0 {
			c.From, c.To = from[0], to[0]
		}
		if ps := r.ports("port"); len(ps) == 1 {
			c.Port = ps[0]
		} else if len(ps) > 1 {
			r.errorf(r.attrRange("port"), "One port per check", "A check tests one port.")
		}
		c.Expect = r.str("expect", "")
		if r.has("expect") {
			r.oneOf("expect", c.Expect, "allow", "deny")
		}
		d.diags = append(d.diags, r.diags...)
		in.Checks = append(in.Checks, c)
	}
}

// checkServicePort warns when an allow lists a destination service's
// Service port where NetworkPolicy needs the pod (target) port.
func checkServicePort(r *body, a *Allow, t Endpoint) {
	if t.Kind != EndpointService || t.Service.TargetPort.Number == t.Service.Port {
		return
	}
	for _, p := range a.Ports {
		if p.Name == "" && p.EndPort == 0 && p.Port == t.Service.Port {
			r.warnf(r.attrRange("ports"), "Service port in a NetworkPolicy",
				"%d is the Service port of %q; NetworkPolicies match pod ports, and its pods listen on %s. Leave ports out to use the target port.",
				p.Port, t.Service.Label, t.Service.TargetPort)
		}
	}
}

// gatewayRef returns the gateway an attribute names as gateway.NAME, or nil.
func (d *decoder) gatewayRef(r *body, name string) *Gateway {
	a, ok := r.attrs[name]
	if !ok {
		return nil
	}
	v, diags := a.Expr.Value(r.ctx)
	if diags.HasErrors() || kindOf(v) != "gateway" {
		return nil
	}
	return d.refs.gateways[strAttr(v, "id")]
}
