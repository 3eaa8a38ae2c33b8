package hclspec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Gateway API route kinds below HTTP, all at gateway.networking.k8s.io/v1
// in the standard channel since Gateway API v1.5.
const (
	TLSRouteKind = "TLSRoute"
	TCPRouteKind = "TCPRoute"
	UDPRouteKind = "UDPRoute"
)

// TLS modes of a TLS listener, as Gateway API spells them.
const (
	TLSPassthrough = "Passthrough"
	TLSTerminate   = "Terminate"
)

// L4Route exposes backends through one gateway listener below HTTP: a
// TLSRoute (chosen by the SNI of the client's TLS handshake, the session
// passed through to the backend or terminated by the listener), a TCPRoute
// or a UDPRoute (every connection or datagram of the listener). Gateway API
// allows exactly one rule on each, so the backends are the route's own.
type L4Route struct {
	Kind      string // TLSRouteKind, TCPRouteKind or UDPRouteKind
	Label     string
	Name      string
	Namespace string
	Parents   []ParentRef
	Hostnames []string // TLSRoute only: the SNI names served
	Backends  []Backend
	Origin
}

// Block is the HCL block type the route is written as (tls_route, ...).
func (r *L4Route) Block() string { return l4BlockOf[r.Kind] }

// Protocol is the transport the route's backends receive: UDP for a
// UDPRoute, TCP otherwise.
func (r *L4Route) Protocol() string {
	if r.Kind == UDPRouteKind {
		return "UDP"
	}
	return "TCP"
}

var l4KindOf = map[string]string{"tls_route": TLSRouteKind, "tcp_route": TCPRouteKind, "udp_route": UDPRouteKind}

var l4BlockOf = map[string]string{TLSRouteKind: "tls_route", TCPRouteKind: "tcp_route", UDPRouteKind: "udp_route"}

// l4BlockTypes are the block types in decoding order.
var l4BlockTypes = []string{"tls_route", "tcp_route", "udp_route"}

// ListenerKinds are the route kinds a listener of each protocol accepts;
// perimeter sets allowedRoutes.kinds to them on the TLS, TCP and UDP
// listeners it manages, and validates attachments against them.
var ListenerKinds = map[string][]string{
	"HTTP":  {"HTTPRoute", "GRPCRoute"},
	"HTTPS": {"HTTPRoute", "GRPCRoute"},
	"TLS":   {TLSRouteKind},
	"TCP":   {TCPRouteKind},
	"UDP":   {UDPRouteKind},
}

var l4AttrsCommon = []hcl.AttributeSchema{
	{Name: "name"}, {Name: "namespace"}, {Name: "gateway", Required: true}, {Name: "listener", Required: true},
	{Name: "backend"}, {Name: "backends"},
}

var (
	tlsRouteSchema = &hcl.BodySchema{Attributes: append([]hcl.AttributeSchema{{Name: "hostnames", Required: true}}, l4AttrsCommon...)}
	l4RouteSchema  = &hcl.BodySchema{Attributes: l4AttrsCommon}
)

// decodeL4Routes reads tls_route, tcp_route and udp_route blocks.
func (d *decoder) decodeL4Routes(in *Intent) {
	for _, typ := range l4BlockTypes {
		for _, b := range d.blocks[typ] {
			if d.unique(b) {
				in.L4Routes = append(in.L4Routes, d.l4Route(b, l4KindOf[typ]))
			}
		}
	}
}

func (d *decoder) l4Route(b *hcl.Block, kind string) *L4Route {
	schema := l4RouteSchema
	if kind == TLSRouteKind {
		schema = tlsRouteSchema
	}
	r := open(b.Body, schema, d.ctx, b.DefRange)
	rt := &L4Route{Kind: kind, Label: b.Labels[0], Name: r.str("name", b.Labels[0]), Origin: origin(b)}
	if msg := validateObjectName(rt.Name); msg != "" {
		rng := r.attrRange("name")
		if !r.has("name") {
			rng = b.LabelRanges[0]
		}
		r.errorf(rng, "Invalid route name", "%q cannot name a Kubernetes object: %s. Set name = \"...\".", rt.Name, msg)
	}
	explicit := ""
	if r.has("namespace") {
		explicit = d.namespaceAttr(r)
	}
	listener := r.str("listener", "")
	if r.has("listener") {
		d.checkName(r, "listener", listener, validateDNSLabel)
	}
	rt.Parents = d.parentRefs(r, listener)
	if kind == TLSRouteKind {
		rt.Hostnames = d.sniHostnames(r)
	}
	rt.Backends = d.backends(r)
	if len(rt.Backends) == 0 && !r.diags.HasErrors() {
		r.errorf(b.DefRange, "Route without backend", "A %s needs backend = service.NAME or backends = [...].", b.Type)
	}
	checkL4Backends(r, rt)
	checkAttachment(r, r.attrRange("listener"), kind, rt.Parents)
	checkSNI(r, rt)
	if !r.diags.HasErrors() {
		rt.Namespace = routeNamespace(r, b, explicit, rt.Backends)
	}
	d.diags = append(d.diags, r.diags...)
	return rt
}

