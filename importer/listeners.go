package importer

import (
	"strconv"

	netv1 "k8s.io/api/networking/v1"
)

// placeHost attaches the route of one Ingress host to the listener that
// serves it as ingress-nginx did, and reports which one. A host no Ingress
// has TLS for was served over plain HTTP: moving it to the
// HTTPS listener would break every http:// client, so it goes to the
// plain-HTTP listener. A host with TLS, or one force-ssl-redirect sends to
// HTTPS, stays on the listener the routes attach to. gRPC stays there too:
// ingress-nginx speaks HTTP/2, which gRPC needs, only over TLS.
func (m *model) placeHost(in *netv1.Ingress, rt *route, host string, r redirectHosts, grpc bool) {
	item := "host " + host
	if host == "" {
		item = "default backend"
	}
	label := strconv.Quote(rt.label)
	switch {
	case grpc || r.force || r.tlsCovers(host):
		why := "the host has TLS (a TLS section of this or another Ingress for it)"
		if !r.tlsCovers(host) {
			why = map[bool]string{true: "gRPC needs HTTP/2, which ingress-nginx serves only over TLS", false: "force-ssl-redirect sends its plain-HTTP requests to HTTPS"}[grpc]
		}
		m.note(ref(in), item, Translated, "route %s is on %s: %s.", label, m.listenerText(), why)
	case m.httpListener == "":
		m.note(ref(in), item, Warning, "no Ingress has TLS for it, so ingress-nginx served it over plain HTTP; the gateway's plain-HTTP listener is unknown, so route %s is on %s. If that is not plain HTTP, http:// clients are cut off: import again with --http-listener NAME (or with the Gateway object in the input).", label, m.listenerText())
	case m.gwListener == "" || m.httpListener == m.gwListener:
		m.note(ref(in), item, Translated, "route %s is on %s, which includes plain-HTTP listener %q: no Ingress has TLS for it, so ingress-nginx served it over plain HTTP.", label, m.listenerText(), m.httpListener)
	default:
		rt.listener = m.httpListener
		m.note(ref(in), item, Translated, "route %s is on plain-HTTP listener %q, not %s: no Ingress has TLS for it, so ingress-nginx served it over plain HTTP (add a TLS section to serve it over HTTPS).", label, m.httpListener, m.listenerText())
	}
}
