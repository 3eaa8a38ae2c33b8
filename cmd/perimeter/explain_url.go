package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
	"github.com/perimeter-dev/perimeter/views"
)

// explainURL prints, for each gateway of the intent, which HTTPRoute rule
// answers the request and whether the gateway's data plane may reach each
// of its backends on the backend's pod port.
func explainURL(out io.Writer, in *hclspec.Intent, w *reach.Intent, rawURL, method string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--url %q: want an absolute URL such as https://api.example.com/users, tls://db.example.com or tcp://gateway:5432", rawURL)
	}
	if reach.L4Kind(u.Scheme) != "" {
		return explainL4(out, in, w, u)
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		return errDiagnostics
	}
	routes, err := reach.HTTPRoutesOf(objs)
	if err != nil {
		return err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	req := reach.Request{Host: u.Hostname(), Path: path, Method: method}
	fmt.Fprintf(out, "%s %s://%s%s\n", method, u.Scheme, u.Host, req.Path)
	for _, g := range in.Gateways {
		req.Listeners = listenersFor(g, u)
		m, ok := reach.ResolveHTTP(routes, g.Namespace, g.Name, req)
		if !ok {
			fmt.Fprintf(out, "  gateway.%s: no route answers\n", g.Label)
			continue
		}
		fmt.Fprintf(out, "  gateway.%s: HTTPRoute %s/%s rule %d (%s)\n", g.Label, m.Route.Namespace, m.Route.Name, m.Rule,
			m.Route.Annotations["perimeter.dev/source"])
		writeBackends(out, in, w, g, m)
	}
	return nil
}

func writeBackends(out io.Writer, in *hclspec.Intent, w *reach.Intent, g *hclspec.Gateway, m reach.RouteMatch) {
	for _, f := range m.Route.Spec.Rules[m.Rule].Filters {
		if c := f.CORS; f.Type == gwv1.HTTPRouteFilterCORS && c != nil {
			var origins []string
			for _, o := range c.AllowOrigins {
				origins = append(origins, string(o))
			}
			fmt.Fprintf(out, "    CORS: the gateway answers cross-origin requests from %s\n", strings.Join(origins, ", "))
		}
	}
	if len(m.Backends()) == 0 {
		fmt.Fprintln(out, "    no backend: the rule redirects")
		return
	}
	for _, b := range m.Backends() {
		s := backendService(in, m.Route.Namespace, b.BackendRef)
		if s == nil {
			fmt.Fprintf(out, "    -> %s: not a service of this intent\n", b.Name)
			continue
		}
		weight := int32(1)
		if b.Weight != nil {
			weight = *b.Weight
		}
		e := hclspec.Endpoint{Kind: hclspec.EndpointService, Service: s, Namespace: s.Namespace}
		ports, _ := reach.PortsFor(hclspec.PortSpec{}, e)
		to, _ := w.Peer(e)
		v := w.Evaluate(w.GatewayPeer(g), to, ports.Ports()[0])
		fmt.Fprintf(out, "    -> service.%s (weight %d) on %s: %s\n       %s\n", s.Label, weight, v.Port, views.Verdict(v),
			views.ReachReason(w.Engine, v))
		if t := s.BackendTLS; t != nil {
			ca := "the CA in ConfigMap " + strings.Join(t.CACertificates, ", ")
			if t.WellKnownCA != "" {
				ca = "a " + t.WellKnownCA + " CA"
			}
			fmt.Fprintf(out, "       TLS to the pods: the certificate must name %s and be signed by %s\n", t.Hostname, ca)
		}
	}
}

// listenersFor picks the listeners of a gateway perimeter manages that a
// URL arrives on, by scheme and port; nil (every listener) otherwise.
func listenersFor(g *hclspec.Gateway, u *url.URL) []string {
	if g.Manage == nil {
		return nil
	}
	port := map[string]int32{"http": 80, "https": 443}[u.Scheme]
	if p, err := strconv.Atoi(u.Port()); err == nil {
		port = int32(p)
	}
	out := []string{}
	for _, l := range g.Manage.Listeners {
		if strings.EqualFold(l.Protocol, u.Scheme) && l.Port == port {
			out = append(out, l.Name)
		}
	}
	return out
}

// backendService finds the intent's service a backendRef names.
func backendService(in *hclspec.Intent, routeNS string, ref gwv1.BackendRef) *hclspec.Service {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	for _, s := range in.Services {
		if s.Name == string(ref.Name) && s.Namespace == ns {
			return s
		}
	}
	return nil
}