// sniHostnames reads a tls_route's hostnames: the TLSRoute CRD needs at
// least one, since SNI is all a TLS listener can route on.
func (d *decoder) sniHostnames(r *body) []string {
	hosts := r.strList("hostnames")
	for _, h := range hosts {
		if msg := validateHostname(h); msg != "" {
			r.errorf(r.attrRange("hostnames"), "Invalid hostname", "%q: %s.", h, msg)
		}
	}
	if r.has("hostnames") && len(hosts) == 0 && !r.diags.HasErrors() {
		r.errorf(r.attrRange("hostnames"), "Missing hostnames", "A tls_route routes by SNI and needs at least one hostname.")
	}
	if len(hosts) > 16 {
		r.errorf(r.attrRange("hostnames"), "Too many hostnames", "A route may list at most 16 hostnames.")
	}
	return hosts
}

// checkL4Backends requires each backend's protocol to be the route's: a
// udp_route to a TCP service would admit the gateway on the wrong protocol
// (and forward nothing), and a tcp_route or tls_route to a UDP one as well.
func checkL4Backends(r *body, rt *L4Route) {
	for _, be := range rt.Backends {
		if be.Service.Protocol != rt.Protocol() {
			r.errorf(be.Range, "Backend protocol mismatch",
				"A %s forwards %s, but service %q has protocol %s; set protocol = %q on the service or use a %s.",
				rt.Block(), rt.Protocol(), be.Service.Label, be.Service.Protocol, strings.ToLower(rt.Protocol()), suggestBlock(be.Service.Protocol))
		}
	}
}

func suggestBlock(protocol string) string {
	if protocol == "UDP" {
		return "udp_route"
	}
	return "tcp_route or tls_route"
}

// checkAttachment refuses a route attached to a managed listener whose
// protocol does not accept its kind: the gateway would leave it unattached
// and its traffic would go nowhere.
func checkAttachment(r *body, rng hcl.Range, kind string, parents []ParentRef) {
	for _, p := range parents {
		if ls := knownListeners(p); p.Listener == "" && ls != nil && !anyAccepts(ls, kind) {
			r.errorf(rng, "Route kind not accepted by listener",
				"No listener of %s accepts a %s; name a listener that does, or add one.", parentName(p), kind)
			continue
		}
		l := managedListener(p)
		if l == nil || acceptsKind(l.Protocol, kind) {
			continue
		}
		r.errorf(rng, "Route kind not accepted by listener",
			"Listener %q of %s is a %s listener, which accepts %s; a %s cannot attach to it.",
			l.Name, parentName(p), l.Protocol, strings.Join(ListenerKinds[l.Protocol], " and "), kind)
	}
}

// managedListener is the listener a parent ref names on a gateway the
// stack manages, or nil.
func managedListener(p ParentRef) *Listener {
	if p.ListenerSet != nil {
		return setListener(p.ListenerSet, p.Listener)
	}
	if p.Gateway == nil || p.Gateway.Manage == nil || p.Listener == "" {
		return nil
	}
	for _, l := range p.Gateway.Manage.Listeners {
		if l.Name == p.Listener {
			return l
		}
	}
	return nil
}

func acceptsKind(protocol, kind string) bool {
	for _, k := range ListenerKinds[protocol] {
		if k == kind {
			return true
		}
	}
	return false
}

// checkHTTPAttachments refuses HTTP and gRPC routes attached by name to a
// managed TLS, TCP or UDP listener.
func (d *decoder) checkHTTPAttachments(in *Intent) {
	check := func(kind string, o Origin, parents []ParentRef) {
		r := &body{}
		checkAttachment(r, o.Range, kind, parents)
		d.diags = append(d.diags, r.diags...)
	}
	for _, rt := range in.HTTPRoutes {
		check("HTTPRoute", rt.Origin, rt.Parents)
	}
	for _, rt := range in.GRPCRoutes {
		check("GRPCRoute", rt.Origin, rt.Parents)
	}
}

