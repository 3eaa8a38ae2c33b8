package hclspec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"k8s.io/apimachinery/pkg/util/validation"
)

var namespaceSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name"}, {Name: "default_deny"}, {Name: "dns"}, {Name: "labels"},
	{Name: "create"}, {Name: "adopt"},
}}

// decodeNamespaces reads the namespaces the stack manages.
func (d *decoder) decodeNamespaces(in *Intent) {
	byName := map[string]hcl.Range{}
	for _, b := range d.blocks["namespace"] {
		if !d.unique(b) || !d.referable(b) {
			continue
		}
		r := open(b.Body, namespaceSchema, d.ctx, b.DefRange)
		n := &Namespace{Label: b.Labels[0], Origin: origin(b)}
		n.Name = r.str("name", n.Label)
		if msg := validateDNSLabel(n.Name); msg != "" {
			r.errorf(r.attrRange("name"), "Invalid namespace name", "%q: %s.", n.Name, msg)
		} else if first, dup := byName[n.Name]; dup {
			r.errorf(r.attrRange("name"), "Duplicate namespace", "Namespace %q is already declared at %s.", n.Name, first)
		}
		byName[n.Name] = b.DefRange
		n.Labels = r.strMap("labels")
		d.checkSelector(r, "labels", n.Labels, false)
		if v, ok := n.Labels[namespaceNameLabel]; ok && v != n.Name {
			r.errorf(r.attrRange("labels"), "Invalid namespace label",
				"%s is set by the API server to the namespace's name (%q); it cannot be %q.", namespaceNameLabel, n.Name, v)
		}
		decodeLifecycle(r, n)
		n.DenyIngress, n.DenyEgress = r.directions("default_deny")
		n.DNS = r.boolean("dns", n.DenyEgress)
		n.DNSSet = r.has("dns")
		if r.has("dns") && n.DNS && !n.DenyEgress {
			r.warnf(r.attrRange("dns"), "DNS policy without an egress baseline",
				"Namespace %q does not deny egress by default, so its pods can already reach DNS; the DNS policy only matters once egress is denied.", n.Name)
		}
		if r.has("dns") && !n.DNS && n.DenyEgress {
			r.warnf(r.attrRange("dns"), "Egress denied without DNS",
				"Pods in namespace %q will not resolve names: egress is denied and dns = false. Connections by IP block still work.", n.Name)
		}
		d.diags = append(d.diags, r.diags...)
		d.refs.namespaces[n.Label] = n
		in.Namespaces = append(in.Namespaces, n)
	}
}

// decodeLifecycle reads whether the stack may create the namespace and
// whether it takes over one that exists. adopt = true with create = false is
// refused: create = false says the namespace belongs to someone else (the
// platform), adopt = true makes it the stack's, to label and to delete on
// destroy.
func decodeLifecycle(r *body, n *Namespace) {
	n.Create = r.boolean("create", true)
	n.Adopt = r.boolean("adopt", false)
	if n.Adopt && !n.Create {
		r.errorf(r.attrRange("adopt"), "Contradictory namespace lifecycle",
			"Namespace %q has create = false (someone else owns it, it must exist) and adopt = true (the stack takes it over, applies its labels and deletes it on destroy); keep one of them.", n.Name)
	}
}

// directions reads a list of "ingress"/"egress".
func (r *body) directions(name string) (ingress, egress bool) {
	for _, dir := range r.strList(name) {
		switch dir {
		case "ingress":
			ingress = true
		case "egress":
			egress = true
		default:
			r.errorf(r.attrRange(name), "Invalid direction", "%q lists %q; the directions are \"ingress\" and \"egress\".", name, dir)
		}
	}
	return ingress, egress
}

var gatewaySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "namespace", Required: true}, {Name: "listener"},
		{Name: "implementation", Required: true}, {Name: "controller_namespace"},
		{Name: "clients"}, {Name: "listener_ports"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "data_plane"}, {Type: "manage"}},
}

var manageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "class", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "listener", LabelNames: []string{"name"}}},
}

var listenerSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "protocol", Required: true}, {Name: "port", Required: true}, {Name: "hostname"}, {Name: "certificates"},
	{Name: "tls_mode"},
}}

