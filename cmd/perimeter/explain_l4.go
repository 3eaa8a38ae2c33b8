package main

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
	"github.com/perimeter-dev/perimeter/views"
)

// explainL4 answers explain --url for tls://, tcp:// and udp:// URLs: per
// gateway, the TLSRoute (by SNI), TCPRoute or UDPRoute serving a
// connection to the URL's port, and whether the data plane may reach each
// backend on its pod port and protocol. The URL's host is the SNI name for
// tls:// and only an address for tcp:// and udp://, which route by port.
func explainL4(out io.Writer, in *hclspec.Intent, w *reach.Intent, u *url.URL) error {
	kind := reach.L4Kind(u.Scheme)
	port, err := l4Port(u)
	if err != nil {
		return err
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		return errDiagnostics
	}
	routes, err := reach.L4RoutesOf(objs)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s://%s:%d\n", strings.ToLower(u.Scheme), u.Hostname(), port)
	for _, g := range in.Gateways {
		m, ok, viaSet := resolveOn(routes, g, kind, u.Hostname(), port)
		if writeL4Route(out, g, kind, u.Hostname(), port, m, ok, viaSet) {
			writeL4Backends(out, in, w, g, m.Route)
		}
	}
	return nil
}

// resolveOn finds the route serving a connection on gateway g. On a
// Gateway the stack does not own, the listeners of its listener sets are
// known (viaSet) and the Gateway's own are not.
func resolveOn(routes []reach.L4Route, g *hclspec.Gateway, kind, host string, port int32) (m reach.L4Match, ok, viaSet bool) {
	req := reach.L4Request{Kind: kind, Host: host, Listeners: l4Listeners(g, kind, port), Sets: setsOf(g)}
	if g.Manage == nil {
		req.Sets = nil // listeners unknown: only the Gateway's own routes are in doubt
		setReq := reach.L4Request{Kind: kind, Host: host, Listeners: setListeners(g, kind, port), Sets: setsOf(g), OnlySets: true}
		if sm, found := reach.ResolveL4(routes, g.Namespace, g.Name, setReq); found {
			return sm, true, true
		}
	}
	m, ok = reach.ResolveL4(routes, g.Namespace, g.Name, req)
	return m, ok, false
}

// writeL4Route says which route serves the connection on g, or why that
// is not known; it reports whether the route's backends are worth showing.
func writeL4Route(out io.Writer, g *hclspec.Gateway, kind, host string, port int32, m reach.L4Match, ok, viaSet bool) bool {
	switch {
	case !ok && kind == "TLSRoute":
		fmt.Fprintf(out, "  gateway.%s: no TLSRoute serves %s on port %d\n", g.Label, host, port)
		return false
	case !ok:
		fmt.Fprintf(out, "  gateway.%s: no %s serves port %d\n", g.Label, kind, port)
		return false
	case g.Manage == nil && !viaSet:
		fmt.Fprintf(out, "  gateway.%s: unknown, because its listeners are not managed by this stack, so whether %s %s/%s (listener %s) listens on port %d is not known\n",
			g.Label, kind, m.Route.Namespace, m.Route.Name, sections(m.Route, g), port)
	case len(m.Tied) > 0:
		fmt.Fprintf(out, "  gateway.%s: unknown, because %s all match and Gateway API gives the connection to the oldest, whose creation time the intent does not have\n",
			g.Label, routeNames(m.Tied))
		return false
	default:
		fmt.Fprintf(out, "  gateway.%s: %s %s/%s (%s)\n", g.Label, kind, m.Route.Namespace, m.Route.Name, m.Route.Annotations["perimeter.dev/source"])
	}
	return true
}

// l4Port is the URL's port: the given one, or 443 for tls://; tcp:// and
// udp:// have no default port to assume.
func l4Port(u *url.URL) (int32, error) {
	if u.Port() == "" {
		if strings.EqualFold(u.Scheme, "tls") {
			return 443, nil
		}
		return 0, fmt.Errorf("--url %q: give the port, such as %s://%s:5432", u.String(), strings.ToLower(u.Scheme), u.Hostname())
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("--url %q: the port must be a number from 1 to 65535", u.String())
	}
	return int32(p), nil
}

// l4Listeners picks the listeners of a managed gateway carrying the route
// kind on port; nil (every listener) for a gateway the stack does not
// manage, whose listeners it does not know.
func l4Listeners(g *hclspec.Gateway, kind string, port int32) []string {
	if g.Manage == nil {
		return nil
	}
	listeners := slices.Clone(g.Manage.Listeners)
	for _, ls := range g.ListenerSets {
		listeners = append(listeners, ls.Listeners...)
	}
	out := []string{}
	for _, l := range listeners {
		if l.Port != port {
			continue
		}
		for _, k := range hclspec.ListenerKinds[l.Protocol] {
			if k == kind {
				out = append(out, l.Name)
			}
		}
	}
	return out
}

// setListeners picks the listeners of the gateway's listener sets carrying
// the route kind on port.
func setListeners(g *hclspec.Gateway, kind string, port int32) []string {
	out := []string{}
	for _, ls := range g.ListenerSets {
		for _, l := range ls.Listeners {
			if l.Port == port && slices.Contains(hclspec.ListenerKinds[l.Protocol], kind) {
				out = append(out, l.Name)
			}
		}
	}
	return out
}

// setsOf names the gateway's listener sets as namespace/name.
func setsOf(g *hclspec.Gateway) []string {
	var out []string
	for _, ls := range g.ListenerSets {
		out = append(out, ls.Namespace+"/"+ls.Name)
	}
	return out
}

func sections(r *reach.L4Route, g *hclspec.Gateway) string {
	var out []string
	for _, p := range r.ParentRefs {
		if string(p.Name) == g.Name && p.SectionName != nil {
			out = append(out, string(*p.SectionName))
		}
	}
	if len(out) == 0 {
		return "any"
	}
	return strings.Join(out, ", ")
}

func routeNames(rs []*reach.L4Route) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+" "+r.Namespace+"/"+r.Name)
	}
	return strings.Join(out, ", ")
}

func writeL4Backends(out io.Writer, in *hclspec.Intent, w *reach.Intent, g *hclspec.Gateway, r *reach.L4Route) {
	for _, b := range r.Backends {
		s := backendService(in, r.Namespace, b)
		if s == nil {
			fmt.Fprintf(out, "    -> %s: not a service of this intent\n", b.Name)
			continue
		}
		e := hclspec.Endpoint{Kind: hclspec.EndpointService, Service: s, Namespace: s.Namespace}
		ports, _ := reach.PortsFor(hclspec.PortSpec{}, e)
		to, _ := w.Peer(e)
		v := w.Evaluate(w.GatewayPeer(g), to, ports.Ports()[0])
		fmt.Fprintf(out, "    -> service.%s (weight %d) on %s: %s\n       %s\n", s.Label, weightOf(b), v.Port, views.Verdict(v),
			views.ReachReason(w.Engine, v))
	}
}

func weightOf(b gwv1.BackendRef) int32 {
	if b.Weight != nil {
		return *b.Weight
	}
	return 1
}
