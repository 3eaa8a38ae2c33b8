package hclspec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"k8s.io/apimachinery/pkg/util/validation"
)

// servicePorts reads `ports = { name = number }`: the named container ports
// of the service's pods. It returns nil when the attribute is absent (the
// names are unknown) and a non-nil map when it is given, even empty (the
// pods have no named ports).
func (d *decoder) servicePorts(r *body) map[string]int32 {
	v, ok := r.typed("ports", cty.Map(cty.Number))
	if !ok {
		return nil
	}
	ranges := itemRanges(r, "ports")
	out := map[string]int32{}
	for _, name := range sortedKeys(v.AsValueMap()) {
		rng, ok := ranges[name]
		if !ok {
			rng = r.attrRange("ports")
		}
		if errs := validation.IsValidPortName(name); len(errs) > 0 {
			r.errorf(rng, "Invalid port name", "%q is not a container port name (IANA_SVC_NAME): %s.", name, strings.Join(errs, "; "))
			continue
		}
		e := v.AsValueMap()[name]
		n, ok := int64(0), !e.IsNull()
		if ok {
			n, ok = wholeNumber(e.AsBigFloat(), 1, 65535)
		}
		if !ok {
			r.errorf(rng, "Invalid port number", "Port %q must be a whole number from 1 to 65535.", name)
			continue
		}
		out[name] = int32(n)
	}
	return out
}

// itemRanges maps the keys of an object-constructor attribute to the
// ranges of their items, for diagnostics; empty for other expressions.
func itemRanges(r *body, attr string) map[string]hcl.Range {
	out := map[string]hcl.Range{}
	a, ok := r.attrs[attr]
	if !ok {
		return out
	}
	items, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		return out
	}
	for _, kv := range items {
		k, diags := kv.Key.Value(r.ctx)
		if diags.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
			continue
		}
		out[k.AsString()] = hcl.RangeBetween(kv.Key.Range(), kv.Value.Range())
	}
	return out
}

// checkTargetPortDeclared rejects a named target port a service's ports
// declaration does not contain: the Service would route to nothing.
func checkTargetPortDeclared(r *body, s *Service) {
	if s.Ports == nil || s.TargetPort.Name == "" {
		return
	}
	if _, ok := s.Ports[s.TargetPort.Name]; !ok {
		r.errorf(r.attrRange("target_port"), "Undeclared target port",
			"target_port %q is not among the pods' named ports this service declares (%s); the Service would route to nothing. Add it to ports, or give the number.",
			s.TargetPort.Name, portNames(s.Ports))
	}
}

// checkNamedPorts warns when an allow names a port the destination service
// declares its pods do not have: the rule admits nothing there.
func checkNamedPorts(r *body, a *Allow, t Endpoint) {
	if t.Kind != EndpointService || t.Service.Ports == nil {
		return
	}
	for _, p := range a.Ports {
		if _, ok := t.Service.Ports[p.Name]; p.Name != "" && !ok {
			r.warnf(r.attrRange("ports"), "Undeclared port name",
				"Service %q declares no container port named %q (its ports: %s), so this rule admits nothing on it.",
				t.Service.Label, p.Name, portNames(t.Service.Ports))
		}
	}
}

func portNames(ports map[string]int32) string {
	if len(ports) == 0 {
		return "none"
	}
	names := sortedKeys(ports)
	for i, n := range names {
		names[i] = n + " = " + itoa(int(ports[n]))
	}
	return strings.Join(names, ", ")
}