// decodeGateways reads the gateways routes attach to.
func (d *decoder) decodeGateways(in *Intent) {
	for _, b := range d.blocks["gateway"] {
		if !d.unique(b) || !d.referable(b) {
			continue
		}
		r := open(b.Body, gatewaySchema, d.ctx, b.DefRange)
		g := &Gateway{Label: b.Labels[0], Origin: origin(b)}
		g.Name = r.str("name", g.Label)
		g.Namespace = r.str("namespace", "")
		g.Listener = r.str("listener", "")
		g.Implementation = Implementation(r.str("implementation", ""))
		d.checkName(r, "name", g.Name, validateObjectName)
		d.checkName(r, "namespace", g.Namespace, validateDNSLabel)
		if g.Listener != "" {
			d.checkName(r, "listener", g.Listener, validateDNSLabel)
		}
		var custom *hcl.Block
		for _, blk := range r.blocks {
			switch blk.Type {
			case "data_plane":
				custom = blk
			case "manage":
				g.Manage = d.gatewaySpec(blk)
			}
		}
		switch {
		case custom != nil:
			g.DataPlane = d.podSet(custom, d.ctx)
		case g.Implementation == EnvoyGateway:
			g.DataPlane = PodSet{Namespace: r.str("controller_namespace", "envoy-gateway-system"), Selector: map[string]string{
				"gateway.envoyproxy.io/owning-gateway-name":      g.Name,
				"gateway.envoyproxy.io/owning-gateway-namespace": g.Namespace,
			}}
		case g.Implementation == Istio:
			g.DataPlane = PodSet{Namespace: g.Namespace, Selector: map[string]string{"gateway.networking.k8s.io/gateway-name": g.Name}}
		case g.Implementation == Custom:
			r.errorf(b.DefRange, "Missing data_plane block",
				"Gateway %q has implementation \"custom\"; add data_plane { namespace = ..., selector = {...} } naming the pods that forward its traffic, so backends can admit them.", g.Label)
		case g.Implementation != "":
			r.oneOf("implementation", string(g.Implementation), string(EnvoyGateway), string(Istio), string(Custom))
		}
		if r.has("controller_namespace") && g.Implementation != EnvoyGateway {
			r.errorf(r.attrRange("controller_namespace"), "Unexpected controller_namespace",
				"controller_namespace only applies to envoy-gateway, whose proxies run in the controller's namespace.")
		}
		d.checkManagedListener(r, g)
		g.ListenerPorts = d.listenerPorts(r, g)
		d.diags = append(d.diags, r.diags...)
		d.gatewayBodies[g] = r
		d.refs.gateways[g.Label] = g
		in.Gateways = append(in.Gateways, g)
	}
}

// listenerPorts reads the ports clients connect to on a gateway perimeter
// does not manage (a managed gateway's come from its listener blocks).
func (d *decoder) listenerPorts(r *body, g *Gateway) []int32 {
	if !r.has("listener_ports") {
		return nil
	}
	if g.Manage != nil {
		r.errorf(r.attrRange("listener_ports"), "Unexpected listener_ports",
			"Gateway %q is managed by this stack; its listener blocks already give the ports.", g.Label)
		return nil
	}
	v, ok := r.typed("listener_ports", cty.List(cty.Number))
	if !ok {
		return nil
	}
	var out []int32
	for _, x := range v.AsValueSlice() {
		if x.IsNull() || !x.IsKnown() {
			r.errorf(r.attrRange("listener_ports"), "Invalid port", "listener_ports holds a null or unknown value.")
			continue
		}
		n, whole := wholeNumber(x.AsBigFloat(), 1, 65535)
		if !whole {
			r.errorf(r.attrRange("listener_ports"), "Invalid port", "listener_ports holds %s; a port is a whole number from 1 to 65535.", x.AsBigFloat().Text('g', -1))
			continue
		}
		out = append(out, int32(n))
	}
	return out
}

// decodeGatewayClients reads each gateway's clients once services are
// known, so clients may name services as well as IP blocks.
func (d *decoder) decodeGatewayClients(in *Intent) {
	for _, g := range in.Gateways {
		r := d.gatewayBodies[g]
		if r == nil {
			continue
		}
		r.diags = nil
		g.Clients = r.endpoints("clients", &d.refs)
		checkNoFQDN(r, g.Clients, nil)
		d.diags = append(d.diags, r.diags...)
	}
}