// checkListenerTLS reads a listener's tls_mode and checks its TLS settings
// against its protocol as the Gateway CRD's rules do: a TLS listener needs a
// mode, passthrough takes no certificates and terminate needs them, and
// HTTP, TCP and UDP listeners have no TLS settings (nor, for TCP and UDP, a
// hostname).
func checkListenerTLS(lr *body, lb *hcl.Block, l *Listener) {
	mode := strings.ToLower(lr.str("tls_mode", ""))
	switch {
	case l.Protocol == "TLS" && !lr.has("tls_mode"):
		lr.errorf(lb.DefRange, "Missing tls_mode", "TLS listener %q needs tls_mode = \"passthrough\" (the backend terminates TLS) or \"terminate\" (the gateway does, with certificates).", l.Name)
	case l.Protocol == "TLS" && lr.oneOf("tls_mode", mode, "passthrough", "terminate"):
		l.TLSMode = map[string]string{"passthrough": TLSPassthrough, "terminate": TLSTerminate}[mode]
	case l.Protocol != "TLS" && lr.has("tls_mode"):
		lr.errorf(lr.attrRange("tls_mode"), "Unexpected tls_mode", "tls_mode only applies to TLS listeners; listener %q is %s.", l.Name, l.Protocol)
	}
	switch {
	case l.TLSMode == TLSPassthrough && len(l.Certificates) > 0:
		lr.errorf(lr.attrRange("certificates"), "Certificates with passthrough", "Listener %q passes TLS through to the backends, which hold the certificates; remove certificates or use tls_mode = \"terminate\".", l.Name)
	case l.TLSMode == TLSTerminate && len(l.Certificates) == 0 && !lr.diags.HasErrors():
		lr.errorf(lb.DefRange, "Missing certificates", "TLS listener %q terminates TLS and needs certificates = [\"secret-name\"].", l.Name)
	case (l.Protocol == "HTTP" || l.Protocol == "TCP" || l.Protocol == "UDP") && lr.has("certificates"):
		lr.errorf(lr.attrRange("certificates"), "Unexpected certificates", "Listener %q is %s, which carries no TLS; certificates apply to HTTPS and TLS listeners.", l.Name, l.Protocol)
	}
	if (l.Protocol == "TCP" || l.Protocol == "UDP") && lr.has("hostname") {
		lr.errorf(lr.attrRange("hostname"), "Unexpected hostname", "A %s listener has no hostname to match (no Host header, no SNI); remove it.", l.Protocol)
	}
}

// parentName names a route's parent as the user wrote it.
func parentName(p ParentRef) string {
	if p.ListenerSet != nil {
		return "listener_set " + quoteList([]string{p.ListenerSet.Label})
	}
	return "gateway " + quoteList([]string{p.Gateway.Label})
}

// knownListeners are the listeners of a parent the stack declares (a
// managed gateway's or a listener set's); nil when they are not known.
func knownListeners(p ParentRef) []*Listener {
	switch {
	case p.ListenerSet != nil:
		return p.ListenerSet.Listeners
	case p.Gateway != nil && p.Gateway.Manage != nil:
		return p.Gateway.Manage.Listeners
	}
	return nil
}

func anyAccepts(ls []*Listener, kind string) bool {
	for _, l := range ls {
		if acceptsKind(l.Protocol, kind) {
			return true
		}
	}
	return false
}

// maxListeners is the Gateway and ListenerSet CRDs' limit on listeners.
const maxListeners = 64

// checkListenerUnique refuses a listener with the port, protocol and
// hostname of an earlier one, as the Gateway and ListenerSet CRDs do: the
// gateway could not tell their traffic apart.
func checkListenerUnique(lr *body, lb *hcl.Block, l *Listener, earlier []*Listener) {
	for _, e := range earlier {
		if e.Port == l.Port && e.Protocol == l.Protocol && e.Hostname == l.Hostname && l.Port != 0 && l.Protocol != "" {
			lr.errorf(lb.DefRange, "Duplicate listener port", "Listener %q has the port, protocol and hostname of listener %q (%s %d); change one of them.", l.Name, e.Name, l.Protocol, l.Port)
			return
		}
	}
}

// checkSNI refuses a tls_route none of whose hostnames a managed
// listener's hostname admits: Gateway API attaches a route to a listener
// only where their hostnames intersect, so it would carry nothing.
func checkSNI(r *body, rt *L4Route) {
	for _, p := range rt.Parents {
		l := managedListener(p)
		if l == nil || l.Hostname == "" || len(rt.Hostnames) == 0 {
			continue
		}
		matched := false
		for _, h := range rt.Hostnames {
			matched = matched || hostsIntersect(h, l.Hostname)
		}
		if !matched {
			r.errorf(r.attrRange("hostnames"), "Hostnames outside the listener",
				"Listener %q of %s serves %q, which none of the route's hostnames matches; the route would not attach.", l.Name, parentName(p), l.Hostname)
		}
	}
}

// hostsIntersect reports whether two Gateway API hostnames (either may be a
// "*." wildcard, covering one or more labels) can match one name.
func hostsIntersect(a, b string) bool {
	switch {
	case a == b:
		return true
	case strings.HasPrefix(a, "*.") && strings.HasSuffix(b, a[1:]):
		return true
	case strings.HasPrefix(b, "*.") && strings.HasSuffix(a, b[1:]):
		return true
	}
	return false
}
