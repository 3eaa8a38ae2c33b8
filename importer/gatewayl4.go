package importer

import (
	"fmt"
	"strings"

	netv1 "k8s.io/api/networking/v1"

	"github.com/perimeter-dev/perimeter/reach"
)

// l4Blocks maps route kinds to their block types.
var l4Blocks = map[string]string{"TLSRoute": "tls_route", "TCPRoute": "tcp_route", "UDPRoute": "udp_route"}

// gatewayL4Routes imports existing TLSRoutes, TCPRoutes and UDPRoutes:
// each becomes a block on the listener of its first parent, with its
// backends (so perimeter's own output imports back into the same blocks).
// A route attached to no listener by name, or to a ListenerSet, cannot be
// written as one and is reported.
func (m *model) gatewayL4Routes() {
	routes, err := reach.L4RoutesOf(m.inL4Routes)
	if err != nil {
		for _, u := range m.inL4Routes {
			m.note(objectRef(u), "", Dropped, "cannot be read: %v.", err)
		}
		return
	}
	for i := range routes {
		m.gatewayL4Route(&routes[i])
	}
}

func (m *model) gatewayL4Route(r *reach.L4Route) {
	obj := r.Kind + " " + r.Namespace + "/" + r.Name
	if len(r.ParentRefs) == 0 || r.ParentRefs[0].SectionName == nil || (r.ParentRefs[0].Kind != nil && *r.ParentRefs[0].Kind != "Gateway") {
		m.note(obj, "spec.parentRefs", Dropped, "a %s attaches to a listener of the gateway by name (sectionName); this one names none, so it is not imported.", l4Blocks[r.Kind])
		return
	}
	p := r.ParentRefs[0]
	if pns := string(ptrOr(p.Namespace, r.Namespace)); pns != m.gwNS || string(p.Name) != m.gwName {
		m.note(obj, "spec.parentRefs[0]", Warning, "attached to Gateway %s/%s; the imported route attaches to %s/%s instead.", pns, p.Name, m.gwNS, m.gwName)
	}
	if len(r.ParentRefs) > 1 {
		m.note(obj, "spec.parentRefs", Dropped, "only the first parent is imported; attach the route to the others by hand.")
	}
	rt := &l4Route{kind: l4Blocks[r.Kind], name: r.Name, ns: r.Namespace, listener: string(*p.SectionName), comments: []string{"from " + obj}}
	for _, h := range r.Hostnames {
		rt.hostnames = append(rt.hostnames, string(h))
	}
	protocol := map[bool]string{true: "UDP", false: "TCP"}[r.Kind == "UDPRoute"]
	for i, b := range r.Backends {
		item := fmt.Sprintf("backendRefs[%d]", i)
		if (b.Group != nil && *b.Group != "") || (b.Kind != nil && *b.Kind != "Service") || b.Port == nil {
			m.note(obj, item, Dropped, "only Service backends with a port are expressible; not imported.")
			continue
		}
		svc := m.serviceBlock(obj, string(ptrOr(b.Namespace, r.Namespace)), string(b.Name), netv1.ServiceBackendPort{Number: int32(*b.Port)})
		if !m.l4Protocol(obj, item, svc, protocol) {
			continue
		}
		be := backend{svc: svc}
		if len(r.Backends) > 1 && b.Weight != nil {
			be.weight = *b.Weight
		}
		rt.backends = append(rt.backends, be)
	}
	if len(rt.backends) == 0 {
		m.note(obj, "", Dropped, "no backend could be imported.")
		return
	}
	m.namespace(r.Namespace)
	m.addL4(rt, r.Namespace+"/"+strings.ToLower(r.Kind)+"/"+r.Name)
	m.note(obj, "", Translated, "%s %q on listener %q.", rt.kind, rt.label, rt.listener)
}

// ptrOr is *p, or def when p is nil.
func ptrOr[T ~string](p *T, def string) T {
	if p == nil {
		return T(def)
	}
	return *p
}