func (d *decoder) checkManagedListener(r *body, g *Gateway) {
	if g.Manage == nil || g.Listener == "" {
		return
	}
	for _, l := range g.Manage.Listeners {
		if l.Name == g.Listener {
			return
		}
	}
	r.errorf(r.attrRange("listener"), "Unknown listener", "Gateway %q manages no listener named %q.", g.Label, g.Listener)
}

func (d *decoder) gatewaySpec(b *hcl.Block) *GatewaySpec {
	r := open(b.Body, manageSchema, d.ctx, b.DefRange)
	spec := &GatewaySpec{Class: r.str("class", "")}
	d.checkName(r, "class", spec.Class, validateObjectName)
	spec.Listeners = d.listenerBlocks(r.blocks)
	if len(spec.Listeners) == 0 {
		r.errorf(b.DefRange, "Missing listener", "A managed gateway needs at least one listener \"NAME\" { protocol = ..., port = ... } block.")
	}
	d.diags = append(d.diags, r.diags...)
	return spec
}

// listenerBlocks reads listener "NAME" { ... } blocks, of a managed
// gateway or a listener_set.
func (d *decoder) listenerBlocks(blocks hcl.Blocks) []*Listener {
	var out []*Listener
	if len(blocks) > maxListeners {
		// the Gateway and ListenerSet CRDs hold at most 64
		d.diags = append(d.diags, errorAt(blocks[maxListeners].DefRange, "Too many listeners", "A gateway or listener_set has at most %d listeners.", maxListeners))
		blocks = blocks[:maxListeners]
	}
	seen := map[string]bool{}
	for _, lb := range blocks {
		lr := open(lb.Body, listenerSchema, d.ctx, lb.DefRange)
		l := &Listener{Name: lb.Labels[0], Range: lb.DefRange}
		if msg := validateDNSLabel(l.Name); msg != "" {
			lr.errorf(lb.LabelRanges[0], "Invalid listener name", "%q: %s.", l.Name, msg)
		}
		if seen[l.Name] {
			lr.errorf(lb.LabelRanges[0], "Duplicate listener", "Listener %q is declared twice.", l.Name)
		}
		seen[l.Name] = true
		l.Protocol = strings.ToUpper(lr.str("protocol", ""))
		if lr.has("protocol") {
			lr.oneOf("protocol", l.Protocol, "HTTP", "HTTPS", "TLS", "TCP", "UDP")
		}
		l.Port = int32(lr.integer("port", 0, 1, 65535))
		l.Hostname = lr.str("hostname", "")
		if l.Hostname != "" {
			if msg := validateHostname(l.Hostname); msg != "" {
				lr.errorf(lr.attrRange("hostname"), "Invalid hostname", "%q: %s.", l.Hostname, msg)
			}
		}
		l.Certificates = lr.strList("certificates")
		if l.Protocol == "HTTPS" && len(l.Certificates) == 0 && !lr.diags.HasErrors() {
			lr.errorf(lb.DefRange, "Missing certificates", "HTTPS listener %q needs certificates = [\"secret-name\"] to terminate TLS.", l.Name)
		}
		checkListenerTLS(lr, lb, l)
		checkListenerUnique(lr, lb, l, out)
		d.diags = append(d.diags, lr.diags...)
		out = append(out, l)
	}
	return out
}

func (d *decoder) checkName(r *body, attr, value string, check func(string) string) {
	if !r.has(attr) && value == "" {
		return
	}
	if msg := check(value); msg != "" {
		r.errorf(r.attrRange(attr), "Invalid "+attr, "%q: %s.", value, msg)
	}
}

var serviceSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name"}, {Name: "namespace", Required: true}, {Name: "selector", Required: true},
	{Name: "port", Required: true}, {Name: "target_port"}, {Name: "protocol"},
	{Name: "default_deny"}, {Name: "dns"}, {Name: "ports"},
}, Blocks: []hcl.BlockHeaderSchema{{Type: "backend_tls"}}}

// decodeServices reads the workloads the intent talks about.
func (d *decoder) decodeServices(in *Intent) {
	prefetchShared(d, "service", d.blocks["service"], d.decodeService)
	for _, b := range d.blocks["service"] {
		if !d.unique(b) || !d.referable(b) {
			continue
		}
		s := shareBlock(d, b, nil, func() *Service { return d.decodeService(b) })
		d.refs.services[s.Label] = s
		in.Services = append(in.Services, s)
	}
}

// decodeService reads one service block.
func (d *decoder) decodeService(b *hcl.Block) *Service {
	r := open(b.Body, serviceSchema, d.ctx, b.DefRange)
	s := &Service{Label: b.Labels[0], Origin: origin(b)}
	s.Name = r.str("name", s.Label)
	s.Namespace = d.namespaceAttr(r)
	if errs := validation.IsDNS1035Label(s.Name); len(errs) > 0 {
		r.errorf(r.attrRange("name"), "Invalid service name", "%q is not a valid Service name: %s.", s.Name, strings.Join(errs, "; "))
	}
	s.Selector = r.strMap("selector")
	d.checkSelector(r, "selector", s.Selector, true)
	s.Port = int32(r.integer("port", 0, 1, 65535))
	s.Protocol = "TCP"
	if r.has("protocol") {
		if p, err := parseProtocol(r.str("protocol", "")); err != nil {
			r.errorf(r.attrRange("protocol"), "Invalid protocol", "%s.", err)
		} else {
			s.Protocol = p
		}
	}
	s.TargetPort = d.targetPort(r, s.Port)
	s.Ports = d.servicePorts(r)
	checkTargetPortDeclared(r, s)
	s.DenyIngress, s.DenyEgress = r.directions("default_deny")
	s.DNSSet = r.has("dns")
	s.DNS = r.boolean("dns", true)
	for i, blk := range r.blocks {
		if i > 0 {
			r.errorf(blk.DefRange, "Duplicate backend_tls block", "A service has at most one backend_tls block.")
			continue
		}
		s.BackendTLS = d.backendTLS(r, blk)
	}
	d.diags = append(d.diags, r.diags...)
	return s
}

// namespaceAttr reads `namespace`, given as a string or as namespace.NAME.
func (d *decoder) namespaceAttr(r *body) string {
	v, ok := r.value("namespace")
	if !ok {
		return ""
	}
	if kindOf(v) == string(EndpointNamespace) {
		return strAttr(v, "name")
	}
	if v.Type() != cty.String {
		r.errorf(r.attrRange("namespace"), "Incorrect attribute value type", "\"namespace\" must be a string or namespace.NAME.")
		return ""
	}
	ns := v.AsString()
	if msg := validateDNSLabel(ns); msg != "" {
		r.errorf(r.attrRange("namespace"), "Invalid namespace", "%q: %s.", ns, msg)
	}
	return ns
}

// targetPort reads the pod port behind the service port: a number or the
// name of a container port. It defaults to the service port.
func (d *decoder) targetPort(r *body, port int32) PortRef {
	v, ok := r.value("target_port")
	if !ok {
		return PortRef{Number: port}
	}
	if v.Type() == cty.Number {
		return PortRef{Number: int32(r.integer("target_port", int64(port), 1, 65535))}
	}
	s := r.str("target_port", "")
	p, err := ParsePort(s)
	switch {
	case err != nil || p.EndPort != 0 || strings.Contains(s, "/"):
		r.errorf(r.attrRange("target_port"), "Invalid target port",
			"target_port must be a port number (1-65535) or a container port name; got %q.", s)
		return PortRef{Number: port}
	case p.Name != "":
		return PortRef{Name: p.Name}
	}
	return PortRef{Number: p.Port}
}

// checkServiceDNS warns when a service opts out of DNS that its namespace's
// DNS policy opens anyway: NetworkPolicies are additive, a workload cannot
// be denied what another policy selecting it allows.
func (d *decoder) checkServiceDNS(in *Intent) {
	for _, s := range in.Services {
		ns := d.namespaceByName(s.Namespace)
		if s.DNSSet && !s.DNS && ns != nil && ns.DNS {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "DNS stays open",
				Detail: "dns = false has no effect: the DNS policy of namespace " + ns.Name +
					" selects every pod there, and NetworkPolicies only ever add permissions.",
				Subject: s.Range.Ptr()})
		}
	}
}

func (d *decoder) namespaceByName(name string) *Namespace {
	for _, n := range d.refs.namespaces {
		if n.Name == name {
			return n
		}
	}
	return nil
}
